"""MilvusIndex: packed codes in a Milvus collection, with HammingIndex's interface.

Milvus stores binary vectors natively (`BINARY_VECTOR`, the `HAMMING` metric) and
scales out; the collection has an int64 primary key `id`, the code as a
`BINARY_VECTOR` of 8 * ceil(bits / 8) dimensions (tfhash's packed bytes as they are:
padding bits are zero, so distances are unchanged), and the item's path or key as a
`VARCHAR`. Index `BIN_FLAT` (exact) or `BIN_IVF_FLAT` (`nlist`, searched with
`nprobe`).

Needs `pip install tfhash[milvus]`: pymilvus, and Milvus Lite (the embedded server:
`uri` a local file such as "codes.db") for tests and single machines; a Milvus
server or cluster URI ("http://host:19530") in production.

Ties: Milvus returns equal distances in no fixed order; results here are sorted by
(distance, id), but which of several codes tied at the k-th distance are returned
may differ from HammingIndex (which keeps the lowest insertion positions).
"""

import numpy as np

from tfhash.retrieval import codes as codes_lib

INDEX_TYPES = ("BIN_FLAT", "BIN_IVF_FLAT")
MAX_RESULTS = 16384  # Milvus's largest `limit`
# Every read sees every write before it (a server's default, "Bounded", may not see
# the last second's inserts and deletes; Milvus Lite is strong anyway)
CONSISTENCY = "Strong"


def _client(uri, token=None):
    try:
        from pymilvus import MilvusClient
    except ImportError as e:
        raise ValueError("the Milvus backend needs pymilvus and Milvus Lite: pip install "
                         "'tfhash[milvus]'") from e
    return MilvusClient(uri, token=token or "")


