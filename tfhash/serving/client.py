"""A client for tfhash models served by TF Serving, over gRPC (port 8500) or REST (8501).

  client = Client("localhost:8500", model="tfhash")
  out = client.predict({"images": images})            # serving_default
  out = client.predict({"images": jpeg_bytes}, signature="encode_jpeg")
  out = client.predict({"images": images, "k": 10}, signature="search")
  distances, ids = client.search(images, milvus_index, k=10)   # TF Serving + Milvus

Deadlines on every call; UNAVAILABLE is retried with exponential backoff; other
failures raise `ServingError` with a message that says what went wrong.
"""

import base64
import json
import time
import urllib.error
import urllib.request

import numpy as np


class ServingError(RuntimeError):
    """A request failed; `code` is the gRPC status name (or HTTP status for REST)."""

    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code


class Client:
    """Talks to one model on one server.

    Args:
      target: "host:port".
      model: the model name in the server's config.
      version: a version number, or None for the server's latest.
      protocol: "grpc" or "rest".
      timeout: seconds per attempt (the gRPC deadline).
      retries: extra attempts when the server is UNAVAILABLE.
      backoff: first wait between attempts in seconds; doubles each time.
    """

    def __init__(self, target, model, version=None, protocol="grpc", timeout=10.0, retries=3,
                 backoff=0.2):
        if protocol not in ("grpc", "rest"):
            raise ValueError(f"protocol must be 'grpc' or 'rest', got {protocol!r}")
        self.target, self.model, self.version = target, model, version
        self.protocol, self.timeout, self.retries, self.backoff = protocol, timeout, retries, backoff
        self._stub = None

    # -- gRPC ---------------------------------------------------------------
    def _grpc_stub(self):
        if self._stub is None:
            import grpc
            from tensorflow_serving.apis import prediction_service_pb2_grpc

            self._channel = grpc.insecure_channel(self.target)
            self._stub = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        return self._stub

    def _call(self, method, request):
        import grpc

        wait = self.backoff
        for attempt in range(self.retries + 1):
            try:
                return getattr(self._grpc_stub(), method)(request, timeout=self.timeout)
            except grpc.RpcError as e:
                code = e.code()
                if code == grpc.StatusCode.UNAVAILABLE and attempt < self.retries:
                    time.sleep(wait)
                    wait *= 2
                    continue
                raise _grpc_error(e, self.target, self.model) from None
        raise AssertionError("unreachable")

    def _model_spec(self, spec, signature):
        spec.name = self.model
        if signature:
            spec.signature_name = signature
        if self.version is not None:
            spec.version.value = int(self.version)

    def predict(self, inputs, signature="serving_default"):
        """Runs `signature` on `inputs` (name -> array, or list of bytes for strings)."""
        if self.protocol == "rest":
            return self._rest_predict(inputs, signature)
        import tensorflow as tf
        from tensorflow_serving.apis import predict_pb2

        request = predict_pb2.PredictRequest()
        self._model_spec(request.model_spec, signature)
        for name, value in inputs.items():
            request.inputs[name].CopyFrom(tf.make_tensor_proto(_as_array(value)))
        response = self._call("Predict", request)
        return {name: tf.make_ndarray(proto) for name, proto in response.outputs.items()}

    def search(self, images, index, k=10):
        """Encodes images with the served model and searches `index` (a HammingIndex or
        a MilvusIndex holding codes of the same model): the production shape, encoder
        in TF Serving and codes in Milvus. `images`: uint8 pixels `[n, H, W, 3]`
        (`encode_images`) or a list of encoded image bytes (`encode_jpeg`).
        Returns the index's `(distances, ids)`."""
        jpeg = isinstance(images, (list, tuple)) and images and isinstance(images[0], bytes)
        codes = self.predict({"images": images}, "encode_jpeg" if jpeg else "encode_images")["codes"]
        return index.search(np.asarray(codes, np.uint8), k)

    def metadata(self):
        """The model's signature definitions (a SignatureDefMap proto)."""
        from tensorflow_serving.apis import get_model_metadata_pb2

        request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
        self._model_spec(request.model_spec, None)
        response = self._call("GetModelMetadata", request)
        signatures = get_model_metadata_pb2.SignatureDefMap()
        response.metadata["signature_def"].Unpack(signatures)
        return signatures

    # -- REST ---------------------------------------------------------------
    def _rest_predict(self, inputs, signature):
        version = f"/versions/{int(self.version)}" if self.version is not None else ""
        url = f"http://{self.target}/v1/models/{self.model}{version}:predict"
        body = json.dumps({"signature_name": signature,
                           "inputs": {k: _to_json(_as_array(v)) for k, v in inputs.items()}})
        wait = self.backoff
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(url, body.encode(), {"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    outputs = json.loads(response.read())["outputs"]
                break
            except urllib.error.HTTPError as e:
                detail = e.read().decode(errors="replace")
                if e.code == 503 and attempt < self.retries:
                    time.sleep(wait)
                    wait *= 2
                    continue
                raise ServingError(f"{url} answered HTTP {e.code}: {detail}", e.code) from None
            except (urllib.error.URLError, OSError) as e:
                if attempt < self.retries:
                    time.sleep(wait)
                    wait *= 2
                    continue
                raise ServingError(f"cannot reach a REST server at {self.target}: {e}") from None
        if not isinstance(outputs, dict):
            outputs = {"output": outputs}
        return {k: np.asarray(v) for k, v in outputs.items()}


def _as_array(value):
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], bytes):
        return np.array(value, dtype=object)
    if isinstance(value, int) and not isinstance(value, bool):
        return np.asarray(value, np.int32)  # as TensorFlow types Python ints (k: int32)
    return np.asarray(value)


def _to_json(array):
    if array.dtype == object:
        return [{"b64": base64.b64encode(v).decode()} for v in array.ravel().tolist()]
    return array.tolist()


def _grpc_error(error, target, model):
    import grpc

    code, details = error.code(), error.details()
    if code == grpc.StatusCode.UNAVAILABLE:
        message = f"cannot reach a model server at {target} ({details})"
    elif code == grpc.StatusCode.DEADLINE_EXCEEDED:
        message = f"{target} did not answer before the deadline ({details})"
    elif code == grpc.StatusCode.NOT_FOUND:
        message = f"model {model!r} (or that version) is not served at {target}: {details}"
    elif code == grpc.StatusCode.INVALID_ARGUMENT:
        message = f"the server rejected the request: {details}"
    else:
        message = f"{code.name}: {details}"
    return ServingError(message, code.name)
