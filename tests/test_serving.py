"""The serving contract over real gRPC, against a test double of TF Serving built
from the tensorflow-serving-api protos (tests/serving_double.py)."""

import io
import os
import shutil
import subprocess
import sys
import time
from concurrent import futures

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

pytest.importorskip("tensorflow_serving")

from tests import serving_double  # noqa: E402
from tests.conftest import restored, tiny_config  # noqa: E402
from tfhash import export, retrieval  # noqa: E402
from tfhash.serving import Client, ServingError  # noqa: E402
from tfhash.training import loop  # noqa: E402


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("run")
    config = tiny_config(**{"train.epochs": 1})
    loop.train_and_evaluate(config, str(workdir))
    model, source, split, _ = restored(config, str(workdir))
    codes = np.load(workdir / "codes.npz")
    base = str(workdir / "export")
    export.export(model, base, databases={"image": (codes["db_codes"], codes["db_items"])})
    server, port = serving_double.serve({"tfhash": base})
    images = source.array[split.query[:8]]
    expected = retrieval.pack_codes(model.encode(tf.cast(images, tf.float32))).numpy()
    yield {"port": port, "images": images, "expected": expected, "base": base, "workdir": workdir,
           "model": model}
    server.stop(None)


def client(served, **kwargs):
    return Client(f"127.0.0.1:{served['port']}", "tfhash", timeout=30, **kwargs)


def png_bytes(image):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def test_round_trip_equals_model_encode(served):
    out = client(served).predict({"images": served["images"]})
    np.testing.assert_array_equal(out["codes"], served["expected"])
    assert out["embedding"].shape == (8, 12)
    jpeg = client(served).predict({"images": [png_bytes(i) for i in served["images"]]},
                                  signature="encode_jpeg")
    np.testing.assert_array_equal(jpeg["codes"], served["expected"])


def test_search_and_metadata(served):
    out = client(served).predict({"images": served["images"][:2], "k": 3}, signature="search")
    assert out["ids"].shape == (2, 3) and out["distances"].dtype == np.int32
    signatures = client(served).metadata().signature_def
    assert {"encode_images", "encode_jpeg", "search", "serving_default"} <= set(signatures)
    assert signatures["search"].inputs["k"].dtype == tf.int32.as_datatype_enum


@pytest.mark.parametrize(
    "kwargs, inputs, signature, code, message",
    [
        ({}, {"images": np.zeros((1, 16, 16, 3), np.float32)}, "encode_images", "INVALID_ARGUMENT", "must be uint8"),
        ({}, {"images": np.zeros((16, 16, 3), np.uint8)}, "encode_images", "INVALID_ARGUMENT", "shape"),
        ({}, {"pixels": np.zeros((1, 16, 16, 3), np.uint8)}, "encode_images", "INVALID_ARGUMENT", "not in signature"),
        ({}, {"images": np.zeros((1, 16, 16, 3), np.uint8)}, "no_such_signature", "INVALID_ARGUMENT", "not found"),
        ({"version": 99}, {"images": np.zeros((1, 16, 16, 3), np.uint8)}, "encode_images", "NOT_FOUND", "not served"),
    ],
)
def test_bad_requests_get_the_right_status_and_the_server_keeps_serving(served, kwargs, inputs, signature, code, message):
    with pytest.raises(ServingError, match=message) as error:
        client(served, **kwargs).predict(inputs, signature=signature)
    assert error.value.code == code
    np.testing.assert_array_equal(client(served).predict({"images": served["images"]})["codes"],
                                  served["expected"])


def test_unknown_model_is_not_found(served):
    with pytest.raises(ServingError, match="not served") as error:
        Client(f"127.0.0.1:{served['port']}", "other").predict({"images": served["images"]})
    assert error.value.code == "NOT_FOUND"


@pytest.mark.timeout(60)  # unbounded retries would hang here: the timeout fails them
def test_unreachable_server_is_a_clear_error_after_retries():
    with pytest.raises(ServingError, match="cannot reach a model server at 127.0.0.1:9") as error:
        Client("127.0.0.1:9", "tfhash", timeout=2, retries=2, backoff=0.05).predict(
            {"images": np.zeros((1, 16, 16, 3), np.uint8)})
    assert error.value.code == "UNAVAILABLE"
    # the attempts counted and timed on a server that is always UNAVAILABLE
    import grpc

    class Unavailable(grpc.RpcError):
        def code(self):
            return grpc.StatusCode.UNAVAILABLE

        def details(self):
            return "connection refused"

    calls = []

    def predict(request, timeout):
        calls.append((time.monotonic(), timeout))
        raise Unavailable()

    grpc_client = Client("127.0.0.1:9", "tfhash", timeout=3, retries=3, backoff=0.05)
    grpc_client._grpc_stub().Predict = predict
    start = time.monotonic()
    with pytest.raises(ServingError, match="cannot reach a model server"):
        grpc_client.predict({"images": np.zeros((1, 16, 16, 3), np.uint8)})
    elapsed = time.monotonic() - start
    assert len(calls) == 4 and all(timeout == 3 for _, timeout in calls)  # 1 + 3 retries
    waits = np.diff([start] + [t for t, _ in calls])[1:]
    np.testing.assert_allclose(waits, [0.05, 0.1, 0.2], atol=0.04)  # doubling backoff
    assert 0.35 <= elapsed < 2.0
    # REST: the same bound
    import urllib.error

    attempts = []

    def urlopen(request, timeout):
        attempts.append(timeout)
        raise urllib.error.URLError("connection refused")

    rest = Client("127.0.0.1:9", "tfhash", protocol="rest", timeout=4, retries=2, backoff=0.02)
    from tfhash.serving import client as client_lib

    original, client_lib.urllib.request.urlopen = client_lib.urllib.request.urlopen, urlopen
    try:
        start = time.monotonic()
        with pytest.raises(ServingError, match="cannot reach a REST server"):
            rest.predict({"images": np.zeros((1, 16, 16, 3), np.uint8)})
    finally:
        client_lib.urllib.request.urlopen = original
    assert attempts == [4, 4, 4] and 0.06 <= time.monotonic() - start < 2.0


