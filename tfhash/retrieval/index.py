"""HammingIndex: packed codes with ids, exact search (linear scan or multi-index
tables), removal and update by id, memory-mapped persistence and faiss interop."""

import time

import numpy as np
import tensorflow as tf
from absl import logging

from tfhash import ops
from tfhash.retrieval import codes as codes_lib
from tfhash.retrieval import hamming, index_file, multi_index
from tfhash.retrieval import segment as segment_lib

MODES = ("auto", "linear", "multi_index")
# The automatic choice, from what benchmarks/index_speed.py measured on 2 EPYC cores
# (docs/search_speed.md). Segments of fewer live codes than this are scanned:
MULTI_INDEX_MIN_CODES = 1 << 16
# Otherwise a query searches the tables until it has visited as many table entries
# as scanning the segment costs it, then gives up and is scanned. One visit (random
# reads of a position and a code) costs about as much as scanning this many 64-bit
# code words for one query at a time (5 ns against 0.2 ns), or, in a batch of more
# than SCAN_BATCH queries, whose tiled scan shares each read among 16 queries. Once
# auto has timed both paths for a segment, k and kind of call, the budget is raised
# to the measured scan time over the measured seconds per visit (timed on calls that
# no query gave up) where that is more (on an Intel Xeon whose scan ran at half the
# EPYC's speed, a visit cost 14 words):
VISIT_COST_ONE = 25
VISIT_COST_BATCH = 50
SCAN_BATCH = 16
# Auto times both paths per segment, k and kind of call (one query or few, or a
# batch), keeps a moving average of the seconds per query of the path it takes, takes
# the faster, and tries the other one again every this many calls (machines and codes
# differ). A retry's timing replaces the other path's average rather than joining it:
# that average is stale (up to this many calls old), and when one slow call had lifted
# it (a machine's hiccup) a retry that only joined it could take several retries, a
# hundred calls and more on the slower path, to bring it back down.
MULTI_INDEX_RETRY = 32
# Removed codes stay in a segment (skipped by both paths) until they are this share.
_COMPACT_SHARE = 1 / 8


