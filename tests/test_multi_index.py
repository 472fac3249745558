"""The multi-index mode of HammingIndex against brute force in NumPy: every code
length, data shape, k and radius; removals, updates, segments; memory-mapped
save/load; the automatic choice and its fallback; every CPU path."""

import time

import numpy as np
import pytest

from tfhash import ops, retrieval
from tfhash.retrieval import hamming
from tfhash.retrieval import index as index_lib
from tfhash.retrieval import multi_index
from tfhash.retrieval import segment as segment_lib

needs_op = pytest.mark.skipif(ops.load() is None, reason=f"custom op not built: {ops.backend()}")


def brute_topk(queries, codes, ids, k):
    """NumPy: distances by unpacked bits, ties by insertion order."""
    d = (np.unpackbits(queries, axis=1)[:, None] != np.unpackbits(codes, axis=1)[None]).sum(2)
    order = np.stack([np.lexsort((np.arange(len(codes)), row)) for row in d])[:, :k]
    return np.take_along_axis(d, order, 1), ids[order]


def brute_range(queries, codes, ids, radius):
    d = (np.unpackbits(queries, axis=1)[:, None] != np.unpackbits(codes, axis=1)[None]).sum(2)
    out = []
    for row in d:
        hits = np.flatnonzero(row <= radius)
        hits = hits[np.argsort(row[hits], kind="stable")]
        out.append((row[hits], ids[hits]))
    return out


def make_codes(rng, kind, n, bits):
    nbytes = (bits + 7) // 8
    if kind == "uniform":
        codes = rng.integers(0, 256, (n, nbytes), dtype=np.uint8)
    elif kind == "clustered":  # a few centres with 0-3 bits flipped: crowded buckets
        centres = rng.integers(0, 2, (5, bits), dtype=np.uint8)
        bitsarr = centres[rng.integers(0, 5, n)]
        flips = rng.random((n, bits)) < 2.0 / bits
        codes = np.packbits(bitsarr ^ flips, axis=1, bitorder="little")
    else:  # duplicates: 6 distinct codes
        codes = rng.integers(0, 256, (6, nbytes), dtype=np.uint8)[rng.integers(0, 6, n)]
    if bits % 8:
        codes[:, -1] &= (1 << (bits % 8)) - 1
    return np.ascontiguousarray(codes)


def queries_for(rng, codes, bits, nq=6):
    q = codes[rng.integers(0, len(codes), nq)].copy()
    q[::2] = make_codes(rng, "uniform", len(q[::2]), bits)
    return q


