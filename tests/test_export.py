"""SavedModel export: signatures, stock ops only, loadable without tfhash."""

import io
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tests.conftest import restored, tiny_config
from tfhash import export, retrieval
from tfhash.data import preprocess
from tfhash.training import loop


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("run")
    config = tiny_config(**{"train.epochs": 1})
    loop.train_and_evaluate(config, str(workdir))
    model, source, split, _ = restored(config, str(workdir))
    codes = np.load(workdir / "codes.npz")
    return model, source, split, codes, workdir


def fresh_python(code):
    """Runs code in a new interpreter that must never import tfhash."""
    guard = "import sys\n" + code + "\nassert not any(m.startswith('tfhash') for m in sys.modules)\n"
    result = subprocess.run([sys.executable, "-c", guard], capture_output=True, text=True,
                            timeout=600, cwd="/", env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_versions_are_atomic_and_never_overwritten(trained, tmp_path):
    model = trained[0]
    first = export.export(model, str(tmp_path))
    second = export.export(model, str(tmp_path))
    assert first.endswith("/1") and second.endswith("/2")
    with pytest.raises(ValueError, match="already exists"):
        export.export(model, str(tmp_path), version=1)
    assert sorted(os.listdir(tmp_path)) == ["1", "2"]  # no temporary folder left


def test_signatures_match_the_model_in_a_process_without_tfhash(trained, tmp_path):
    model, source, split, codes, _ = trained
    db_items = codes["db_items"]
    path = export.export(model, str(tmp_path), databases={"image": (codes["db_codes"], db_items)},
                         warmup_images=source.array[:2])
    # three sizes: the model's 16 px (no resize), 32 px (downsampled), 21 x 27 (odd, not
    # square); each size is one encode_images batch
    base = source.array[split.query[:5]]
    big = np.repeat(np.repeat(base, 2, axis=1), 2, axis=2)
    groups = {"s16": base, "s32": big, "odd": np.ascontiguousarray(big[:, 3:24, 1:28])}
    np.savez(tmp_path / "groups.npz", **groups)
    blobs = []  # every image as PNG and as JPEG
    for group in groups.values():
        for image in group:
            for fmt in ("PNG", "JPEG"):
                buffer = io.BytesIO()
                Image.fromarray(image).save(buffer, format=fmt)
                blobs.append(buffer.getvalue())
    np.save(tmp_path / "blobs.npy", np.array(blobs, dtype=object), allow_pickle=True)
    out = fresh_python(f"""
import json, numpy as np, tensorflow as tf
m = tf.saved_model.load({path!r})
groups = dict(np.load({str(tmp_path / 'groups.npz')!r}))
blobs = np.load({str(tmp_path / 'blobs.npy')!r}, allow_pickle=True).tolist()
out = {{"sigs": sorted(m.signatures), "codes": {{}}, "emb": {{}}, "default": {{}}}}
for name, images in groups.items():
    a = m.signatures["encode_images"](images=tf.constant(images))
    out["codes"][name] = a["codes"].numpy().tolist()
    out["emb"][name] = a["embedding"].numpy().tolist()
    out["default"][name] = m.signatures["serving_default"](images=tf.constant(images))["codes"].numpy().tolist()
out["jpeg"] = m.signatures["encode_jpeg"](images=tf.constant(blobs))["codes"].numpy().tolist()
s = m.signatures["search"](images=tf.constant(groups["s32"]), k=tf.constant(4))
out["ids"], out["dist"] = s["ids"].numpy().tolist(), s["distances"].numpy().tolist()
print(json.dumps(out))
""")
    result = json.loads(out.strip().splitlines()[-1])
    assert result["sigs"] == ["encode_images", "encode_jpeg", "search", "serving_default"]
    encoder = model.encoders()["image"]

    def model_codes(images):  # the model's own image encoder after the one preprocessing
        prepared = preprocess.resize(images, 16)
        return retrieval.pack_codes(encoder.encode(prepared)).numpy(), encoder.embed(prepared).numpy()

    for name, images in groups.items():
        expected, embedding = model_codes(images)
        np.testing.assert_array_equal(np.array(result["codes"][name], np.uint8), expected)
        np.testing.assert_array_equal(np.array(result["default"][name], np.uint8), expected)
        np.testing.assert_allclose(np.array(result["emb"][name]), embedding, rtol=1e-6, atol=1e-6)
    decoded = [preprocess.decode_and_resize(tf.constant(blob), 16) for blob in blobs]
    expected_bytes = retrieval.pack_codes(encoder.encode(tf.stack(decoded))).numpy()
    np.testing.assert_array_equal(np.array(result["jpeg"], np.uint8), expected_bytes)
    # PNG is lossless: its codes are those of the pixels themselves
    np.testing.assert_array_equal(expected_bytes[0::2], np.concatenate(
        [model_codes(g)[0] for g in groups.values()]))
    expected = model_codes(groups["s32"])[0]
    index = retrieval.HammingIndex(model.bits)
    index.add(codes["db_codes"], ids=db_items)
    ref_d, ref_ids = index.search(expected, 4)
    np.testing.assert_array_equal(np.array(result["dist"]), ref_d)
    np.testing.assert_array_equal(np.array(result["ids"]), ref_ids)
    warmup = os.path.join(path, "assets.extra", "tf_serving_warmup_requests")
    try:
        from tensorflow_serving.apis import prediction_log_pb2
    except ImportError:  # without tfhash[serving] no warm-up file is written
        assert not os.path.exists(warmup)
        return
    records = [prediction_log_pb2.PredictionLog.FromString(r.numpy())
               for r in tf.data.TFRecordDataset(warmup)]
    assert len(records) == 2
    assert records[0].predict_log.request.model_spec.signature_name == "encode_images"
    sent = tf.make_ndarray(records[0].predict_log.request.inputs["images"])
    np.testing.assert_array_equal(sent, source.array[:1])


def test_exported_graphs_use_stock_ops_only(trained, tmp_path):
    path = export.export(trained[0], str(tmp_path),
                         databases={"image": (trained[3]["db_codes"], trained[3]["db_items"])})
    out = fresh_python(f"""
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow.python.framework import op_def_registry
import tensorflow as tf
sm = saved_model_pb2.SavedModel()
sm.ParseFromString(open({os.path.join(path, 'saved_model.pb')!r}, 'rb').read())
ops = set()
for mg in sm.meta_graphs:
    ops |= {{n.op for n in mg.graph_def.node}}
    for f in mg.graph_def.library.function:
        ops |= {{n.op for n in f.node_def}}
functions = {{f.signature.name for mg in sm.meta_graphs for f in mg.graph_def.library.function}}
unknown = sorted(op for op in ops if op not in functions and op_def_registry.get(op) is None)
print(len(ops), unknown)
""")
    count, unknown = out.strip().split(" ", 1)
    assert int(count) > 20 and unknown == "[]", out


def test_embedding_examples(trained, tmp_path):
    model, source, split, codes, _ = trained
    path = export.export(model, str(tmp_path))
    loaded = tf.saved_model.load(path)  # keep a reference: the signature uses its variables
    encoder = loaded.signatures["encode_images"]
    images = source.array[split.query[:6]]
    # 1. inside a tf.data pipeline
    dataset = tf.data.Dataset.from_tensor_slices(images).batch(4).map(
        lambda batch: encoder(images=batch)["codes"])
    from_pipeline = np.concatenate(list(dataset.as_numpy_iterator()))
    # 2. as a layer of another Keras model
    inputs = keras.Input(shape=(None, None, 3), dtype="uint8")
    outputs = keras.layers.TFSMLayer(path, call_endpoint="encode_images")(inputs)["codes"]
    from_layer = keras.Model(inputs, outputs).predict(images, verbose=0)
    # 3. a HammingIndex over exported codes
    index = retrieval.HammingIndex(model.bits)
    index.add(from_pipeline)
    distances, ids = index.search(from_layer, 1)
    np.testing.assert_array_equal(from_pipeline, from_layer)
    assert distances[:, 0].tolist() == [0] * 6 and ids[:, 0].tolist() == [
        int(np.flatnonzero((from_pipeline == row).all(1))[0]) for row in from_layer]


def test_export_cli(trained, tmp_path):
    workdir = trained[4]
    result = subprocess.run(
        [sys.executable, "-m", "tfhash.export.export_main", f"--workdir={workdir}",
         f"--export_dir={tmp_path}", "--with_index"],
        capture_output=True, text=True, timeout=600, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"exported {tmp_path}/1" in result.stdout
    again = subprocess.run(
        [sys.executable, "-m", "tfhash.export.export_main", f"--workdir={workdir}",
         f"--export_dir={tmp_path}", "--version=1"],
        capture_output=True, text=True, timeout=600, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert again.returncode == 1 and "already exists" in again.stderr and "Traceback" not in again.stderr


def test_export_codes_equal_the_reports_on_resized_images(tmp_path):
    """On a folder whose images all need resizing (none is 16 x 16), the exported
    model's codes of the raw files (`encode_jpeg`) and of their raw pixels
    (`encode_images`, any size) equal the codes evaluation wrote to codes.npz: one
    preprocessing, whichever path an image takes."""
    rng = np.random.default_rng(3)
    sizes = [(23, 31), (40, 40), (11, 19), (64, 48)]
    for c in range(3):
        os.makedirs(tmp_path / "photos" / f"class{c}")
        for i in range(12):
            h, w = sizes[i % len(sizes)]
            image = rng.integers(0, 60, size=(h, w, 3)).astype(np.uint8)
            image[..., c] += 150  # the class is the dominant colour
            Image.fromarray(image).save(tmp_path / "photos" / f"class{c}" / f"{i:02d}.png")
    config = tiny_config(**{"data.source": f"folder:{tmp_path / 'photos'}", "train.epochs": 1,
                            "data.query_per_class": 3, "data.train_per_class": 6,
                            "train.batch_size": 6})
    workdir = str(tmp_path / "run")
    loop.train_and_evaluate(config, workdir)
    codes = np.load(os.path.join(workdir, "codes.npz"))
    model, source, split, _ = restored(config, workdir)
    path = export.export(model, str(tmp_path / "export"))
    loaded = tf.saved_model.load(path)
    files = [str(source.paths[i]) for i in codes["db_items"]]
    blobs = [open(f, "rb").read() for f in files]
    by_bytes = loaded.signatures["encode_jpeg"](images=tf.constant(blobs))["codes"].numpy()
    np.testing.assert_array_equal(by_bytes, codes["db_codes"])
    for i, f in enumerate(files):  # raw pixels of each size, one request each
        pixels = np.asarray(Image.open(f).convert("RGB"))[None]
        assert pixels.shape[1:3] != (16, 16)
        out = loaded.signatures["encode_images"](images=tf.constant(pixels))["codes"].numpy()
        np.testing.assert_array_equal(out[0], codes["db_codes"][i], err_msg=f)