def _malformed_for_the_model(served):
    """Requests that pass the signature's dtype and rank checks, so that only the
    exported model itself can refuse them: (signature, inputs, message)."""
    zero = np.zeros((1, 16, 16, 3), np.uint8)
    return [
        ("encode_images", {"images": np.zeros((1, 0, 0, 3), np.uint8)}, "at least one pixel"),
        ("encode_images", {"images": np.zeros((2, 7, 0, 3), np.uint8)}, "at least one pixel"),
        ("encode_jpeg", {"images": [b"hello, not an image"]}, "Unknown image file format"),
        ("encode_jpeg", {"images": [b""]}, "empty"),
        ("search", {"images": zero, "k": 0}, "k must be between 1 and the database size"),
        ("search", {"images": zero, "k": -3}, "k must be between 1 and the database size"),
        ("search", {"images": zero, "k": 10 ** 6}, "k must be between 1 and the database size"),
    ]


def test_malformed_requests_are_refused_by_the_model_itself(served):
    """Each request reaches the model's graph (no check of the double's applies) and
    the model refuses it: the loaded SavedModel raises the same error in-process, and
    over gRPC the answer is INVALID_ARGUMENT with the model's message. An empty batch
    is not malformed: it gets empty outputs."""
    from tfhash.serving.client import _as_array

    loaded = tf.saved_model.load(os.path.join(served["base"], "1"))
    for signature, inputs, message in _malformed_for_the_model(served):
        tensors = {k: tf.constant(_as_array(v)) for k, v in inputs.items()}
        with pytest.raises(tf.errors.InvalidArgumentError, match=message):
            loaded.signatures[signature](**tensors)
        with pytest.raises(ServingError, match=message) as error:
            client(served).predict(inputs, signature=signature)
        assert error.value.code == "INVALID_ARGUMENT", (signature, inputs)
    empty = client(served).predict({"images": np.zeros((0, 16, 16, 3), np.uint8)})
    assert empty["codes"].shape == (0, 2) and empty["codes"].dtype == np.uint8
    assert empty["embedding"].shape == (0, 12)
    np.testing.assert_array_equal(client(served).predict({"images": served["images"]})["codes"],
                                  served["expected"])