@needs_op
@pytest.mark.parametrize("bits", [12, 24, 48, 64, 200])
@pytest.mark.parametrize("kind", ["uniform", "clustered", "duplicates"])
def test_multi_index_equals_brute_force(rng, bits, kind):
    codes = make_codes(rng, kind, 700, bits)
    ids = np.arange(700) * 3 + 5
    index = retrieval.HammingIndex(bits, mode="multi_index")
    index.add(codes, ids)
    queries = queries_for(rng, codes, bits)
    for k in (1, 2, 7, 100, 700, 5000):
        d, i = index.search(queries, k)
        ref_d, ref_i = brute_topk(queries, codes, ids, min(k, 700))
        np.testing.assert_array_equal(d, ref_d)
        np.testing.assert_array_equal(i, ref_i)
    assert index.last_search[0]["path"] == "multi_index"
    for radius in (0, 1, bits // 4, bits):
        lims, d, i = index.range_search(queries, radius)
        for q, (ref_d, ref_i) in enumerate(brute_range(queries, codes, ids, radius)):
            np.testing.assert_array_equal(d[lims[q]:lims[q + 1]], ref_d)
            np.testing.assert_array_equal(i[lims[q]:lims[q + 1]], ref_i)


def search_each(tables, codes, queries, **kwargs):
    """Tables.search of one query at a time (fewer queries than threads: shared)."""
    parts = [tables.search(codes, queries[q:q + 1], **kwargs) for q in range(len(queries))]
    return tuple(np.concatenate(column) for column in zip(*parts))


@needs_op
@pytest.mark.parametrize("threads", [2, 3])
@pytest.mark.parametrize("share_after", [0, 300])  # handed over after the first step; later
@pytest.mark.parametrize("crowding", [1 << 40, multi_index.SHARE_CROWDING])  # any step; sparse
def test_threads_sharing_one_query_give_the_same_answers(rng, monkeypatch, threads, share_after,
                                                         crowding):
    monkeypatch.setattr(multi_index, "SHARE_FROM", 1)
    monkeypatch.setattr(multi_index, "SHARE_AFTER", share_after)
    monkeypatch.setattr(multi_index, "SHARE_CROWDING", crowding)
    for bits, kind in ((64, "uniform"), (24, "duplicates"), (48, "clustered")):
        codes = make_codes(rng, kind, 3000, bits)
        tables = multi_index.Tables.build(codes, bits)
        removed = np.packbits(rng.random(3000) < 0.1, bitorder="little")
        live = ~np.unpackbits(removed, bitorder="little")[:3000].astype(bool)
        queries = queries_for(rng, codes, bits, 2)
        for k in (1, 10, 500):
            d, p, counts, _ = search_each(tables, codes, queries, k=k, removed=removed, threads=threads)
            ref_d, ref_i = brute_topk(queries, codes[live], np.flatnonzero(live), k)
            assert (counts == k).all()
            np.testing.assert_array_equal(d, ref_d)
            np.testing.assert_array_equal(p, ref_i)
        d, p, counts, _ = search_each(tables, codes, queries, radius=bits // 5, removed=removed,
                                        capacity=3000, threads=threads)
        for q, (ref_d, ref_i) in enumerate(brute_range(queries, codes[live], np.flatnonzero(live),
                                                       bits // 5)):
            np.testing.assert_array_equal(p[q, :counts[q]], ref_i)
        # a budget shared by the threads: given up, never a partial answer
        _, _, counts, _ = search_each(tables, codes, queries, k=2000, budget=100, threads=threads)
        assert (counts == -1).all()


@needs_op
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_a_crowded_bucket_of_equal_codes_stops_at_the_kth(rng, monkeypatch, threads):
    # Learned codes collapse: a query's k nearest are often copies of it in a bucket
    # of many chunks. Mixed into that bucket: codes that share only its first
    # substring; some copies removed.
    monkeypatch.setattr(multi_index, "SHARE_FROM", 1)
    monkeypatch.setattr(multi_index, "SHARE_AFTER", 0)
    monkeypatch.setattr(multi_index, "SHARE_CROWDING", 1 << 40)
    n, bits = 12_000, 48
    base = make_codes(rng, "uniform", 1, bits)[0]
    codes = make_codes(rng, "uniform", n, bits)
    kind = rng.integers(0, 3, n)  # 0: random, 1: a copy, 2: the first 2 bytes shared
    codes[kind == 1] = base
    codes[kind == 2, :2] = base[:2]
    removed_mask = (rng.random(n) < 0.1) & (kind == 1)
    removed = np.packbits(removed_mask, bitorder="little")
    live = np.flatnonzero(~removed_mask)
    tables = multi_index.Tables.build(codes, bits)
    lo, length = tables.substrings[0]
    assert lo == 0 and length <= 16  # the shared bytes hold the first substring
    first = (codes[:, 0].astype(np.int64) | codes[:, 1].astype(np.int64) << 8) % (1 << length)
    bucket = np.flatnonzero(first == first[kind == 1][0])  # ascending positions
    assert len(bucket) > 3 * 512  # several chunks
    copies = int(((kind == 1) & ~removed_mask).sum())
    queries = np.stack([base, codes[np.flatnonzero(kind == 2)[0]]])
    for k in (1, 2, 511, 513, 1500, copies, copies + 3, 5000):
        d, p, counts, visited = search_each(tables, codes, queries, k=k, removed=removed,
                                              threads=threads)
        ref_d, ref_i = brute_topk(queries, codes[live], live, k)
        np.testing.assert_array_equal(d, ref_d)
        np.testing.assert_array_equal(p, ref_i)
        if threads == 1 and k <= copies:  # read up to the k-th live copy, then stop
            kth = np.flatnonzero((kind[bucket] == 1) & ~removed_mask[bucket])[k - 1]
            assert visited[0] == kth + 2  # the entries read and the directory read
    # stopping early keeps a crowded bucket within a small budget
    d, p, counts, _ = search_each(tables, codes, queries[:1], k=3, budget=50, threads=threads)
    np.testing.assert_array_equal(p[0], np.flatnonzero(kind == 1)[:3])
    assert (d == 0).all()


@needs_op
def test_every_k_from_one_to_n_on_a_small_database(rng):
    codes = make_codes(rng, "duplicates", 40, 24)
    index = retrieval.HammingIndex(24, mode="multi_index")
    index.add(codes)
    queries = queries_for(rng, codes, 24, 3)
    for k in range(1, 41):
        d, i = index.search(queries, k)
        ref_d, ref_i = brute_topk(queries, codes, np.arange(40), k)
        np.testing.assert_array_equal(d, ref_d)
        np.testing.assert_array_equal(i, ref_i)


@needs_op
@pytest.mark.parametrize("n", [1, 2, 3])
def test_tiny_and_empty_databases(rng, n):
    index = retrieval.HammingIndex(48, mode="multi_index")
    with pytest.raises(ValueError, match="empty"):
        index.search(np.zeros((1, 6), np.uint8), 1)
    codes = make_codes(rng, "uniform", n, 48)
    index.add(codes)
    queries = queries_for(rng, codes, 48, 2)
    d, i = index.search(queries, 5)
    ref_d, ref_i = brute_topk(queries, codes, np.arange(n), n)
    np.testing.assert_array_equal(d, ref_d)
    np.testing.assert_array_equal(i, ref_i)
    index.remove(np.arange(n))
    assert len(index) == 0
    with pytest.raises(ValueError, match="empty"):
        index.search(queries, 1)


@pytest.mark.parametrize("mode", ["multi_index", "linear"])
def test_removal_update_and_segments_in_both_modes(rng, mode):
    if mode == "multi_index" and ops.load() is None:
        pytest.skip("custom op not built")
    bits = 48
    codes = make_codes(rng, "clustered", 800, bits)
    index = retrieval.HammingIndex(bits, mode=mode)
    for start, stop in ((0, 600), (600, 700), (700, 710), (710, 760), (760, 800)):
        index.add(codes[start:stop])
    assert len(index._segments) > 1  # several segments
    live = np.ones(800, bool)
    gone = rng.choice(800, 40, replace=False)  # few: marks, not compaction
    assert index.remove(np.concatenate([gone, [10_000]])) == 40
    live[gone] = False
    queries = queries_for(rng, codes, bits)
    ids = np.arange(800)
    for k in (1, 10, 760):
        d, i = index.search(queries, k)
        ref_d, ref_i = brute_topk(queries, codes[live], ids[live], k)
        np.testing.assert_array_equal(d, ref_d)
        np.testing.assert_array_equal(i, ref_i)
    lims, d, i = index.range_search(queries, 6)
    for q, (ref_d, ref_i) in enumerate(brute_range(queries, codes[live], ids[live], 6)):
        np.testing.assert_array_equal(i[lims[q]:lims[q + 1]], ref_i)
    # update: new codes for 5 live ids and 1 new id, newest for ties
    changed = np.array([1, 2, 3, 700, 799, 5000])
    changed = changed[np.isin(changed, gone, invert=True)]
    fresh = make_codes(rng, "uniform", len(changed), bits)
    index.update(fresh, changed)
    keep = live & ~np.isin(ids, changed)
    all_codes = np.concatenate([codes[keep], fresh])
    all_ids = np.concatenate([ids[keep], changed])
    np.testing.assert_array_equal(index.ids, all_ids)
    d, i = index.search(queries, 50)
    ref_d, ref_i = brute_topk(queries, all_codes, all_ids, 50)
    np.testing.assert_array_equal(d, ref_d)
    np.testing.assert_array_equal(i, ref_i)
    # many removals compact a segment; the answers stay the same
    index.remove(all_ids[:300])
    d, i = index.search(queries, 20)
    ref_d, ref_i = brute_topk(queries, all_codes[300:], all_ids[300:], 20)
    np.testing.assert_array_equal(i, ref_i)


@needs_op
def test_segments_stay_few_and_match_one_add(rng):
    codes = make_codes(rng, "uniform", 3000, 64)
    index = retrieval.HammingIndex(64, mode="multi_index")
    for start in range(0, 3000, 37):
        index.add(codes[start:start + 37])
    assert len(index._segments) <= 2 * int(np.log2(3000))
    queries = queries_for(rng, codes, 64)
    d, i = index.search(queries, 25)
    ref_d, ref_i = brute_topk(queries, codes, np.arange(3000), 25)
    np.testing.assert_array_equal(d, ref_d)
    np.testing.assert_array_equal(i, ref_i)


def auto_index(monkeypatch, codes, bits=64):
    """An index in mode auto over `codes`, with tables from 500 codes on."""
    monkeypatch.setattr(index_lib, "MULTI_INDEX_MIN_CODES", 500)
    index = retrieval.HammingIndex(bits)
    index.add(codes)
    return index


@needs_op
def test_auto_chooses_says_why_and_falls_back_on_crowded_tables(rng, monkeypatch):
    codes = make_codes(rng, "uniform", 2000, 64)
    index = auto_index(monkeypatch, codes)
    queries = queries_for(rng, codes, 64, 20)
    d, i = index.search(queries[:2], 10)
    assert index.last_search[0]["path"] == "multi_index"
    assert "2000 codes >= 500: trying the tables" in index.last_search[0]["reason"]
    ref = brute_topk(queries, codes, np.arange(2000), 10)
    np.testing.assert_array_equal(i, ref[1][:2])
    d, i = index.search(queries, 10)  # a batch: timed apart from single queries
    assert index.last_search[0]["path"] == "multi_index"
    np.testing.assert_array_equal(i, ref[1])
    small = retrieval.HammingIndex(64)
    small.add(codes[:499])
    small.search(queries[:1], 3)
    assert small.last_search[0]["reason"] == "499 codes < 500"
    # duplicate-heavy codes crowd the buckets: the budget runs out, the scan answers.
    # From here the timings are fixed (tables twice the scan), so that the choice below
    # does not hang on the load of a shared machine (a real timing once flipped it)
    measured = index_lib._time
    monkeypatch.setattr(index_lib, "_time", lambda segment, key, path, seconds, **kw: measured(
        segment, key, path, {"multi_index": 2e-3, "linear": 1e-3}[path], **kw))
    crowded = retrieval.HammingIndex(64)
    dup = make_codes(rng, "duplicates", 2000, 64)
    crowded.add(dup)
    d, i = crowded.search(dup[:3], 700)
    assert crowded.last_search[0]["fallback_queries"] == 3
    np.testing.assert_array_equal(i, brute_topk(dup[:3], dup, np.arange(2000), 700)[1])
    # auto times both paths and takes the faster, timing the other again every
    # MULTI_INDEX_RETRY calls. On these codes the tables cost their budget and then the
    # scan
    paths = []
    for _ in range(2 * index_lib.MULTI_INDEX_RETRY):
        d, i = crowded.search(dup[:3], 700)
        paths.append(crowded.last_search[0]["path"])
    np.testing.assert_array_equal(i, brute_topk(dup[:3], dup, np.arange(2000), 700)[1])
    assert paths[0] == "linear"  # the scan timed once, to compare
    assert paths[1:].count("multi_index") == 2, paths
    # the search before the loop was call 0: calls 31 and 63 retry the tables
    assert [n for n, p in enumerate(paths) if p == "multi_index"] == [30, 62], paths
    assert "measured 2.000 ms a query by the tables, 1.000 ms by the scan" in (
        crowded.last_search[0]["reason"])
    assert crowded.search(dup[:3], 1)[1].shape == (3, 1)  # another k: timed on its own
    assert "trying the tables" in crowded.last_search[0]["reason"]
    forced = retrieval.HammingIndex(64, mode="linear")
    forced.add(codes)
    forced.search(queries[:1], 3)
    assert forced.last_search[0] == {"path": "linear", "reason": "mode='linear'", "codes": 2000}


@needs_op
def test_auto_comes_back_from_one_slow_call_at_the_first_retry(rng, monkeypatch):
    # tables 1 ms a query, the scan 2 ms, and one call of the tables at 50 ms (a hiccup
    # of the machine): the moving average then puts the tables at 13.25 ms, auto scans,
    # and the next retry's 1 ms must bring the tables back (joined to the average it
    # would read 10.19 ms, and it took nine retries, 288 calls, to come back)
    codes = make_codes(rng, "uniform", 2000, 64)
    index = auto_index(monkeypatch, codes)
    queries = queries_for(rng, codes, 64, 1)
    measured, calls = index_lib._time, []

    def fake(segment, key, path, seconds, **kw):
        calls.append(path)
        slow = path == "multi_index" and len(calls) == 6
        measured(segment, key, path, 50e-3 if slow else {"multi_index": 1e-3,
                                                          "linear": 2e-3}[path], **kw)

    monkeypatch.setattr(index_lib, "_time", fake)
    ref = brute_topk(queries, codes, np.arange(2000), 10)
    for _ in range(2 * index_lib.MULTI_INDEX_RETRY):
        d, i = index.search(queries, 10)
        np.testing.assert_array_equal(d, ref[0])
        np.testing.assert_array_equal(i, ref[1])
    seen = index._segments[0].timings[(10, False)]
    # calls 0 and 1 time each path; 2-5 take the tables, 5 slowly; from 6 the scan,
    # until call 31 (the 32nd) times the tables again and hands the choice back; call
    # 63 retries the scan
    scanned = [n for n, p in enumerate(calls) if p == "linear"]
    assert scanned == [1] + list(range(6, 31)) + [63], scanned
    np.testing.assert_allclose([seen["multi_index"], seen["linear"]], [1e-3, 2e-3])
    assert index.last_search[0]["reason"] == ("measured 1.000 ms a query by the tables, "
                                              "2.000 ms by the scan (timing the slower again)")


@needs_op
def test_auto_budget_grows_to_the_measured_scan_over_visit_ratio(rng, monkeypatch):
    dup = make_codes(rng, "duplicates", 2000, 64)
    index = auto_index(monkeypatch, dup)
    segment = index._segments[0]
    constant = 2000 * 1 // index_lib.VISIT_COST_ONE + 256  # one 64-bit word a code
    assert index._budget(segment, 1, 700) == constant  # nothing measured yet
    d, i = index.search(dup[:1], 700)  # crowded buckets: over the budget, scanned
    ref = brute_topk(dup[:1], dup, np.arange(2000), 700)
    np.testing.assert_array_equal(i, ref[1])
    assert index.last_search[0]["fallback_queries"] == 1
    seen = segment.timings[(700, False)]
    # a call in which a query gave up measures no visit (its count holds a crowded
    # bucket it never read); one in which none did measures its seconds per visit
    assert "visit" not in seen
    index.search(dup[:1], 1)
    assert index.last_search[0]["path"] == "multi_index"
    assert index.last_search[0]["fallback_queries"] == 0
    assert segment.timings[(1, False)]["visit"] > 0
    # a scan measured at 1 s a query and a visit at 1 us: 1,000,000 visits allowed
    seen.update({"linear": 1.0, "visit": 1e-6, "multi_index": 1e-3})
    assert index._budget(segment, 1, 700) == 1_000_000 + 256
    d, i = index.search(dup[:1], 700)
    assert index.last_search[0]["path"] == "multi_index"
    assert index.last_search[0]["fallback_queries"] == 0  # the tables finished it
    np.testing.assert_array_equal(d, ref[0])
    np.testing.assert_array_equal(i, ref[1])
    # a measured ratio below the constant never lowers the budget
    seen.update({"linear": 1e-6, "visit": 1e-6})
    assert index._budget(segment, 1, 700) == constant
    assert index._budget(segment, 1, 5) == constant  # another k: its own timings
    assert retrieval.HammingIndex(64, mode="multi_index")._budget(segment, 1, 700) is None


@needs_op
def test_auto_times_queries_not_the_one_off_layout_or_tables(rng, monkeypatch):
    # the scan's layout and the tables are built once; counted in the first call's
    # seconds per query they made a slow path look fast (measured on 10M learned codes)
    codes = make_codes(rng, "uniform", 2000, 64)
    index = auto_index(monkeypatch, codes)
    slow = {"group": hamming.group_database, "build": multi_index.Tables.build}
    monkeypatch.setattr(hamming, "group_database",
                        lambda c: (time.sleep(0.5), slow["group"](c))[1])
    monkeypatch.setattr(multi_index.Tables, "build",
                        staticmethod(lambda *a: (time.sleep(0.5), slow["build"](*a))[1]))
    queries = queries_for(rng, codes, 64, 1)
    for path in ("multi_index", "linear"):  # trying the tables, then timing the scan
        index.search(queries, 10)
        assert index.last_search[0]["path"] == path
    seen = index._segments[0].timings[(10, False)]
    assert seen["multi_index"] < 0.25 and seen["linear"] < 0.25, seen


def test_without_the_custom_op_the_same_answers(rng, monkeypatch):
    codes = make_codes(rng, "clustered", 800, 24)
    queries = queries_for(rng, codes, 24)
    with_op = retrieval.HammingIndex(24, mode="multi_index")
    with_op.add(codes)
    with_op.remove([3, 4, 5])
    expected = with_op.search(queries, 30)
    monkeypatch.setenv("TFHASH_DISABLE_CUSTOM_OPS", "1")
    assert multi_index.native() is None
    d, i = with_op.search(queries, 30)
    assert with_op.last_search[0]["path"] == "linear"
    np.testing.assert_array_equal(d, expected[0])
    np.testing.assert_array_equal(i, expected[1])


@needs_op
@pytest.mark.parametrize("isa", ["scalar", "avx2", "avx512"])
def test_every_cpu_path_gives_the_same_answers(rng, monkeypatch, isa):
    monkeypatch.setenv("TFHASH_CPU_ISA", isa)
    name = multi_index.isa()
    if "not supported" in name:
        pytest.skip(f"this CPU has no {isa}: {name}")
    assert name.startswith("avx512-vpopcntdq" if isa == "avx512" else isa)
    codes = make_codes(rng, "uniform", 1500, 200)
    index = retrieval.HammingIndex(200, mode="multi_index")
    index.add(codes)
    queries = queries_for(rng, codes, 200)
    d, i = index.search(queries, 9)
    ref_d, ref_i = brute_topk(queries, codes, np.arange(1500), 9)
    np.testing.assert_array_equal(d, ref_d)
    np.testing.assert_array_equal(i, ref_i)


def test_tables_stay_within_four_bytes_a_code():
    # positions of ceil(log2 n) bits and a 2-byte directory entry per substring value
    for n in (1 << 16, 10_000_000, 100_000_000):
        s = multi_index.substring_bits(n)
        per_code = (multi_index.position_bits(n) / 8 + 2 * (1 << s) / n
                    + 4 * ((1 << s) >> multi_index.BLOCK_SHIFT) / n)
        assert per_code <= 4.0, (n, s, per_code)
        assert s >= int(np.log2(n)) - 3  # long enough to keep buckets small
    assert multi_index.layout(64, 10_000_000) == [(0, 22), (22, 21), (43, 21)]
    assert multi_index.layout(12, 100) == [(0, 6), (6, 6)]


@needs_op
def test_crowded_directory_blocks_hold_32_bit_offsets(rng):
    codes = make_codes(rng, "uniform", 70_000, 24)
    codes[:66_000] = codes[0]  # one substring value with more than 65,535 positions
    tables = multi_index.Tables.build(codes, 24)
    assert all(len(w) for w in tables.rel_wide)
    assert tables.nbytes / len(codes) / len(tables.substrings) <= 4.0
    index = retrieval.HammingIndex(24, mode="multi_index")
    index._segments = [segment_lib.Segment(codes, np.arange(70_000), tables=tables)]
    queries = np.concatenate([codes[:1], codes[-3:]])
    for k in (5, 66_001):
        d, i = index.search(queries, k)
        ref_d, ref_i = brute_topk(queries, codes, np.arange(70_000), k)
        np.testing.assert_array_equal(d, ref_d)
        np.testing.assert_array_equal(i, ref_i)


@needs_op
def test_measured_table_bytes(rng):
    codes = make_codes(rng, "uniform", 1 << 16, 64)
    tables = multi_index.Tables.build(codes, 64)
    assert tables.nbytes / len(codes) / len(tables.substrings) <= 4.0


@pytest.mark.parametrize("mode", ["multi_index", "linear"])
def test_save_load_memory_maps_and_keeps_tables(rng, tmp_path, mode):
    if mode == "multi_index" and ops.load() is None:
        pytest.skip("custom op not built")
    codes = make_codes(rng, "uniform", 1200, 40)
    index = retrieval.HammingIndex(40, mode=mode)
    index.add(codes[:1000])
    index.add(codes[1000:])
    index.remove([7, 1100])
    queries = queries_for(rng, codes, 40)
    expected = index.search(queries, 15)
    path = str(tmp_path / "index.tfh")
    index.save(path)
    loaded = retrieval.HammingIndex.load(path, mode=mode)
    assert len(loaded) == 1198 and loaded.bits == 40
    assert all(isinstance(s.codes, np.memmap) for s in loaded._segments)
    if mode == "multi_index":
        assert all(s.tables is not None for s in loaded._segments)  # saved, not rebuilt
        assert all(isinstance(s.tables.positions[0], np.memmap) for s in loaded._segments)
    d, i = loaded.search(queries, 15)
    np.testing.assert_array_equal(d, expected[0])
    np.testing.assert_array_equal(i, expected[1])
    np.testing.assert_array_equal(loaded.ids, index.ids)
    loaded.add(codes[:5], ids=[9000, 9001, 9002, 9003, 9004])  # a mapped index grows
    assert len(loaded) == 1203
    data = open(path, "rb").read()
    for damaged in (data[: len(data) // 2], data[:20], b"TFHASHIX" + b"\xff" * 30):
        open(path, "wb").write(damaged)
        with pytest.raises(ValueError, match="not a readable tfhash HammingIndex"):
            retrieval.HammingIndex.load(path)


def test_reads_the_first_format(rng, tmp_path):
    codes = make_codes(rng, "uniform", 30, 16)
    path = str(tmp_path / "old.index")
    with open(path, "wb") as f:
        np.savez(f, format=np.array("tfhash.HammingIndex/1"), bits=np.array(16), codes=codes,
                 ids=np.arange(30) + 100)
    index = retrieval.HammingIndex.load(path)
    np.testing.assert_array_equal(index.ids, np.arange(30) + 100)
    np.testing.assert_array_equal(index.codes, codes)


@needs_op
def test_damaged_tables_are_refused_not_read(rng, tmp_path):
    codes = make_codes(rng, "uniform", 500, 32)
    tables = multi_index.Tables.build(codes, 32)
    arrays = tables.arrays()
    short = dict(arrays, pos0=arrays["pos0"][:-9])
    with pytest.raises(ValueError, match="positions"):
        multi_index.Tables.from_arrays(short)
    shifted = arrays["layout"].copy()
    shifted[1, 0] += 1
    wrong = dict(arrays, layout=shifted)
    with pytest.raises(ValueError, match="does not follow"):
        multi_index.Tables.from_arrays(wrong)
    # positions past the codes (a damaged file of the right size) are skipped
    garbage = dict(arrays)
    garbage["pos0"] = np.full_like(arrays["pos0"], 0xFF)
    bad = multi_index.Tables.from_arrays(garbage)
    d, p, counts, _ = bad.search(codes, codes[:2], k=3)
    assert (p[counts > 0] < 500).all()


def test_bad_arguments(rng):
    with pytest.raises(ValueError, match="mode must be one of"):
        retrieval.HammingIndex(16, mode="fast")
    index = retrieval.HammingIndex(16)
    index.add(make_codes(rng, "uniform", 10, 16))
    with pytest.raises(ValueError, match="each id once"):
        index.update(make_codes(rng, "uniform", 2, 16), [1, 1])
    with pytest.raises(ValueError, match="ids must be integers"):
        index.remove(np.array([0.5]))
    assert index.remove([]) == 0


@needs_op
@pytest.mark.parametrize("bits, kind", [(64, "uniform"), (48, "clustered"), (200, "uniform")])
def test_visit_accounting_of_the_read_floors(rng, bits, kind):
    # benchmarks/index_speed.py prices a query's reads from each table's bucket sizes
    # at the radius the search reaches there; that count must be the search's own.
    from benchmarks.index_speed import table_visits

    codes = make_codes(rng, kind, 20_000, bits)
    queries = queries_for(rng, codes, bits, nq=8)
    index = retrieval.HammingIndex(bits, mode="multi_index")
    index.add(codes)
    segment = index._segments[0]
    index._tables(segment)
    for k in (1, 10, 100):
        visited = segment.tables.search(segment.codes, queries, k=k, threads=1)[3]
        counted = table_visits(index, queries, k, len(queries))
        assert [sum(c) + probes for _, c, probes, _ in counted] == visited.tolist(), k
        for q, (d, *_rest) in enumerate(counted):
            assert d == brute_topk(queries[q:q + 1], codes, np.arange(len(codes)), k)[0][0, -1]


@needs_op
def test_index_speed_auto_sequence_starts_from_fresh_timings(rng, monkeypatch):
    # benchmarks/index_speed.py --sequence: auto's calls from no timings for that k, so
    # its first call tries the tables and its second times the scan, whatever came before
    import argparse

    from benchmarks.index_speed import auto_sequence

    codes = make_codes(rng, "uniform", 2000, 64)
    auto = auto_index(monkeypatch, codes)
    mih = retrieval.HammingIndex(64, mode="multi_index")
    mih._segments = auto._segments
    linear = retrieval.HammingIndex(64, mode="linear")
    linear.add(codes)
    queries = queries_for(rng, codes, 64, 8)
    auto._segments[0].timings[(5, False)] = {"multi_index": 1.0, "linear": 1e-9, "calls": 7}
    mean, shares, tables_mean, scan_mean = auto_sequence(
        argparse.Namespace(sequence=8), auto, mih, linear, queries, 5)
    seen = auto._segments[0].timings[(5, False)]
    assert seen["calls"] == 8  # the stale timings were dropped, not continued
    assert shares["multi_index"] >= 1 / 8 and shares["linear"] >= 1 / 8
    assert shares["multi_index"] + shares["linear"] == 1
    assert mean > 0 and tables_mean > 0 and scan_mean > 0
