"""MilvusIndex against a real Milvus server process (not Milvus Lite): the `milvus`
package's standalone server (Milvus 2.3, `pip install 'tfhash[milvus-server]'`),
started on this machine, reached by pymilvus over gRPC at 127.0.0.1, and stopped.

Skipped, with the reason, where the package is absent or the server does not start
within START_SECONDS."""

import os
import shutil
import socket

import numpy as np
import pytest

from tests.test_search import matches_hamming_index

START_SECONDS = 180  # 8 s on 2 idle cores; 51 s seen with the other core busy


def _listening(port):
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def milvus_server(tmp_path_factory):
    pytest.importorskip("pymilvus")
    milvus = pytest.importorskip(
        "milvus", reason="the Milvus server package is not installed "
                         "(pip install 'tfhash[milvus-server]')")
    data_dir = str(tmp_path_factory.mktemp("milvus-server"))
    server = milvus.MilvusServer(wait_for_started=False)
    server.set_base_dir(data_dir)
    try:
        server.start()
        server.wait_started(timeout=START_SECONDS * 1000)
    except (OSError, RuntimeError, TimeoutError) as e:
        log = os.path.join(data_dir, "logs", "milvus-stderr.log")
        tail = open(log, errors="replace").read()[-500:] if os.path.exists(log) else ""
        server.stop()
        pytest.skip(f"the Milvus server did not start: {type(e).__name__}: {e} {tail}")
    port = server.listen_port
    yield {"uri": f"http://127.0.0.1:{port}", "server": server, "port": port}
    server.stop()
    assert not server.running and not _listening(port), "the Milvus server did not stop"
    shutil.rmtree(data_dir, ignore_errors=True)


def test_milvus_server_index_matches_hamming_index(milvus_server, rng):
    # add / search / range search / paths / remove / update / len / reopen, as with
    # Milvus Lite, but every call a gRPC request to the server process
    assert milvus_server["server"].running and _listening(milvus_server["port"])
    matches_hamming_index(milvus_server["uri"], rng, collection="server_codes")


def test_milvus_server_reads_its_own_writes_at_once(milvus_server, rng):
    """A server's default consistency ("Bounded") may hide the last second's writes;
    MilvusIndex reads with "Strong": each write is seen by the next call."""
    from tfhash import retrieval
    from tfhash.retrieval.milvus import MilvusIndex

    index = MilvusIndex(milvus_server["uri"], "fresh", 64)
    reference = retrieval.HammingIndex(64)
    for step in range(3):
        codes = rng.integers(0, 256, size=(50, 8), dtype=np.uint8)
        ids = np.arange(step * 50, step * 50 + 50)
        index.add(codes, ids)
        reference.add(codes, ids)
        assert len(index) == len(reference)
        d, i = index.search(codes[:4], 1)
        np.testing.assert_array_equal(d[:, 0], 0)
        np.testing.assert_array_equal(i[:, 0], ids[:4])
        index.remove(ids[:2])
        reference.remove(ids[:2])
        assert len(index) == len(reference)
        assert not set(index.search(codes[:2], 3)[1].ravel().tolist()) & set(ids[:2].tolist())
    assert index.next_id() == 150
