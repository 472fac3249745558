"""Retrieval metrics over Hamming rankings, in NumPy, processed in query chunks.

Conventions (shared by every metric here):
- codes are packed uint8 `[n, nbytes]`, or anything `pack_codes` accepts
  ({-1,+1}, {0,1} of a non-uint8 dtype, bool, real values);
- labels are class ids `[n]` or multi-hot `[n, c]`; a database item is relevant to a
  query when they share at least one label;
- the ranking is by Hamming distance, ties broken by lower database index.
"""

from typing import NamedTuple

import numpy as np

from tfhash.retrieval import codes as codes_lib
from tfhash.retrieval import hamming

# Upper bound on the elements of one (query chunk x database) block.
_CHUNK_ELEMENTS = 8 * 1024 * 1024


class RadiusPrecision(NamedTuple):
    """Precision inside a Hamming ball, and how many queries found nothing in it."""

    precision: float  # mean over all queries; a query with nothing inside scores 0
    empty_fraction: float  # share of queries with no database item inside the radius


def _packed(codes, name):
    if isinstance(codes, np.ndarray) and codes.dtype == np.uint8:
        return codes_lib.as_packed_numpy(codes, name)
    array = np.asarray(codes)
    if array.dtype == np.uint8:
        return codes_lib.as_packed_numpy(array, name)
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D [n, bits] or packed [n, nbytes], got {array.shape}")
    return codes_lib.pack_codes(array).numpy()


def _multi_hot(labels, name, num_classes=None):
    labels = np.asarray(labels)
    if labels.ndim == 1:
        if not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"{name} given as class ids must be integers, got {labels.dtype}")
        if labels.size and labels.min() < 0:
            raise ValueError(f"{name} has a negative class id {labels.min()}")
        size = num_classes if num_classes is not None else int(labels.max(initial=-1)) + 1
        one_hot = np.zeros((labels.shape[0], size), np.float32)
        one_hot[np.arange(labels.shape[0]), labels] = 1.0
        return one_hot
    if labels.ndim == 2:
        return (labels > 0).astype(np.float32)
    raise ValueError(f"{name} must be class ids [n] or multi-hot [n, c], got {labels.shape}")


def _prepare(query_codes, db_codes, query_labels, db_labels):
    q = _packed(query_codes, "query_codes")
    d = _packed(db_codes, "db_codes")
    if q.shape[1] != d.shape[1]:
        raise ValueError(
            f"query and database codes differ in bytes per code: {q.shape[1]} vs {d.shape[1]}"
        )
    query_labels, db_labels = np.asarray(query_labels), np.asarray(db_labels)
    if query_labels.ndim != db_labels.ndim:
        raise ValueError("query_labels and db_labels must both be class ids or both multi-hot")
    num_classes = None
    if query_labels.ndim == 1:
        num_classes = int(max(query_labels.max(initial=-1), db_labels.max(initial=-1))) + 1
    ql = _multi_hot(query_labels, "query_labels", num_classes)
    dl = _multi_hot(db_labels, "db_labels", num_classes)
    if ql.shape[1] != dl.shape[1]:
        raise ValueError(f"label widths differ: {ql.shape[1]} vs {dl.shape[1]}")
    for codes, labels, name in ((q, ql, "query"), (d, dl, "database")):
        if codes.shape[0] != labels.shape[0]:
            raise ValueError(
                f"{name} has {codes.shape[0]} codes but {labels.shape[0]} labels"
            )
    if d.shape[0] == 0:
        raise ValueError("the database is empty")
    return q, d, ql, dl


