"""tfhash-index / tfhash-search on a folder of images, resumable and incremental, with
a workdir or an export as the encoder; the Milvus backend against Milvus Lite."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tests.conftest import restored, tiny_config
from tfhash import export, retrieval
from tfhash.data import preprocess
from tfhash.search import FileEncoder, LocalCollection
from tfhash.search import index_main
from tfhash.training import loop


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("search")
    workdir = root / "run"
    config = tiny_config(**{"train.epochs": 1})
    loop.train_and_evaluate(config, str(workdir))
    model, source, split, _ = restored(config, str(workdir))
    photos = root / "photos"
    for i, item in enumerate(split.database[:30]):
        folder = photos / "a" if i % 2 else photos / "b" / "deep"
        folder.mkdir(parents=True, exist_ok=True)
        image = np.repeat(np.repeat(source.array[item], 2, axis=0), 2, axis=1)  # 64 px
        Image.fromarray(image).save(folder / f"{i:02d}.png")
    (photos / "a" / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    exported = export.export(model, str(root / "export"))
    return {"root": root, "workdir": str(workdir), "photos": str(photos), "model": model,
            "export": exported}


def reference_codes(model, paths):
    encoder = model.encoders()["image"]
    images = np.stack([preprocess.resize(preprocess.read_file(p), 16).numpy() for p in paths])
    return retrieval.pack_codes(encoder.encode(images)).numpy()


def run_cli(module, *args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True,
                          timeout=600, env=env)


def test_index_a_folder_then_search_it(trained):
    index_path = str(trained["root"] / "index")
    result = run_cli("tfhash.search.index_main", f"--workdir={trained['workdir']}",
                     f"--images={trained['photos']}", f"--index={index_path}", "--batch_size=8")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "indexed 30 new items" in result.stdout and "1 unreadable: a/broken.jpg" in result.stdout
    collection = LocalCollection(index_path)
    codes, ids, keys = collection.load()
    assert len(keys) == 30 and sorted(ids.tolist()) == list(range(30))
    assert collection.meta["skipped"] == ["a/broken.jpg"]
    paths = [os.path.join(trained["photos"], k) for k in keys]
    np.testing.assert_array_equal(codes, reference_codes(trained["model"], paths))
    # search with two of the indexed files: each finds itself at distance 0
    queries = paths[:2]
    result = run_cli("tfhash.search.search_main", f"--index={index_path}", "--k=5", "--json", *queries)
    assert result.returncode == 0, result.stderr[-2000:]
    found = json.loads(result.stdout)
    index = retrieval.HammingIndex(12)
    index.add(codes, ids)
    ref_d, ref_i = index.search(reference_codes(trained["model"], queries), 5)
    for entry, d_row, i_row in zip(found, ref_d, ref_i):
        assert [h["distance"] for h in entry["results"]] == d_row.tolist()
        assert [h["id"] for h in entry["results"]] == i_row.tolist()
        assert entry["results"][0]["distance"] == 0
        assert entry["results"][0]["path"] == keys[int(i_row[0])]
    text = run_cli("tfhash.search.search_main", f"--index={index_path}", "--radius=1", queries[0])
    assert text.returncode == 0 and "d=  0" in text.stdout
    # every search path of the index gives the same answer: --mode reaches the index
    # (the CLI's mode, the multi-index tables, once through a process), and the
    # collection's linear index agrees
    again = run_cli("tfhash.search.search_main", f"--index={index_path}", "--k=5", "--json",
                    "--mode=multi_index", *queries)
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads(again.stdout) == found
    linear, _ = collection.index("linear")
    d, i = linear.search(reference_codes(trained["model"], queries), 5)
    assert [[h["id"] for h in entry["results"]] for entry in found] == i.tolist()
    assert [[h["distance"] for h in entry["results"]] for entry in found] == d.tolist()
    bad = run_cli("tfhash.search.search_main", f"--index={index_path}", "--mode=fast", queries[0])
    assert bad.returncode != 0 and "--mode" in bad.stderr and "Traceback" not in bad.stderr
    missing = run_cli("tfhash.search.search_main", f"--index={index_path}", "no_such.png")
    assert missing.returncode == 1 and "cannot read the query image" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_interrupted_and_incremental_indexing(trained, tmp_path, monkeypatch):
    encoder = FileEncoder(workdir=trained["workdir"])
    keys, files, source = index_main.collection_items(trained["photos"])
    store = index_main.Store(encoder, index=str(tmp_path / "index"))
    calls = []
    original = store.add

    def add_then_die(codes, batch_keys):
        original(codes, batch_keys)
        calls.append(len(batch_keys))
        if len(calls) == 2:
            raise KeyboardInterrupt("killed after two batches")

    monkeypatch.setattr(store, "add", add_then_die)
    with pytest.raises(KeyboardInterrupt):
        index_main.index_collection(encoder, keys, files, source, store, batch_size=7)
    assert len(LocalCollection(str(tmp_path / "index")).load()[2]) == 14
    store = index_main.Store(encoder, index=str(tmp_path / "index"))
    added, present, skipped = index_main.index_collection(encoder, keys, files, source, store, 7)
    assert (added, present, skipped) == (16, 14, ["a/broken.jpg"])
    # what the resumed run wrote: each readable file once, under its own code
    codes, ids, stored = LocalCollection(str(tmp_path / "index")).load()
    assert sorted(stored) == sorted(k for k in keys if k != "a/broken.jpg")
    assert sorted(ids.tolist()) == list(range(30))
    paths = [os.path.join(trained["photos"], k) for k in stored]
    np.testing.assert_array_equal(codes, reference_codes(trained["model"], paths))
    # new files later: only those are encoded
    Image.fromarray(np.zeros((20, 20, 3), np.uint8)).save(os.path.join(trained["photos"], "new.png"))
    keys, files, source = index_main.collection_items(trained["photos"])
    store = index_main.Store(encoder, index=str(tmp_path / "index"))
    added, present, _ = index_main.index_collection(encoder, keys, files, source, store, 7)
    assert (added, present) == (1, 30)
    codes, ids, all_keys = LocalCollection(str(tmp_path / "index")).load()
    assert len(set(ids.tolist())) == 31 and "new.png" in all_keys
    os.unlink(os.path.join(trained["photos"], "new.png"))
    with pytest.raises(ValueError, match="another encoder or code length"):
        LocalCollection.create(str(tmp_path / "index"), 24, encoder.describe())


def test_export_encodes_files_exactly_like_the_workdir(trained):
    paths = [os.path.join(trained["photos"], "a", f"{i:02d}.png") for i in (1, 3, 5)]
    by_workdir, ok = FileEncoder(workdir=trained["workdir"]).encode_files(paths)
    by_export, ok2 = FileEncoder(export=trained["export"]).encode_files(paths + ["missing.png"])
    assert ok.all() and ok2.tolist() == [True, True, True, False]
    np.testing.assert_array_equal(by_workdir, by_export)
    assert FileEncoder(export=trained["export"]).bits == 12
    with pytest.raises(ValueError, match="not a SavedModel"):
        FileEncoder(export=trained["photos"])


def test_plain_sources_and_bad_input(trained, tmp_path):
    keys, files, source = index_main.collection_items("digits")
    assert len(keys) == 1797 and files is None and source is not None
    encoder = FileEncoder(workdir=trained["workdir"])
    store = index_main.Store(encoder, index=str(tmp_path / "digits"))
    subset = keys[:20]
    added, _, _ = index_main.index_collection(encoder, subset, None, source, store, 8)
    codes, _, stored = LocalCollection(str(tmp_path / "digits")).load()
    assert added == 20 and stored == subset
    images = np.stack(list(source.images(np.arange(20)).as_numpy_iterator()))
    np.testing.assert_array_equal(codes, encoder.encode_pixels(images))
    with pytest.raises(ValueError, match="no image files"):
        index_main.collection_items(str(tmp_path / "digits"))
    result = run_cli("tfhash.search.index_main", f"--workdir={trained['workdir']}",
                     f"--images={trained['photos']}", f"--index={trained['photos']}/a/01.png")
    assert result.returncode == 1 and "is a file, not a folder" in result.stderr


@pytest.fixture
def milvus_uri(tmp_path):
    pytest.importorskip("pymilvus")
    pytest.importorskip("milvus_lite")
    return str(tmp_path / "milvus.db")


def test_milvus_index_matches_hamming_index(milvus_uri, rng):
    matches_hamming_index(milvus_uri, rng)


def matches_hamming_index(milvus_uri, rng, collection="codes"):
    """MilvusIndex at `milvus_uri` (Milvus Lite or a server) against HammingIndex:
    search, range search, paths, remove, update, length, a reopened index, and the
    dimension check. Used by tests/test_milvus_server.py too."""
    from tfhash.retrieval.milvus import MilvusIndex

    codes = rng.integers(0, 4, size=(300, 4), dtype=np.uint8)  # 32 bits, many ties
    ids = np.arange(1000, 1300)
    milvus_index = MilvusIndex(milvus_uri, collection, 32)
    milvus_index.add(codes, ids, [f"item{i}" for i in ids])
    reference = retrieval.HammingIndex(32)
    reference.add(codes, ids)
    queries = rng.integers(0, 4, size=(5, 4), dtype=np.uint8)
    d_m, i_m = milvus_index.search(queries, 10)
    d_r, i_r = reference.search(queries, 10)
    np.testing.assert_array_equal(d_m, d_r)  # the same distances, ids equal up to ties
    for row in range(5):
        last = d_r[row, -1]
        np.testing.assert_array_equal(i_m[row][d_m[row] < last], i_r[row][d_r[row] < last])
        distances_of = dict(zip(ids.tolist(), retrieval.hamming_distance(
            queries[row:row + 1], codes).numpy()[0].tolist()))
        assert all(distances_of[int(i)] == last for i in i_m[row][d_m[row] == last])
    lims, d, found = milvus_index.range_search(queries, 3)
    ref_lims, ref_d, ref_found = reference.range_search(queries, 3)
    np.testing.assert_array_equal(lims, ref_lims)
    np.testing.assert_array_equal(d, ref_d)
    assert set(found.tolist()) == set(ref_found.tolist())
    assert milvus_index.paths([1005, 1002]) == ["item1005", "item1002"]
    milvus_index.remove(i_m[0][:3])
    again = milvus_index.search(queries[:1], 10)[1][0]
    assert not set(i_m[0][:3].tolist()) & set(again.tolist())
    # update by id: the query's own code under an existing id and a new one
    milvus_index.update(queries[:1].repeat(2, 0), [1100, 5000], ["moved", "new"])
    d_u, i_u = milvus_index.search(queries[:1], 2)
    assert set(i_u[0].tolist()) == {1100, 5000} and d_u[0].tolist() == [0, 0]
    assert milvus_index.paths([1100, 5000]) == ["moved", "new"]
    assert len(milvus_index) == 300 - 3 + 1
    # reopened (a new client): the same rows, the same answers as HammingIndex after
    # the same removals and updates
    reference.remove(i_m[0][:3])
    reference.update(queries[:1].repeat(2, 0), [1100, 5000])
    reopened = MilvusIndex(milvus_uri, collection, 32)
    assert len(reopened) == len(reference) == 298
    d_o, i_o = reopened.search(queries, 5)
    d_r, i_r = reference.search(queries, 5)
    np.testing.assert_array_equal(d_o, d_r)
    for row in range(5):  # ids equal below the 5th distance (ties at it in any order)
        np.testing.assert_array_equal(i_o[row][d_o[row] < d_r[row, -1]],
                                      i_r[row][d_r[row] < d_r[row, -1]])
    with pytest.raises(ValueError, match="holds codes of 32 dimensions, not 64"):
        MilvusIndex(milvus_uri, collection, 64)


def test_index_and_search_with_milvus_and_client_search(trained, milvus_uri):
    from tests import serving_double
    from tfhash.retrieval.milvus import MilvusIndex
    from tfhash.serving import Client

    result = run_cli("tfhash.search.index_main", f"--workdir={trained['workdir']}",
                     f"--images={trained['photos']}", "--backend=milvus", f"--uri={milvus_uri}",
                     "--collection=photos")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "indexed 30 new items" in result.stdout
    query = os.path.join(trained["photos"], "a", "01.png")
    found = run_cli("tfhash.search.search_main", "--backend=milvus", f"--uri={milvus_uri}",
                    "--collection=photos", "--k=3", "--json", query)
    assert found.returncode == 0, found.stderr[-2000:]
    hits = json.loads(found.stdout)[0]["results"]
    assert hits[0]["distance"] == 0 and hits[0]["path"] == "a/01.png"
    # the production shape: the encoder served by TF Serving, the codes in Milvus
    server, port = serving_double.serve({"tfhash": os.path.dirname(trained["export"])})
    try:
        client = Client(f"127.0.0.1:{port}", "tfhash", timeout=30)
        with open(query, "rb") as f:
            blob = f.read()
        index = MilvusIndex(milvus_uri, "photos", 12)
        distances, ids = client.search([blob], index, k=3)
        assert distances[0, 0] == 0 and index.paths(ids[0][:1]) == ["a/01.png"]
        pixels = np.asarray(Image.open(query).convert("RGB"))[None]
        np.testing.assert_array_equal(client.search(pixels, index, k=3)[0], distances)
    finally:
        server.stop(None)
