"""Text queries of a cross-modal model over real gRPC (the TF Serving test double):
`encode_text`, `encode_tags` through the exported vocabulary, cross-modal search, and
`tfhash-query --text`."""

import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("tensorflow_serving")

from tests import serving_double  # noqa: E402
from tests.conftest import restored, tiny_config  # noqa: E402
from tfhash import export, retrieval  # noqa: E402
from tfhash.serving import Client  # noqa: E402
from tfhash.training import loop  # noqa: E402


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("run")
    config = tiny_config(method="hashgan", **{"data.source": "patch_pairs",
                                              "train.batch_size": 16, "train.epochs": 1})
    loop.train_and_evaluate(config, str(workdir))
    model, source, split, _ = restored(config, str(workdir))
    codes = np.load(workdir / "codes.npz")
    base = str(workdir / "export")
    databases = {m: (codes[f"db_{m}_codes"], codes["db_items"]) for m in ("image", "text")}
    export.export(model, base, databases=databases, vocabulary=source.vocabulary)
    server, port = serving_double.serve({"tfhash": base})
    yield {"port": port, "model": model, "source": source, "codes": codes, "base": base}
    server.stop(None)


def bag_of_words(queries, vocabulary):
    """NumPy reference: word counts over the vocabulary, unknown words ignored."""
    index = {w: i for i, w in enumerate(vocabulary)}
    bow = np.zeros((len(queries), len(vocabulary)), np.float32)
    for row, query in enumerate(queries):
        for word in query.split():
            if word in index:
                bow[row, index[word]] += 1
    return bow


def test_text_and_tags_signatures(served):
    client = Client(f"127.0.0.1:{served['port']}", "tfhash", timeout=30)
    vocabulary = served["source"].vocabulary
    queries = ["w0 w3 w3", "w21 nonsense w5", "unknown"]
    bow = bag_of_words(queries, vocabulary)
    assert bow[0, 3] == 2 and bow[2].sum() == 0
    encoder = served["model"].encoders()["text"]
    expected = retrieval.pack_codes(encoder.encode(bow)).numpy()
    np.testing.assert_array_equal(client.predict({"text": bow}, "encode_text")["codes"], expected)
    np.testing.assert_array_equal(client.predict({"tags": queries}, "encode_tags")["codes"], expected)
    found = client.predict({"tags": queries, "k": 4}, "search_tags_to_image")
    index = retrieval.HammingIndex(12)
    index.add(served["codes"]["db_image_codes"], ids=served["codes"]["db_items"])
    distances, ids = index.search(expected, 4)
    np.testing.assert_array_equal(found["ids"], ids)
    np.testing.assert_array_equal(found["distances"], distances)
    signatures = set(client.metadata().signature_def)
    assert {"encode_text", "encode_tags", "search_text_to_image", "search_image_to_text",
            "search_tags_to_image"} <= signatures
    with open(os.path.join(served["base"], "1", "assets.extra", "vocabulary.txt")) as f:
        assert f.read().split() == vocabulary


def test_query_cli_with_text(served):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run(
        [sys.executable, "-m", "tfhash.serving.query_main", f"--server=127.0.0.1:{served['port']}",
         "--model=tfhash", "--signature=search_tags_to_image", "--k=2", "--text=w0 w1", "--text=w30"],
        capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    bow = bag_of_words(["w0 w1", "w30"], served["source"].vocabulary)
    codes = retrieval.pack_codes(served["model"].encoders()["text"].encode(bow)).numpy()
    index = retrieval.HammingIndex(12)
    index.add(served["codes"]["db_image_codes"], ids=served["codes"]["db_items"])
    distances, ids = index.search(codes, 2)
    for text, row_ids, row_d in zip(["w0 w1", "w30"], ids, distances):
        line = ", ".join(f"{int(i)} (d={int(d)})" for i, d in zip(row_ids, row_d))
        assert f"{text}: {line}" in result.stdout
    result = subprocess.run(
        [sys.executable, "-m", "tfhash.serving.query_main", f"--server=127.0.0.1:{served['port']}",
         "--text=w0", "photo.jpg"], capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode != 0 and "not both" in result.stderr


def test_export_refuses_a_vocabulary_of_the_wrong_size(served, tmp_path):
    with pytest.raises(ValueError, match="the vocabulary has 3 words, the text encoder takes 40"):
        export.export(served["model"], str(tmp_path), vocabulary=["a", "b", "c"])



def test_text_signatures_use_stock_ops_only(served):
    from tensorflow.core.protobuf import saved_model_pb2
    from tensorflow.python.framework import op_def_registry

    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(served["base"], "1", "saved_model.pb"), "rb") as f:
        proto.ParseFromString(f.read())
    ops = set()
    for graph in proto.meta_graphs:
        ops |= {node.op for node in graph.graph_def.node}
        for function in graph.graph_def.library.function:
            ops |= {node.op for node in function.node_def}
    functions = {f.signature.name for g in proto.meta_graphs for f in g.graph_def.library.function}
    ops -= functions
    assert {"LookupTableFindV2", "StringSplitV2"} <= ops  # the vocabulary is in the graph
    assert not [op for op in ops if op.startswith("PackedHamming")]
    assert [op for op in ops if op_def_registry.get(op) is None] == []