class HammingIndex:
    """An exact Hamming index over packed uint8 codes.

    Two search paths give identical answers (distances, ids, ties by insertion
    order): the linear scan (the custom op's tiled kernels, or stock TF ops), and
    multi-index tables (`tfhash.retrieval.multi_index`: exact, touching a small part
    of the database for one query). `mode="auto"` (default) uses the tables for a
    search over segments of at least MULTI_INDEX_MIN_CODES codes, and the scan
    otherwise. A query that has visited as many table entries as the scan would
    cost it (one query, or its share of a batch) gives up and is scanned. Auto times
    both paths on each segment (per k, for one query or a batch) and takes the
    faster, timing the other again every MULTI_INDEX_RETRY calls (that timing replaces
    the other's stale average, so one slow call costs at most a retry interval on the
    slower path): on codes the tables
    cannot split (clustered ones crowd a few buckets) it scans. `last_search` says what was chosen and why (logged
    when it changes).

    Codes live in segments (one per `add`, merged as the index grows); tables are
    built for a segment when a search first needs them, and saved with the index.
    `remove` / `update` work by id in both paths. `save` writes one file atomically;
    `load` memory-maps it, so a large index opens at once and a multi-index query
    reads only the pages it touches.

    Args:
      bits: code length; codes are stored as ceil(bits / 8) bytes.
      mode: "auto", "linear" or "multi_index" (the tables for every search; without
        the custom op the linear stock path answers, with the same results).
    """

    def __init__(self, bits, mode="auto"):
        self.bits = codes_lib.check_bits(bits)
        self.num_bytes = codes_lib.num_bytes(bits)
        self.mode = _check_mode(mode)
        self._segments = []
        self._next_id = 0
        self.last_search = None
        self._logged_plan = None

    # --- contents -------------------------------------------------------------

    def __len__(self):
        return sum(s.live for s in self._segments)

    @property
    def codes(self):
        """The live codes in insertion order, uint8 `[len, nbytes]` (a copy)."""
        parts = [s.codes[s.live_mask()] if s.num_removed else s.codes for s in self._segments]
        return np.concatenate(parts) if parts else np.zeros((0, self.num_bytes), np.uint8)

    @property
    def ids(self):
        """The ids of `codes`, int64 (a copy)."""
        parts = [s.ids[s.live_mask()] if s.num_removed else s.ids for s in self._segments]
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros((0,), np.int64)

    def add(self, packed, ids=None):
        """Appends codes; `ids` default to 0, 1, ... in the order codes were added."""
        packed = codes_lib.as_packed_numpy(packed, "codes")
        if packed.shape[1] != self.num_bytes:
            raise ValueError(f"{self.bits}-bit codes have {self.num_bytes} bytes, got {packed.shape[1]}")
        n = packed.shape[0]
        if ids is None:
            ids = np.arange(self._next_id, self._next_id + n, dtype=np.int64)
        ids = np.asarray(ids)
        if ids.shape != (n,) or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"ids must be {n} integers, got {ids.dtype} {ids.shape}")
        if not n:
            return
        ids = ids.astype(np.int64)
        self._next_id = max(self._next_id, int(ids.max()) + 1)
        self._segments.append(segment_lib.Segment(np.ascontiguousarray(packed), ids))
        # Merge while the last segment is at least half its predecessor: sizes fall
        # geometrically, so n codes make O(log n) segments and each code is copied
        # O(log n) times over the index's life.
        while len(self._segments) > 1 and 2 * self._segments[-1].size >= self._segments[-2].size:
            last = self._segments.pop()
            prev = self._segments.pop()
            a, b = (prev.compacted() if prev.num_removed else prev), (
                last.compacted() if last.num_removed else last)
            self._segments.append(segment_lib.Segment(np.concatenate([a.codes, b.codes]),
                                           np.concatenate([a.ids, b.ids])))

    def remove(self, ids):
        """Removes every code whose id is in `ids`; returns how many were removed."""
        ids = np.asarray(ids)
        if ids.ndim > 1 or (ids.size and not np.issubdtype(ids.dtype, np.integer)):
            raise ValueError(f"ids must be integers, got {ids.dtype} {ids.shape}")
        removed = 0
        for i, segment in enumerate(self._segments):
            hits = np.flatnonzero(np.isin(segment.ids, ids) & segment.live_mask())
            if not len(hits):
                continue
            segment.mark(hits)
            removed += len(hits)
            if segment.num_removed > _COMPACT_SHARE * segment.size:
                self._segments[i] = segment.compacted()
        self._segments = [s for s in self._segments if s.live]
        return removed

    def update(self, packed, ids):
        """Replaces the codes of `ids` (adding those not present): the updated codes
        count as the newest for ties, as a remove then add would."""
        packed, ids = codes_lib.checked_update(packed, ids, self.bits)
        self.remove(ids)
        self.add(packed, ids)

    # --- search ---------------------------------------------------------------

    def _queries(self, queries):
        queries = codes_lib.as_packed_numpy(queries, "queries")
        if queries.shape[1] != self.num_bytes:
            raise ValueError(f"queries have {queries.shape[1]} bytes per code, the index {self.num_bytes}")
        if not len(self):
            raise ValueError("the index is empty: add codes first")
        return np.ascontiguousarray(queries)

    def plan(self, num_queries, segment, k=None):
        """`(path, reason)` for `num_queries` queries (top-k, or a range search when
        k is None) over one segment."""
        if self.mode == "linear":
            return "linear", "mode='linear'"
        if multi_index.native() is None:
            return "linear", "no custom op (multi-index tables need it; same answers)"
        if self.mode == "multi_index":
            return "multi_index", "mode='multi_index'"
        if segment.live < MULTI_INDEX_MIN_CODES:
            return "linear", f"{segment.live} codes < {MULTI_INDEX_MIN_CODES}"
        seen = segment.timings.get(_timing_key(k, num_queries), {})
        tables, scan = seen.get("multi_index"), seen.get("linear")
        if tables is None:
            return "multi_index", (f"{segment.live} codes >= {MULTI_INDEX_MIN_CODES}: trying the "
                                   f"tables (a query gives up after "
                                   f"{self._budget(segment, num_queries, k):,} visits)")
        if scan is None:
            return "linear", "timing the scan once, to compare"
        best = _faster(seen)
        other = "linear" if best == "multi_index" else "multi_index"
        calls = seen.get("calls", 0)
        path = other if calls % MULTI_INDEX_RETRY == MULTI_INDEX_RETRY - 1 else best
        return path, (f"measured {tables * 1e3:.3f} ms a query by the tables, {scan * 1e3:.3f} "
                      f"ms by the scan" + (" (timing the slower again)" if path == other else ""))

    def _budget(self, segment, num_queries, k=None):
        """Table entries a query may visit: what scanning the segment costs it (none
        when the tables were asked for); the constant estimate, or the measured ratio
        of the scan's seconds per query to the tables' seconds per visit where that is
        more (a top-k search with both paths timed)."""
        if self.mode == "multi_index":
            return None
        words = -(-self.num_bytes // 8)
        cost = VISIT_COST_BATCH if num_queries > SCAN_BATCH else VISIT_COST_ONE
        budget = int(segment.size * words / cost)
        seen = segment.timings.get(_timing_key(k, num_queries), {}) if k is not None else {}
        if seen.get("linear") and seen.get("visit"):
            budget = max(budget, int(seen["linear"] / seen["visit"]))
        return budget + 256

    def _tables(self, segment):
        if segment.tables is None:
            segment.tables = multi_index.Tables.build(segment.codes, self.bits)
        return segment.tables

    @staticmethod
    def _layout(segment):
        """Lays a segment out once for the custom op's scan; False without the op."""
        if ops.load() is None:
            return False
        if segment.grouped is None:
            index_file.advise(segment.codes, "MADV_WILLNEED")  # a mapped file is read whole here
            segment.grouped = tf.constant(hamming.group_database(segment.codes))
        return True

    def _linear_topk(self, segment, queries, k):
        """Top-k of the live codes of one segment: local positions and distances."""
        want = min(segment.size, k + segment.num_removed)
        if self._layout(segment):
            d, p = hamming.hamming_topk_grouped(queries, segment.grouped, segment.size, want)
        else:
            d, p = hamming.hamming_topk(queries, segment.codes, want)
        d, p = d.numpy(), p.numpy()
        if segment.num_removed:
            live = segment.live_mask()[p]
            order = np.argsort(~live, axis=1, kind="stable")[:, :k]  # live first, in order
            d, p = np.take_along_axis(d, order, 1), np.take_along_axis(p, order, 1)
        return d[:, :k], p[:, :k]

    def search(self, queries, k):
        """The k nearest codes of each query: `(distances int32, ids int64)`, both
        `[nq, min(k, len(index))]`, nearest first, ties by insertion order."""
        queries = self._queries(queries)
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k <= 0:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        k = int(min(k, len(self)))
        nq = queries.shape[0]
        parts_d, parts_order, parts_ids, record = [], [], [], []
        base = 0
        for segment in self._segments:
            kk = min(k, segment.live)
            path, reason = self.plan(nq, segment, kk)
            # a retry of the slower path (auto): its timing replaces that path's average
            retry = _faster(segment.timings.get(_timing_key(kk, nq), {})) not in (None, path)
            # what a path costs once (the tables, the scan's layout) is not what its
            # queries cost, so auto's timing leaves it out
            tables = self._tables(segment) if path == "multi_index" else self._layout(segment)
            started = time.perf_counter()
            if path == "multi_index":
                d, p, counts, visited = tables.search(segment.codes, queries, k=kk,
                                                      removed=segment.removed,
                                                      budget=self._budget(segment, nq, kk))
                over = np.flatnonzero(counts < 0)
                # a visit's seconds, from calls that no query gave up (a query that
                # gives up counts a crowded bucket whole before reading it)
                if self.mode == "auto" and visited.sum() > 0 and not len(over):
                    _average(segment.timings.setdefault(_timing_key(kk, nq), {}), "visit",
                             (time.perf_counter() - started) / visited.sum())
                if len(over):  # crowded tables: the scan answers these queries
                    laid_out = time.perf_counter()
                    self._layout(segment)  # once, and not a query's cost (below)
                    started += time.perf_counter() - laid_out
                    ld, lp = self._linear_topk(segment, queries[over], kk)
                    d[over], p[over] = ld, lp
                record.append({"path": path, "reason": reason, "codes": segment.live,
                               "visited": int(visited.sum()), "fallback_queries": len(over)})
            else:
                d, p = self._linear_topk(segment, queries, kk)
                record.append({"path": path, "reason": reason, "codes": segment.live})
            if self.mode == "auto":
                _time(segment, _timing_key(kk, nq), path, (time.perf_counter() - started) / nq,
                      fresh=retry)
            parts_d.append(d)
            parts_order.append(p + base)
            parts_ids.append(segment.ids[p])
            base += segment.size
        self._note(record)
        if len(parts_d) == 1:
            return parts_d[0].astype(np.int32), parts_ids[0].astype(np.int64)
        d, order, ids = (np.concatenate(x, axis=1) for x in (parts_d, parts_order, parts_ids))
        best = np.lexsort((order, d), axis=1)[:, :k]
        return (np.take_along_axis(d, best, 1).astype(np.int32),
                np.take_along_axis(ids, best, 1).astype(np.int64))

    def _note(self, record):
        """Keeps the record of the last search; logs it when a segment's path changes."""
        self.last_search = record
        summary = tuple((r["codes"], r["path"]) for r in record)
        if summary != self._logged_plan:
            self._logged_plan = summary
            logging.info("HammingIndex search: %s", "; ".join(
                f"{r['codes']} codes by {r['path']} ({r['reason']})" for r in record))

    def range_search(self, queries, radius):
        """All codes within Hamming distance `radius` of each query.

        Returns `(lims, distances, ids)` as faiss does: the results of query i are
        `distances[lims[i]:lims[i + 1]]` and `ids[...]`, nearest first, ties by
        insertion order.
        """
        queries = self._queries(queries)
        if isinstance(radius, bool) or not isinstance(radius, (int, np.integer)) or radius < 0:
            raise ValueError(f"radius must be a non-negative integer, got {radius!r}")
        nq = queries.shape[0]
        per_query = [[] for _ in range(nq)]  # (distances, order, ids) per segment
        base, record = 0, []
        for segment in self._segments:
            path, reason = self.plan(nq, segment)
            results = None
            if path == "multi_index":
                results = self._range_tables(segment, queries, int(radius))
            if results is None:
                path = "linear" if path == "linear" else "linear (tables crowded)"
                results = self._range_linear(segment, queries, int(radius))
            record.append({"path": path, "reason": reason, "codes": segment.live})
            for q, (d, p) in enumerate(results):
                per_query[q].append((d, p + base, segment.ids[p]))
            base += segment.size
        self._note(record)
        lims, all_d, all_i = [0], [], []
        for parts in per_query:
            d, order, ids = (np.concatenate([x[j] for x in parts]) for j in range(3))
            best = np.lexsort((order, d))
            all_d.append(d[best].astype(np.int32))
            all_i.append(ids[best].astype(np.int64))
            lims.append(lims[-1] + len(best))
        return np.asarray(lims, np.int64), np.concatenate(all_d), np.concatenate(all_i)

    def _range_linear(self, segment, queries, radius):
        live = segment.live_mask()
        out = []
        chunk = max(1, (16 << 20) // segment.size)
        for start in range(0, queries.shape[0], chunk):
            dist = hamming.hamming_distance(queries[start : start + chunk], segment.codes).numpy()
            for row in dist:
                hits = np.flatnonzero((row <= radius) & live)
                order = hits[np.argsort(row[hits], kind="stable")]
                out.append((row[order].astype(np.int32), order.astype(np.int64)))
        return out

    def _range_tables(self, segment, queries, radius):
        tables = self._tables(segment)
        budget = self._budget(segment, queries.shape[0])
        capacity = 64
        out = [None] * queries.shape[0]
        todo = np.arange(queries.shape[0])
        while len(todo):
            d, p, counts, _ = tables.search(segment.codes, queries[todo], radius=radius,
                                            removed=segment.removed, budget=budget, capacity=capacity)
            if (counts < 0).any():
                return None
            fits = counts <= capacity
            for row in np.flatnonzero(fits):
                out[todo[row]] = (d[row, : counts[row]].copy(), p[row, : counts[row]].copy())
            todo = todo[~fits]
            capacity = int(counts.max()) if len(counts) else capacity
        return out

    # --- persistence ----------------------------------------------------------

    def save(self, path):
        """Writes the index to one file atomically (temporary file, then rename):
        codes, ids, removal marks and the tables built so far, each aligned so that
        `load` can memory-map it (tfhash.retrieval.index_file)."""
        index_file.write(path, self.bits, self._next_id, [
            (s.codes, s.ids, s.removed, s.tables) for s in self._segments])

    @classmethod
    def load(cls, path, mode="auto", mapped=True):
        """Reads an index written by `save` (or by tfhash before the multi-index
        format); `mapped=True` memory-maps the file instead of reading it, so a
        multi-index query faults in only the pages it touches. A damaged file is a
        clear ValueError."""
        bits, next_id, segments = index_file.read(path, mapped)
        index = cls(bits, mode)
        index._segments = [segment_lib.Segment(*parts) for parts in segments]
        index._segments = [s for s in index._segments if s.live]
        index._next_id = next_id
        return index

    # --- faiss ----------------------------------------------------------------

    def to_faiss(self):
        """A faiss IndexBinaryFlat over the same codes (wrapped in IndexBinaryIDMap
        when the ids are not 0..n-1). Needs `pip install tfhash[faiss]`."""
        import faiss

        codes, ids = self.codes, self.ids
        flat = faiss.IndexBinaryFlat(8 * self.num_bytes)
        if np.array_equal(ids, np.arange(len(ids))):
            flat.add(codes)
            return flat
        index = faiss.IndexBinaryIDMap(flat)
        index.add_with_ids(codes, ids)
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


def _timing_key(k, num_queries):
    return k, num_queries > SCAN_BATCH


def _faster(seen):
    """The path with the lower average seconds per query in `seen` (the tables on a
    tie), or None until both are timed."""
    tables, scan = seen.get("multi_index"), seen.get("linear")
    if tables is None or scan is None:
        return None
    return "multi_index" if tables <= scan else "linear"


def _time(segment, key, path, seconds, fresh=False):
    """Folds one call's seconds per query into the segment's moving average of `path`;
    `fresh` (a retry of the slower path) replaces that average instead."""
    seen = segment.timings.setdefault(key, {})
    if fresh:
        seen[path] = seconds
    else:
        _average(seen, path, seconds)
    seen["calls"] = seen.get("calls", 0) + 1


def _average(seen, name, value):
    """Folds `value` into the moving average `seen[name]`."""
    old = seen.get(name)
    seen[name] = value if old is None else 0.75 * old + 0.25 * value


def _check_mode(mode):
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    return mode

