import numpy as np
import pytest

from tfhash import retrieval
from tfhash.retrieval import metrics


def reference_rankings(q, d, ql, dl):
    """Per query: (relevance list in rank order, distances in rank order), a plain loop."""
    qb, db = np.unpackbits(q, axis=1), np.unpackbits(d, axis=1)
    ql = ql if ql.ndim == 2 else np.eye(max(ql.max(), dl.max()) + 1)[ql]
    dl = dl if dl.ndim == 2 else np.eye(ql.shape[1])[dl]
    out = []
    for i in range(len(q)):
        dist = [int((qb[i] != db[j]).sum()) for j in range(len(d))]
        order = sorted(range(len(d)), key=lambda j: (dist[j], j))
        out.append(([bool(ql[i] @ dl[j] > 0) for j in order], [dist[j] for j in order]))
    return out


def reference_map(q, d, ql, dl, top_k=None):
    aps = []
    for rel, _ in reference_rankings(q, d, ql, dl):
        rel = rel[: top_k or len(rel)]
        hits, precisions = 0, []
        for pos, r in enumerate(rel, start=1):
            if r:
                hits += 1
                precisions.append(hits / pos)
        aps.append(np.mean(precisions) if precisions else 0.0)
    return float(np.mean(aps))


# One query (code 0) and four database codes at distances 1, 0, 1, 2; relevant: 0 and 3.
Q = np.array([[0]], np.uint8)
D = np.array([[0b1], [0], [0b10], [0b11]], np.uint8)
QL = np.array([0])
DL = np.array([0, 1, 1, 0])


def test_hand_worked_map_with_ties():
    # ranking (distance, index): 1 (d0, no), 0 (d1, yes), 2 (d1, no), 3 (d2, yes)
    assert retrieval.mean_average_precision(Q, D, QL, DL) == pytest.approx((1 / 2 + 2 / 4) / 2)
    assert retrieval.mean_average_precision(Q, D, QL, DL, top_k=2) == pytest.approx(1 / 2)
    assert retrieval.mean_average_precision(Q, D, QL, DL, top_k=1) == 0.0
    # top_k larger than the database is the whole database
    assert retrieval.mean_average_precision(Q, D, QL, DL, top_k=50) == pytest.approx(0.5)


def test_hand_worked_radius_and_precision_at_k():
    for radius, expected in ((0, 0.0), (1, 1 / 3), (2, 2 / 4)):
        result = retrieval.precision_at_radius(Q, D, QL, DL, radius=radius)
        assert result.precision == pytest.approx(expected) and result.empty_fraction == 0.0
    np.testing.assert_allclose(retrieval.precision_at_k(Q, D, QL, DL, [1, 2, 3, 4, 9]),
                               [0, 1 / 2, 1 / 3, 2 / 4, 2 / 4])
    radii, precision, recall = retrieval.precision_recall_curve(Q, D, QL, DL)
    np.testing.assert_allclose(precision[:3], [0, 1 / 3, 1 / 2])
    np.testing.assert_allclose(recall[:3], [0, 1 / 2, 1])
    assert radii.tolist() == list(range(9))


def test_query_without_relevant_items_scores_zero():
    ql = np.array([[0, 0, 1], [1, 0, 0]])
    dl = np.array([[1, 0, 0], [1, 1, 0]])
    q = np.zeros((2, 1), np.uint8)
    d = np.zeros((2, 1), np.uint8)
    assert retrieval.mean_average_precision(q, d, ql, dl) == pytest.approx(0.5)


def test_empty_radius_fraction():
    q = np.array([[0], [255]], np.uint8)
    d = np.array([[0], [1]], np.uint8)
    result = retrieval.precision_at_radius(q, d, [0, 0], [0, 1], radius=2)
    assert result.empty_fraction == 0.5
    assert result.precision == pytest.approx(0.5 * (1 / 2))


@pytest.mark.parametrize("multi_label", [False, True])
@pytest.mark.parametrize("top_k", [None, 7, 1000])
def test_map_matches_reference_on_random_data(rng, multi_label, top_k, monkeypatch):
    monkeypatch.setattr(metrics, "_CHUNK_ELEMENTS", 500)  # several query chunks
    q = rng.integers(0, 16, size=(23, 1), dtype=np.uint8)  # few codes: many ties
    d = rng.integers(0, 16, size=(61, 1), dtype=np.uint8)
    if multi_label:
        ql = (rng.random((23, 5)) < 0.3).astype(np.float32)
        dl = (rng.random((61, 5)) < 0.3).astype(np.float32)
    else:
        ql, dl = rng.integers(0, 4, 23), rng.integers(0, 4, 61)
    ours = retrieval.mean_average_precision(q, d, ql, dl, top_k=top_k)
    assert ours == pytest.approx(reference_map(q, d, ql, dl, top_k), abs=1e-12)