def _blocks(q, d, ql, dl):
    """Yields (distances int [c, nd], relevant bool [c, nd]) for query chunks."""
    chunk = max(1, _CHUNK_ELEMENTS // d.shape[0])
    for start in range(0, q.shape[0], chunk):
        dist = hamming.hamming_distance(q[start : start + chunk], d).numpy()
        relevant = (ql[start : start + chunk] @ dl.T) > 0
        yield dist, relevant


def _ranked_relevance(dist, relevant, length):
    """Relevance of the first `length` ranked items, ties by lower index."""
    # A stable sort on uint16 keys is a radix sort in NumPy: linear in nd.
    order = np.argsort(dist.astype(np.uint16), axis=1, kind="stable")[:, :length]
    return np.take_along_axis(relevant, order, axis=1)


def mean_average_precision(query_codes, db_codes, query_labels, db_labels, top_k=None):
    """mAP of Hamming ranking, over the top_k list (the whole database when None).

    AP of a query is the mean of the precision at each relevant position of its list
    (the list's relevant count is the denominator); a query with no relevant item in
    its list scores 0.
    """
    q, d, ql, dl = _prepare(query_codes, db_codes, query_labels, db_labels)
    if top_k is not None and (isinstance(top_k, bool) or int(top_k) != top_k or top_k <= 0):
        raise ValueError(f"top_k must be a positive integer or None, got {top_k!r}")
    length = d.shape[0] if top_k is None else min(int(top_k), d.shape[0])
    if q.shape[0] == 0:
        raise ValueError("there are no queries")
    positions = np.arange(1, length + 1, dtype=np.float64)
    ap_sum = 0.0
    for dist, relevant in _blocks(q, d, ql, dl):
        rel = _ranked_relevance(dist, relevant, length)
        hits = np.cumsum(rel, axis=1)
        found = hits[:, -1]
        precision_sum = np.sum(np.where(rel, hits / positions, 0.0), axis=1)
        ap_sum += float(np.sum(np.where(found > 0, precision_sum / np.maximum(found, 1), 0.0)))
    return ap_sum / q.shape[0]


def precision_at_k(query_codes, db_codes, query_labels, db_labels, ks):
    """Mean precision of the first k ranked items, for each k in `ks` (clamped to nd)."""
    q, d, ql, dl = _prepare(query_codes, db_codes, query_labels, db_labels)
    ks = np.asarray(ks, dtype=np.int64).reshape(-1)
    if ks.size == 0 or ks.min() <= 0:
        raise ValueError(f"ks must be positive integers, got {ks.tolist()}")
    ks = np.minimum(ks, d.shape[0])
    totals = np.zeros(ks.shape[0], np.float64)
    for dist, relevant in _blocks(q, d, ql, dl):
        hits = np.cumsum(_ranked_relevance(dist, relevant, int(ks.max())), axis=1)
        totals += np.sum(hits[:, ks - 1] / ks, axis=0)
    return totals / q.shape[0]


def _radius_histograms(q, d, ql, dl):
    """Per-query counts of all and of relevant items at each distance 0..8*nbytes."""
    bins = 8 * q.shape[1] + 1
    all_counts = np.zeros((q.shape[0], bins), np.int64)
    rel_counts = np.zeros((q.shape[0], bins), np.int64)
    row = 0
    for dist, relevant in _blocks(q, d, ql, dl):
        n = dist.shape[0]
        flat = (dist + bins * np.arange(n)[:, None]).ravel()
        all_counts[row : row + n] = np.bincount(flat, minlength=n * bins).reshape(n, bins)
        rel_counts[row : row + n] = np.bincount(
            flat, weights=relevant.ravel(), minlength=n * bins
        ).reshape(n, bins)
        row += n
    return np.cumsum(all_counts, axis=1), np.cumsum(rel_counts, axis=1)


def precision_at_radius(query_codes, db_codes, query_labels, db_labels, radius=2):
    """Precision of the items within Hamming distance `radius` of each query."""
    q, d, ql, dl = _prepare(query_codes, db_codes, query_labels, db_labels)
    if isinstance(radius, bool) or int(radius) != radius or radius < 0:
        raise ValueError(f"radius must be a non-negative integer, got {radius!r}")
    retrieved, hits = _radius_histograms(q, d, ql, dl)
    r = min(int(radius), retrieved.shape[1] - 1)
    got, good = retrieved[:, r], hits[:, r]
    precision = np.where(got > 0, good / np.maximum(got, 1), 0.0)
    return RadiusPrecision(float(precision.mean()), float(np.mean(got == 0)))


def precision_recall_curve(query_codes, db_codes, query_labels, db_labels):
    """Precision and recall of Hamming-ball retrieval at every radius 0..bits.

    Returns:
      `(radii, precision, recall)` arrays. Precision at a radius is the mean over the
      queries that retrieve at least one item (NaN where none does); recall is the
      mean over the queries that have at least one relevant item.
    """
    q, d, ql, dl = _prepare(query_codes, db_codes, query_labels, db_labels)
    retrieved, hits = _radius_histograms(q, d, ql, dl)
    total_relevant = hits[:, -1]
    with np.errstate(invalid="ignore", divide="ignore"):
        per_query_p = np.where(retrieved > 0, hits / retrieved, np.nan)
        has_any = np.any(retrieved > 0, axis=0)
        precision = np.full(retrieved.shape[1], np.nan)
        precision[has_any] = np.nanmean(per_query_p[:, has_any], axis=0)
    has_relevant = total_relevant > 0
    recall = np.zeros(retrieved.shape[1])
    if np.any(has_relevant):
        recall = np.mean(hits[has_relevant] / total_relevant[has_relevant, None], axis=0)
    return np.arange(retrieved.shape[1]), precision, recall


def code_health(codes, bits):
    """How well a set of codes uses its bits (a failure that mAP can hide).

    Args:
      codes: the database codes, packed uint8 `[n, ceil(bits / 8)]` (or anything
        `pack_codes` accepts).
      bits: code length (padding bits of the last byte are ignored).

    Returns a dict:
      bit_balance: mean over bits of |2 * mean(bit) - 1| (0: every bit splits the
        codes in half; 1: every bit is constant);
      mean_abs_bit_correlation: mean |Pearson correlation| over pairs of bits that
        are not constant (None when fewer than two vary);
      constant_bits: bits with the same value in every code;
      distinct_codes: number of different codes;
      largest_bucket_share: share of the codes equal to the most common code.
    """
    packed = _packed(codes, "codes")
    n = packed.shape[0]
    if n == 0:
        raise ValueError("code_health needs at least one code")
    values = np.unpackbits(packed, axis=1, bitorder="little")[:, :bits].astype(np.float64)
    means = values.mean(axis=0)  # (bits,)
    varying = values[:, means * (1 - means) > 0]
    correlation = None
    if varying.shape[1] >= 2:
        corr = np.corrcoef(varying, rowvar=False)  # (v, v)
        upper = np.triu_indices(corr.shape[0], k=1)
        correlation = float(np.abs(corr[upper]).mean())
    _, counts = np.unique(packed, axis=0, return_counts=True)
    return {
        "bit_balance": float(np.mean(np.abs(2 * means - 1))),
        "mean_abs_bit_correlation": correlation,
        "constant_bits": int(bits - varying.shape[1]),
        "distinct_codes": int(len(counts)),
        "largest_bucket_share": float(counts.max() / n),
    }


def chance_map(query_labels, db_labels, bits, seed=0):
    """mAP@all of uniformly random codes of `bits` bits (seeded) on these labels: what
    a model with no information scores (high when most pairs share a label)."""
    rng = np.random.default_rng(seed)
    nbytes = codes_lib.num_bytes(bits)
    mask = np.uint8((1 << (bits - 8 * (nbytes - 1))) - 1) if bits % 8 else np.uint8(255)

    def draw(n):
        codes = rng.integers(0, 256, (n, nbytes), dtype=np.uint8)
        codes[:, -1] &= mask  # padding bits stay zero
        return codes

    query_labels, db_labels = np.asarray(query_labels), np.asarray(db_labels)
    return mean_average_precision(draw(len(query_labels)), draw(len(db_labels)), query_labels,
                                  db_labels)
