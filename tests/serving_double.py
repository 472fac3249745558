"""A test double of TF Serving's gRPC API, built from the tensorflow-serving-api
protos, serving exported SavedModels on 127.0.0.1. Production uses TF Serving
(README "Serving"); this exists because no tensorflow_model_server binary can be
installed on the test machines.

Implements PredictionService.Predict and GetModelMetadata, and
ModelService.GetModelStatus, with TF Serving's status codes: NOT_FOUND for an
unknown model or version, INVALID_ARGUMENT for an unknown signature or input, a
wrong dtype or rank.
"""

import os
import threading
from concurrent import futures

import grpc
import tensorflow as tf
from google.protobuf import any_pb2
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)


class _Models:
    """name -> base_path; versions are the numeric folders, loaded once on demand."""

    def __init__(self, models):
        self.models = dict(models)
        self._loaded = {}
        self._lock = threading.Lock()

    def versions(self, name):
        base = self.models.get(name)
        if base is None or not os.path.isdir(base):
            return []
        return sorted(int(v) for v in os.listdir(base) if v.isdigit())

    def get(self, spec, context):
        versions = self.versions(spec.name)
        if not versions:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Servable not found for request: Latest({spec.name})")
        version = spec.version.value if spec.HasField("version") else versions[-1]
        if version not in versions:
            context.abort(grpc.StatusCode.NOT_FOUND,
                          f"Servable not found for request: Specific({spec.name}, {version})")
        key = (spec.name, version)
        with self._lock:
            if key not in self._loaded:
                self._loaded[key] = tf.saved_model.load(os.path.join(self.models[spec.name], str(version)))
        return self._loaded[key], version


class PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, models):
        self.models = models

    def Predict(self, request, context):  # noqa: N802 (gRPC method name)
        loaded, version = self.models.get(request.model_spec, context)
        name = request.model_spec.signature_name or "serving_default"
        if name not in loaded.signatures:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                          f'Serving signature key "{name}" not found.')
        function = loaded.signatures[name]
        specs = function.structured_input_signature[1]
        unknown = sorted(set(request.inputs) - set(specs))
        missing = sorted(set(specs) - set(request.inputs))
        if unknown or missing:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                          f"inputs {unknown} are not in signature {name!r}, which needs {sorted(specs)}")
        inputs = {}
        for key, spec in specs.items():
            proto = request.inputs[key]
            if proto.dtype != spec.dtype.as_datatype_enum:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                              f"input {key!r} must be {spec.dtype.name}, got "
                              f"{tf.dtypes.as_dtype(proto.dtype).name}")
            value = tf.constant(tf.make_ndarray(proto), dtype=spec.dtype)
            if not spec.shape.is_compatible_with(value.shape):
                context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                              f"input {key!r} must have shape {spec.shape}, got {value.shape}")
            inputs[key] = value
        try:
            outputs = function(**inputs)
        except tf.errors.InvalidArgumentError as e:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, e.message)
        response = predict_pb2.PredictResponse()
        response.model_spec.name = request.model_spec.name
        response.model_spec.version.value = version
        response.model_spec.signature_name = name
        for key, value in outputs.items():
            response.outputs[key].CopyFrom(tf.make_tensor_proto(value.numpy()))
        return response

    def GetModelMetadata(self, request, context):  # noqa: N802
        loaded, version = self.models.get(request.model_spec, context)
        signatures = get_model_metadata_pb2.SignatureDefMap()
        for key, function in loaded.signatures.items():
            signature = signatures.signature_def[key]
            for name, spec in function.structured_input_signature[1].items():
                signature.inputs[name].dtype = spec.dtype.as_datatype_enum
                signature.inputs[name].tensor_shape.CopyFrom(spec.shape.as_proto())
            for name, spec in function.structured_outputs.items():
                signature.outputs[name].dtype = spec.dtype.as_datatype_enum
                signature.outputs[name].tensor_shape.CopyFrom(spec.shape.as_proto())
        packed = any_pb2.Any()
        packed.Pack(signatures)
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        response.model_spec.name = request.model_spec.name
        response.model_spec.version.value = version
        response.metadata["signature_def"].CopyFrom(packed)
        return response


class ModelService(model_service_pb2_grpc.ModelServiceServicer):
    def __init__(self, models):
        self.models = models

    def GetModelStatus(self, request, context):  # noqa: N802
        versions = self.models.versions(request.model_spec.name)
        if not versions:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Could not find any versions of model {request.model_spec.name}")
        if request.model_spec.HasField("version"):
            if request.model_spec.version.value not in versions:
                context.abort(grpc.StatusCode.NOT_FOUND, "Could not find version")
            versions = [request.model_spec.version.value]
        response = get_model_status_pb2.GetModelStatusResponse()
        for version in versions:
            status = response.model_version_status.add()
            status.version = version
            status.state = get_model_status_pb2.ModelVersionStatus.AVAILABLE
        return response


def serve(models, workers=16):
    """Starts the double on 127.0.0.1 (a free port); returns (server, port)."""
    registry = _Models(models)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers))
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(PredictionService(registry), server)
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(ModelService(registry), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


def serve_rest(models):
    """TF Serving's REST predict API (`POST /v1/models/NAME[/versions/N]:predict`,
    columnar "inputs", {"b64": ...} for bytes) on 127.0.0.1; returns (server, port)."""
    import base64
    import json
    import re
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import numpy as np

    registry = _Models(models)
    route = re.compile(r"^/v1/models/([^/:]+)(?:/versions/(\d+))?:predict$")

    def decode(value):
        if isinstance(value, dict) and set(value) == {"b64"}:
            return base64.b64decode(value["b64"])
        if isinstance(value, list):
            return [decode(v) for v in value]
        return value

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):  # noqa: N802
            match = route.match(self.path)
            if not match:
                return self.reply(404, {"error": f"no route {self.path}"})
            name, version = match.group(1), match.group(2)
            versions = registry.versions(name)
            version = int(version) if version else (versions[-1] if versions else None)
            if version not in versions:
                return self.reply(404, {"error": f"Servable not found for request: {name} {version}"})
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            loaded = registry._loaded.get((name, version))
            if loaded is None:
                loaded = registry._loaded[(name, version)] = tf.saved_model.load(
                    os.path.join(registry.models[name], str(version)))
            signature = request.get("signature_name", "serving_default")
            if signature not in loaded.signatures:
                return self.reply(400, {"error": f'Serving signature key "{signature}" not found.'})
            function = loaded.signatures[signature]
            specs = function.structured_input_signature[1]
            try:
                inputs = {k: tf.constant(np.array(decode(request["inputs"][k]), dtype=object)
                                         if spec.dtype == tf.string
                                         else np.array(request["inputs"][k]), dtype=spec.dtype)
                          for k, spec in specs.items()}
                outputs = function(**inputs)
            except (KeyError, ValueError, TypeError, tf.errors.InvalidArgumentError) as e:
                return self.reply(400, {"error": str(e)})
            self.reply(200, {"outputs": {k: v.numpy().tolist() for k, v in outputs.items()}})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]