def test_burst_of_valid_and_malformed_requests(served):
    """1,000 concurrent requests, a third of them malformed: three kinds that the
    server's signature checks refuse (float pixels, a missing batch axis, a wrong
    input name) and nine that only the model can refuse (a truncated image, a
    decompression bomb, and `_malformed_for_the_model`): every valid one gets its
    codes, every malformed one INVALID_ARGUMENT, and the server answers afterwards."""
    from tests.test_images import png_bomb

    shared = client(served)
    images, expected = served["images"], served["expected"]
    broken_png = png_bytes(images[0])[:60]
    bomb = png_bomb(20000, 20000)
    malformed = [
        ({"images": images[:1].astype(np.float32)}, "encode_images"),
        ({"images": images[0]}, "encode_images"),
        ({"pixels": images[:1]}, "encode_images"),
        ({"images": [broken_png]}, "encode_jpeg"),
        ({"images": [bomb]}, "encode_jpeg"),
    ] + [(inputs, signature) for signature, inputs, _ in _malformed_for_the_model(served)]

    def one(i):
        if i % 3 == 2:
            inputs, signature = malformed[(i // 3) % len(malformed)]
            try:
                shared.predict(inputs, signature=signature)
            except ServingError as e:
                return i, e.code
            return i, "answered"
        j = i % len(images)
        if i % 3 == 1:  # the same images as encoded bytes
            return i, shared.predict({"images": [png_bytes(images[j])]}, signature="encode_jpeg")["codes"]
        return i, shared.predict({"images": images[j : j + 1]})["codes"]

    with futures.ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(one, range(1000)))
    assert len(results) == 1000
    for i, out in results:
        if i % 3 == 2:
            assert out == "INVALID_ARGUMENT", (i, out)
        else:
            np.testing.assert_array_equal(out[0], expected[i % len(images)])
    np.testing.assert_array_equal(shared.predict({"images": images})["codes"], expected)


def test_query_cli(served, tmp_path):
    paths = []
    for i, image in enumerate(served["images"][:2]):
        path = tmp_path / f"{i}.png"
        path.write_bytes(png_bytes(image))
        paths.append(str(path))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run([sys.executable, "-m", "tfhash.serving.query_main",
                             f"--server=127.0.0.1:{served['port']}", "--model=tfhash", *paths],
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    for path, codes in zip(paths, served["expected"]):
        assert f"{path}: {bytes(codes).hex()}" in result.stdout
    result = subprocess.run([sys.executable, "-m", "tfhash.serving.query_main",
                             f"--server=127.0.0.1:{served['port']}", "--model=nope", "--timeout=5", *paths],
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 1 and "not served" in result.stderr and "Traceback" not in result.stderr


def test_query_cli_pixel_signature_with_mixed_sizes(served, tmp_path):
    """Pixels are decoded with the training preprocessing; each size is one request and
    the server resizes, so the codes are the model's on the same files."""
    from tfhash.data import preprocess

    small = served["images"][:2]
    big = np.repeat(np.repeat(small, 2, axis=1), 2, axis=2)
    images = [small[0], big[0], np.ascontiguousarray(big[1, 3:24, 1:28]), small[1]]
    paths = []
    for i, image in enumerate(images):
        path = tmp_path / f"{i}.png"
        path.write_bytes(png_bytes(image))
        paths.append(str(path))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run([sys.executable, "-m", "tfhash.serving.query_main",
                             f"--server=127.0.0.1:{served['port']}", "--model=tfhash",
                             "--signature=encode_images", *paths],
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    encoder = served["model"].encoders()["image"]
    for path, image in zip(paths, images):
        codes = retrieval.pack_codes(encoder.encode(preprocess.resize(image[None], 16))).numpy()
        assert f"{path}: {bytes(codes[0]).hex()}" in result.stdout
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not an image")
    result = subprocess.run([sys.executable, "-m", "tfhash.serving.query_main",
                             f"--server=127.0.0.1:{served['port']}", "--signature=encode_images",
                             str(tmp_path / "broken.png")],
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 1 and "broken.png is not a readable image" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(shutil.which("docker") is None or subprocess.run(
    ["docker", "info"], capture_output=True).returncode != 0, reason="no Docker engine")
def test_real_tensorflow_serving_image(served):
    """Runs the stock tensorflow/serving image against the export (needs Docker)."""
    name = "tfhash-serving-test"
    subprocess.run(["docker", "rm", "-f", name], capture_output=True)
    subprocess.run(["docker", "run", "-d", "--name", name, "-p", "18500:8500",
                    "-v", f"{served['base']}:/models/tfhash", "-e", "MODEL_NAME=tfhash",
                    "tensorflow/serving:2.21.0"], check=True, capture_output=True)
    try:
        out = Client("127.0.0.1:18500", "tfhash", timeout=30, retries=20, backoff=0.5).predict(
            {"images": served["images"]})
        np.testing.assert_array_equal(out["codes"], served["expected"])
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)


def test_rest_client_against_the_rest_double(served):
    server, port = serving_double.serve_rest({"tfhash": served["base"]})
    try:
        rest = Client(f"127.0.0.1:{port}", "tfhash", protocol="rest", timeout=30)
        out = rest.predict({"images": served["images"]})
        np.testing.assert_array_equal(np.asarray(out["codes"], np.uint8), served["expected"])
        jpeg = rest.predict({"images": [png_bytes(i) for i in served["images"]]}, signature="encode_jpeg")
        np.testing.assert_array_equal(np.asarray(jpeg["codes"], np.uint8), served["expected"])
        with pytest.raises(ServingError, match="HTTP 404"):
            Client(f"127.0.0.1:{port}", "tfhash", version=7, protocol="rest").predict({"images": served["images"]})
        with pytest.raises(ServingError, match="HTTP 400.*not found"):
            rest.predict({"images": served["images"]}, signature="nope")
    finally:
        server.shutdown()
    with pytest.raises(ServingError, match="cannot reach a REST server"):
        Client(f"127.0.0.1:{port}", "tfhash", protocol="rest", timeout=1, retries=1, backoff=0.01).predict(
            {"images": served["images"]})


def test_model_status(served):
    import grpc
    from tensorflow_serving.apis import get_model_status_pb2, model_service_pb2_grpc

    with grpc.insecure_channel(f"127.0.0.1:{served['port']}") as channel:
        stub = model_service_pb2_grpc.ModelServiceStub(channel)
        request = get_model_status_pb2.GetModelStatusRequest()
        request.model_spec.name = "tfhash"
        response = stub.GetModelStatus(request, timeout=30)
        assert [s.version for s in response.model_version_status] == [1]
        assert response.model_version_status[0].state == get_model_status_pb2.ModelVersionStatus.AVAILABLE
        request.model_spec.name = "missing"
        with pytest.raises(grpc.RpcError) as error:
            stub.GetModelStatus(request, timeout=30)
        assert error.value.code() == grpc.StatusCode.NOT_FOUND
