"""HammingIndex: packed codes with ids, exact search, persistence and faiss interop."""

import io
import zipfile

import numpy as np
import tensorflow as tf

from tfhash import atomic, ops
from tfhash.retrieval import codes as codes_lib
from tfhash.retrieval import hamming

_FORMAT = "tfhash.HammingIndex/1"


class HammingIndex:
    """An exact (brute-force) Hamming index over packed uint8 codes.

    Search runs on the custom op when it is built, else on stock TF ops, with the
    same results; ties are broken by insertion order. With the custom op the
    database is put into the kernel's layout once (on the first search after an
    `add`) and kept, so searching one query at a time does not copy it.

    Args:
      bits: code length; codes are stored as ceil(bits / 8) bytes.
    """

    def __init__(self, bits):
        self.bits = codes_lib.check_bits(bits)
        self.num_bytes = codes_lib.num_bytes(bits)
        self._codes = np.zeros((0, self.num_bytes), np.uint8)
        self._ids = np.zeros((0,), np.int64)
        self._grouped = None  # the database in the custom op's layout (a tf.Tensor)

    def __len__(self):
        return self._codes.shape[0]

    @property
    def codes(self):
        return self._codes

    @property
    def ids(self):
        return self._ids

    def add(self, packed, ids=None):
        """Appends codes; `ids` default to their positions (0, 1, ...)."""
        packed = codes_lib.as_packed_numpy(packed, "codes")
        if packed.shape[1] != self.num_bytes:
            raise ValueError(f"{self.bits}-bit codes have {self.num_bytes} bytes, got {packed.shape[1]}")
        if ids is None:
            ids = np.arange(len(self), len(self) + packed.shape[0], dtype=np.int64)
        ids = np.asarray(ids)
        if ids.shape != (packed.shape[0],) or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"ids must be {packed.shape[0]} integers, got {ids.dtype} {ids.shape}")
        self._codes = np.concatenate([self._codes, packed])
        self._ids = np.concatenate([self._ids, ids.astype(np.int64)])
        self._grouped = None

    def _queries(self, queries):
        queries = codes_lib.as_packed_numpy(queries, "queries")
        if queries.shape[1] != self.num_bytes:
            raise ValueError(f"queries have {queries.shape[1]} bytes per code, the index {self.num_bytes}")
        if not len(self):
            raise ValueError("the index is empty: add codes first")
        return queries

    def search(self, queries, k):
        """The k nearest codes of each query: `(distances int32, ids int64)`, both
        `[nq, min(k, len(index))]`, nearest first."""
        queries = self._queries(queries)
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k <= 0:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        k = int(min(k, len(self)))
        if ops.load() is not None:
            if self._grouped is None:
                self._grouped = tf.constant(hamming.group_database(self._codes))
            distances, positions = hamming.hamming_topk_grouped(queries, self._grouped, len(self), k)
        else:
            distances, positions = hamming.hamming_topk(queries, self._codes, k)
        return distances.numpy(), self._ids[positions.numpy()]

    def range_search(self, queries, radius):
        """All codes within Hamming distance `radius` of each query.

        Returns `(lims, distances, ids)` as faiss does: the results of query i are
        `distances[lims[i]:lims[i + 1]]` and `ids[...]`, nearest first.
        """
        queries = self._queries(queries)
        if isinstance(radius, bool) or not isinstance(radius, (int, np.integer)) or radius < 0:
            raise ValueError(f"radius must be a non-negative integer, got {radius!r}")
        lims, all_d, all_i = [0], [], []
        chunk = max(1, (16 << 20) // len(self))
        for start in range(0, queries.shape[0], chunk):
            dist = hamming.hamming_distance(queries[start : start + chunk], self._codes).numpy()
            for row in dist:
                hits = np.flatnonzero(row <= radius)
                order = hits[np.argsort(row[hits], kind="stable")]
                all_d.append(row[order].astype(np.int32))
                all_i.append(self._ids[order])
                lims.append(lims[-1] + len(order))
        return np.asarray(lims, np.int64), np.concatenate(all_d), np.concatenate(all_i)

    def save(self, path):
        """Writes the index atomically (temporary file, then rename)."""
        buffer = io.BytesIO()
        np.savez(buffer, format=np.array(_FORMAT), bits=np.array(self.bits), codes=self._codes,
                 ids=self._ids)
        with atomic.atomic_write(path, "wb") as f:
            f.write(buffer.getvalue())

    @classmethod
    def load(cls, path):
        """Reads an index written by `save`; a damaged file is a clear ValueError."""
        try:
            with np.load(path, allow_pickle=False) as data:
                if str(data["format"]) != _FORMAT:
                    raise ValueError(f"unknown format {data['format']}")
                index = cls(int(data["bits"]))
                index.add(data["codes"], data["ids"])
        except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile) as e:
            raise ValueError(f"{path} is not a readable tfhash HammingIndex (truncated or damaged?): {e}") from e
        return index

    def to_faiss(self):
        """A faiss IndexBinaryFlat over the same codes (wrapped in IndexBinaryIDMap
        when the ids are not 0..n-1). Needs `pip install tfhash[faiss]`."""
        import faiss

        flat = faiss.IndexBinaryFlat(8 * self.num_bytes)
        if np.array_equal(self._ids, np.arange(len(self))):
            flat.add(self._codes)
            return flat
        index = faiss.IndexBinaryIDMap(flat)
        index.add_with_ids(self._codes, self._ids)
        return index

    @classmethod
    def from_faiss(cls, index, bits=None):
        """An index over the codes of a faiss IndexBinaryFlat (or IndexBinaryIDMap of one)."""
        import faiss

        ids = None
        if isinstance(index, faiss.IndexBinaryIDMap):
            ids = faiss.vector_to_array(index.id_map).astype(np.int64)
            index = faiss.downcast_IndexBinary(index.index)
        if not isinstance(index, faiss.IndexBinaryFlat):
            raise ValueError(f"from_faiss takes an IndexBinaryFlat or IndexBinaryIDMap, got {type(index).__name__}")
        codes = faiss.vector_to_array(index.xb).reshape(index.ntotal, index.code_size)
        result = cls(bits or index.d)
        result.add(codes, ids)
        return result
