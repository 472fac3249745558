"""The Beam pipeline (tfhash.search.beam) with a local runner on generated images:
codes equal tfhash-index's for the same export, bit for bit; a rerun writes nothing
twice; unreadable files are listed, not fatal; Milvus rows by the same ids."""

import os
import subprocess
import sys

import numpy as np
import pytest

from tests.test_search import trained  # noqa: F401  (the module's trained run and export)

pytest.importorskip("apache_beam", reason="apache-beam is not installed (pip install 'tfhash[beam]')")


def run_beam(*args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run([sys.executable, "-m", "tfhash.search.beam", *args],
                          capture_output=True, text=True, timeout=600, env=env)


def test_beam_codes_equal_tfhash_index_and_a_rerun_writes_nothing(trained, tmp_path):  # noqa: F811
    from tfhash.search import FileEncoder, LocalCollection, beam

    output = tmp_path / "codes"
    result = run_beam(f"--export={trained['export']}", f"--images={trained['photos']}",
                      f"--output={output}", "--batch_size=7", "--runner=DirectRunner")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "31 items, 0 already indexed" in result.stdout
    assert "encoded 30 new items" in result.stdout and "1 unreadable: a/broken.jpg" in result.stdout
    codes, ids, keys, unreadable = beam.read_shards(str(output))
    assert len(keys) == 30 and unreadable == ["a/broken.jpg"]
    assert ids.tolist() == sorted(beam.item_id(k) for k in keys)
    assert len(set(ids.tolist())) == 30 and (ids >= 0).all()
    # tfhash-index with the same export: the same code for every file
    index_path = str(tmp_path / "index")
    done = subprocess.run([sys.executable, "-m", "tfhash.search.index_main",
                           f"--export={trained['export']}", f"--images={trained['photos']}",
                           f"--index={index_path}"], capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert done.returncode == 0, done.stderr[-2000:]
    by_index = dict(zip(LocalCollection(index_path).load()[2],
                        LocalCollection(index_path).load()[0]))
    for key, code in zip(keys, codes):
        np.testing.assert_array_equal(code, by_index[key], err_msg=key)
    # and the export's own file encoder (the served model's encode_jpeg)
    direct, ok = FileEncoder(export=trained["export"]).encode_files(
        [os.path.join(trained["photos"], k) for k in keys])
    np.testing.assert_array_equal(codes, direct)
    shards = sorted(os.listdir(output))
    # a rerun over the same input writes nothing; one new file is all a later run adds
    again = run_beam(f"--export={trained['export']}", f"--images={trained['photos']}",
                     f"--output={output}", "--runner=DirectRunner")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "31 items, 31 already indexed or listed unreadable, 0 to encode" in again.stdout
    assert sorted(os.listdir(output)) == shards
    extra = os.path.join(trained["photos"], "b", "deep", "04.png")
    new_dir = tmp_path / "photos_plus"
    import shutil

    shutil.copytree(trained["photos"], new_dir)
    shutil.copy(extra, new_dir / "new.png")
    more = run_beam(f"--export={trained['export']}", f"--images={new_dir}",
                    f"--output={output}", "--runner=DirectRunner")
    assert more.returncode == 0, more.stderr[-3000:]
    assert "32 items, 31 already indexed or listed unreadable, 1 to encode" in more.stdout
    codes2, ids2, keys2, _ = beam.read_shards(str(output))
    assert len(keys2) == 31 and len(os.listdir(output)) == len(shards) + 1
    np.testing.assert_array_equal(codes2[keys2.index("new.png")], codes[keys.index("b/deep/04.png")])


def test_beam_list_file_pattern_and_milvus(trained, tmp_path):  # noqa: F811
    pytest.importorskip("milvus_lite")
    from tfhash.retrieval.milvus import MilvusIndex
    from tfhash.search import beam

    files = sorted(os.path.join(r, n) for r, _, ns in os.walk(trained["photos"]) for n in ns)
    listing = tmp_path / "files.txt"
    listing.write_text("".join(f + "\n" for f in files[:6]))
    assert [k for k, _ in beam.list_items(str(listing))] == sorted(files[:6])
    pattern = os.path.join(trained["photos"], "a", "*.png")
    assert [p for _, p in beam.list_items(pattern)] == sorted(
        os.path.join(trained["photos"], "a", n) for n in os.listdir(os.path.join(trained["photos"], "a"))
        if n.endswith(".png"))
    uri = str(tmp_path / "milvus.db")
    result = run_beam(f"--export={trained['export']}", f"--images={listing}",
                      f"--output={tmp_path / 'codes'}", f"--milvus_uri={uri}",
                      "--collection=photos", "--runner=DirectRunner")
    assert result.returncode == 0, result.stderr[-3000:]
    codes, ids, keys, _ = beam.read_shards(str(tmp_path / "codes"))
    index = MilvusIndex(uri, "photos", 12)
    assert len(index) == len(keys) == 6
    assert index.paths(ids.tolist()) == keys
    distances, found = index.search(codes, 1)
    np.testing.assert_array_equal(distances[:, 0], 0)
    for bad, message in (([f"--images={tmp_path / 'nothing*.png'}"], "matches no file"),
                         (["--batch_size=0", f"--images={listing}"], "--batch_size must be")):
        with pytest.raises(ValueError, match=message):
            beam.run([f"--export={trained['export']}", f"--output={tmp_path / 'x'}", *bad])
    with pytest.raises(ValueError, match="not an image model exported"):
        beam.run([f"--export={trained['photos']}", f"--images={listing}",
                  f"--output={tmp_path / 'y'}"])