class MilvusIndex:
    """Codes in a Milvus collection (created if absent).

    Args:
      uri: a Milvus Lite file ("codes.db") or a server URI ("http://host:19530").
      collection: the collection's name.
      bits: code length; an existing collection must have the same dimension.
      index_type: "BIN_FLAT" or "BIN_IVF_FLAT" (with `nlist` clusters, `nprobe`).
      description: stored with a new collection (tfhash-index keeps its encoder
        there).
    """

    def __init__(self, uri, collection, bits, index_type="BIN_FLAT", nlist=1024, nprobe=16,
                 description="", token=None):
        from pymilvus import DataType, MilvusClient

        self.bits = codes_lib.check_bits(bits)
        self.num_bytes = codes_lib.num_bytes(bits)
        if index_type not in INDEX_TYPES:
            raise ValueError(f"index_type must be one of {INDEX_TYPES}, got {index_type!r}")
        self.uri, self.collection = uri, collection
        self.index_type, self.nlist, self.nprobe = index_type, int(nlist), int(nprobe)
        self._client = _client(uri, token)
        dim = 8 * self.num_bytes
        if self._client.has_collection(collection):
            fields = {f["name"]: f for f in self._client.describe_collection(collection)["fields"]}
            found = fields.get("code", {}).get("params", {}).get("dim")
            if found is None or int(found) != dim:
                raise ValueError(
                    f"Milvus collection {collection!r} at {uri} holds codes of {found} dimensions, "
                    f"not {dim} ({self.bits} bits); use another collection or the same bits")
        else:
            schema = MilvusClient.create_schema(auto_id=False, description=description)
            schema.add_field("id", DataType.INT64, is_primary=True)
            schema.add_field("code", DataType.BINARY_VECTOR, dim=dim)
            schema.add_field("path", DataType.VARCHAR, max_length=4096)
            params = self._client.prepare_index_params()
            extra = {"nlist": self.nlist} if index_type == "BIN_IVF_FLAT" else {}
            params.add_index(field_name="code", index_type=index_type, metric_type="HAMMING",
                             params=extra)
            self._client.create_collection(collection, schema=schema, index_params=params,
                                           consistency_level=CONSISTENCY)

    def description(self):
        return self._client.describe_collection(self.collection).get("description", "")

    def __len__(self):
        # count(*) sees every insert and delete so far; the collection's statistics
        # count flushed segments only (a server's fresh inserts are not there yet)
        rows = self._client.query(self.collection, filter="", output_fields=["count(*)"],
                                  consistency_level=CONSISTENCY)
        return int(rows[0]["count(*)"]) if rows else 0

    def add(self, packed, ids, paths=None):
        """Inserts codes with their int64 ids (and paths or keys)."""
        packed = codes_lib.as_packed_numpy(packed, "codes")
        if packed.shape[1] != self.num_bytes:
            raise ValueError(f"{self.bits}-bit codes have {self.num_bytes} bytes, got {packed.shape[1]}")
        ids = np.asarray(ids)
        if ids.shape != (packed.shape[0],) or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"ids must be {packed.shape[0]} integers, got {ids.dtype} {ids.shape}")
        paths = [""] * len(ids) if paths is None else [str(p) for p in paths]
        rows = [{"id": int(i), "code": code.tobytes(), "path": p}
                for i, code, p in zip(ids, packed, paths)]
        for start in range(0, len(rows), 5000):
            self._client.insert(self.collection, rows[start:start + 5000])

    def update(self, packed, ids, paths=None):
        """Replaces the codes (and paths) of these ids, inserting the ids not present
        (Milvus upsert; as HammingIndex.update)."""
        packed, ids = codes_lib.checked_update(packed, ids, self.bits)
        paths = [""] * len(ids) if paths is None else [str(p) for p in paths]
        rows = [{"id": int(i), "code": code.tobytes(), "path": p}
                for i, code, p in zip(ids, packed, paths)]
        for start in range(0, len(rows), 5000):
            self._client.upsert(self.collection, rows[start:start + 5000])

    def remove(self, ids):
        """Deletes the codes with these ids."""
        self._client.delete(self.collection, ids=[int(i) for i in np.asarray(ids).ravel()])

    def _queries(self, queries):
        queries = codes_lib.as_packed_numpy(queries, "queries")
        if queries.shape[1] != self.num_bytes:
            raise ValueError(f"queries have {queries.shape[1]} bytes per code, the index {self.num_bytes}")
        return [q.tobytes() for q in queries]

    def _search(self, queries, limit, extra=None):
        params = {"metric_type": "HAMMING", "params": dict(extra or {})}
        if self.index_type == "BIN_IVF_FLAT":
            params["params"]["nprobe"] = self.nprobe
        return self._client.search(self.collection, data=self._queries(queries), limit=limit,
                                   anns_field="code", search_params=params,
                                   output_fields=["path"], consistency_level=CONSISTENCY)

    def search(self, queries, k):
        """`(distances int32, ids int64)`, `[nq, min(k, len)]`, nearest first (ties by id)."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 < k <= MAX_RESULTS:
            raise ValueError(f"k must be an integer in 1..{MAX_RESULTS}, got {k!r}")
        hits = self._search(queries, int(k))
        width = min(len(h) for h in hits) if hits else 0
        distances = np.zeros((len(hits), width), np.int32)
        ids = np.zeros((len(hits), width), np.int64)
        for row, found in enumerate(hits):
            ordered = sorted((int(round(h["distance"])), int(h["id"])) for h in found)[:width]
            distances[row], ids[row] = zip(*ordered) if ordered else ((), ())
        return distances, ids

    def range_search(self, queries, radius):
        """All codes within `radius` (at most 16,384 per query, Milvus's limit), as
        HammingIndex.range_search: `(lims, distances, ids)`."""
        if isinstance(radius, bool) or not isinstance(radius, (int, np.integer)) or radius < 0:
            raise ValueError(f"radius must be a non-negative integer, got {radius!r}")
        # Milvus keeps range_filter <= distance < radius for HAMMING
        hits = self._search(queries, MAX_RESULTS, {"radius": int(radius) + 1, "range_filter": 0})
        lims, all_d, all_i = [0], [], []
        for found in hits:
            ordered = sorted((int(round(h["distance"])), int(h["id"])) for h in found)
            all_d += [d for d, _ in ordered]
            all_i += [i for _, i in ordered]
            lims.append(lims[-1] + len(ordered))
        return (np.asarray(lims, np.int64), np.asarray(all_d, np.int32), np.asarray(all_i, np.int64))

    def keys(self):
        """Every stored path or key (what tfhash-index has done already)."""
        iterator = self._client.query_iterator(self.collection, batch_size=10000,
                                               output_fields=["path"], filter="id >= 0",
                                               consistency_level=CONSISTENCY)
        found = set()
        while True:
            rows = iterator.next()
            if not rows:
                iterator.close()
                return found
            found.update(r["path"] for r in rows)

    def next_id(self):
        """1 + the largest id (0 for an empty collection)."""
        iterator = self._client.query_iterator(self.collection, batch_size=10000,
                                               output_fields=["id"], filter="id >= 0",
                                               consistency_level=CONSISTENCY)
        largest = -1
        while True:
            rows = iterator.next()
            if not rows:
                iterator.close()
                return largest + 1
            largest = max(largest, max(int(r["id"]) for r in rows))

    def paths(self, ids):
        """The stored path or key of each id."""
        ids = [int(i) for i in np.asarray(ids).ravel()]
        rows = self._client.get(self.collection, ids=ids, output_fields=["path"],
                                consistency_level=CONSISTENCY)
        found = {int(r["id"]): r["path"] for r in rows}
        return [found.get(i) for i in ids]