def test_radius_and_curve_match_reference(rng):
    q = rng.integers(0, 256, size=(17, 2), dtype=np.uint8)
    d = rng.integers(0, 256, size=(80, 2), dtype=np.uint8)
    ql, dl = rng.integers(0, 3, 17), rng.integers(0, 3, 80)
    ranked = reference_rankings(q, d, ql, dl)
    for radius in (0, 3, 6):
        per_query, empty = [], 0
        for rel, dist in ranked:
            inside = [r for r, x in zip(rel, dist) if x <= radius]
            empty += not inside
            per_query.append(np.mean(inside) if inside else 0.0)
        result = retrieval.precision_at_radius(q, d, ql, dl, radius=radius)
        assert result.precision == pytest.approx(np.mean(per_query))
        assert result.empty_fraction == pytest.approx(empty / len(ranked))
    ks = [1, 5, 80]
    expected = [np.mean([np.mean(rel[:k]) for rel, _ in ranked]) for k in ks]
    np.testing.assert_allclose(retrieval.precision_at_k(q, d, ql, dl, ks), expected)
    _, _, recall = retrieval.precision_recall_curve(q, d, ql, dl)
    assert recall[-1] == pytest.approx(1.0)


def test_unpacked_codes_are_accepted(rng):
    signs_q = rng.choice([-1.0, 1.0], size=(5, 12))
    signs_d = rng.choice([-1.0, 1.0], size=(30, 12))
    ql, dl = rng.integers(0, 3, 5), rng.integers(0, 3, 30)
    packed = retrieval.mean_average_precision(
        retrieval.pack_codes(signs_q).numpy(), retrieval.pack_codes(signs_d).numpy(), ql, dl)
    assert retrieval.mean_average_precision(signs_q, signs_d, ql, dl) == packed


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(top_k=0), "top_k must be a positive integer"),
        (dict(db_labels=np.array([0, 1])), "4 codes but 2 labels"),
        (dict(db_codes=np.zeros((4, 2), np.uint8)), "differ in bytes per code"),
        (dict(db_codes=np.zeros((0, 1), np.uint8), db_labels=np.zeros(0, np.int64)), "empty"),
        (dict(query_labels=np.array([[1, 0]])), "both be class ids or both multi-hot"),
    ],
)
def test_bad_metric_inputs(kwargs, message):
    args = dict(query_codes=Q, db_codes=D, query_labels=QL, db_labels=DL)
    top_k = kwargs.pop("top_k", None)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        retrieval.mean_average_precision(**args, top_k=top_k)


def test_code_health_hand_worked():
    # 4 codes of 3 bits: bit 0 always 1 (constant), bit 1 = bit 2 (correlation 1), half on
    codes = np.array([[1, 1, 1], [1, 1, 1], [1, -1, -1], [1, 1, 1]], np.float32)
    health = retrieval.code_health(retrieval.pack_codes(codes).numpy(), 3)
    assert health["bit_balance"] == pytest.approx((1.0 + 0.5 + 0.5) / 3)
    assert health["mean_abs_bit_correlation"] == pytest.approx(1.0)
    assert health["constant_bits"] == 1
    assert health["distinct_codes"] == 2 and health["largest_bucket_share"] == 0.75
    single = retrieval.code_health(retrieval.pack_codes(codes[:, :1]).numpy(), 1)
    assert single["mean_abs_bit_correlation"] is None and single["constant_bits"] == 1


def test_code_health_matches_numpy_on_random_codes(rng):
    bits = 20
    codes = rng.random((300, bits)) < np.linspace(0.1, 0.9, bits)  # biased bits
    codes[:, 5] = codes[:, 4]  # one duplicated bit
    health = retrieval.code_health(retrieval.pack_codes(codes).numpy(), bits)
    values = codes.astype(float)
    assert health["bit_balance"] == pytest.approx(np.abs(2 * values.mean(0) - 1).mean())
    corr = np.corrcoef(values.T)
    expected = np.abs(corr[np.triu_indices(bits, 1)]).mean()
    assert health["mean_abs_bit_correlation"] == pytest.approx(expected)
    assert health["distinct_codes"] == len({row.tobytes() for row in codes})
    _, counts = np.unique(codes, axis=0, return_counts=True)
    assert health["largest_bucket_share"] == pytest.approx(counts.max() / 300)


def test_chance_map_is_what_random_codes_score(rng):
    """chance_map against the mAP of 20 independent draws of uniformly random 12-bit
    codes (the padding bits zero). Few relevant items per query (50 classes, 6 per
    class in the database), where a random ranking's mAP (about 0.037) lies far above
    the share of relevant pairs (about 0.02), so the two cannot be mistaken."""
    labels = rng.integers(0, 50, 600)
    queries, database = labels[:300], labels[300:]
    chance = retrieval.chance_map(queries, database, 12)
    assert chance == retrieval.chance_map(queries, database, 12)  # seeded
    mask = np.array([255, 15], np.uint8)  # 12 bits: the last 4 of the second byte are padding
    draws = []
    for seed in range(20):
        draw = np.random.default_rng(1000 + seed)
        draws.append(retrieval.mean_average_precision(
            draw.integers(0, 256, (300, 2), dtype=np.uint8) & mask,
            draw.integers(0, 256, (300, 2), dtype=np.uint8) & mask, queries, database))
    mean, spread = np.mean(draws), np.std(draws)
    share = np.mean(queries[:, None] == database[None, :])
    assert abs(chance - mean) < 4 * spread
    assert mean - share > 8 * spread  # the label share is not what random codes score
