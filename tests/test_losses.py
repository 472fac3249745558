import numpy as np
import pytest
import tensorflow as tf

from tfhash import losses


def np_similarity(a, b):
    return ((a @ b.T) > 0).astype(np.float32)


def test_label_similarity_multi_label():
    a = np.array([[1, 0, 1], [0, 1, 0]], np.float32)
    b = np.array([[0, 0, 1], [1, 1, 0], [0, 0, 0]], np.float32)
    np.testing.assert_array_equal(losses.label_similarity(a, b).numpy(), [[1, 1, 0], [0, 1, 0]])


def test_pairwise_likelihood_matches_numpy(rng):
    u = rng.normal(size=(6, 12)).astype(np.float32)
    v = rng.normal(size=(9, 12)).astype(np.float32)
    s = np_similarity(np.eye(3)[rng.integers(0, 3, 6)], np.eye(3)[rng.integers(0, 3, 9)])
    theta = 0.5 * u @ v.T
    expected = np.log1p(np.exp(theta)) - s * theta  # plain formula, fine at this scale
    np.testing.assert_allclose(losses.pairwise_likelihood(u, v, s).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_pairwise_likelihood_is_stable_for_large_inner_products():
    u = np.full((1, 64), 30.0, np.float32)  # theta = 0.5 * 64 * 900 = 28800
    out = losses.pairwise_likelihood(u, u, np.array([[1.0]], np.float32)).numpy()
    assert np.isfinite(out).all() and out[0, 0] == pytest.approx(0.0, abs=1e-6)
    out = losses.pairwise_likelihood(u, u, np.array([[0.0]], np.float32)).numpy()
    assert out[0, 0] == pytest.approx(28800.0)
    with tf.GradientTape() as tape:
        x = tf.constant(u)
        tape.watch(x)
        loss = tf.reduce_sum(losses.pairwise_likelihood(x, x, tf.zeros([1, 1])))
    assert np.isfinite(tape.gradient(loss, x).numpy()).all()


def test_contrastive_matches_numpy(rng):
    u = rng.normal(size=(5, 8)).astype(np.float32)
    v = rng.normal(size=(7, 8)).astype(np.float32)
    s = (rng.random((5, 7)) < 0.4).astype(np.float32)
    margin = 16.0
    d = ((u[:, None, :] - v[None, :, :]) ** 2).sum(-1)
    expected = 0.5 * s * d + 0.5 * (1 - s) * np.maximum(0.0, margin - d)
    np.testing.assert_allclose(losses.contrastive(u, v, s, margin).numpy(), expected, rtol=1e-4, atol=1e-4)


def test_hand_worked_contrastive():
    u = np.array([[1.0, 1.0]], np.float32)
    v = np.array([[1.0, -1.0], [1.0, 1.0]], np.float32)  # squared distances 4 and 0
    out = losses.contrastive(u, v, np.array([[0.0, 0.0]], np.float32), 5.0).numpy()
    np.testing.assert_allclose(out, [[0.5 * 1.0, 0.5 * 5.0]])
    out = losses.contrastive(u, v, np.array([[1.0, 1.0]], np.float32), 5.0).numpy()
    np.testing.assert_allclose(out, [[2.0, 0.0]])


def test_quantization_and_unit_magnitude(rng):
    u = rng.normal(size=(4, 10)).astype(np.float32)
    np.testing.assert_allclose(losses.quantization(u).numpy(), ((u - np.sign(u)) ** 2).sum(1), rtol=1e-5)
    np.testing.assert_allclose(losses.unit_magnitude(u).numpy(), np.abs(np.abs(u) - 1).sum(1), rtol=1e-5)
    np.testing.assert_allclose(losses.quantization(np.array([[1.0, -1.0, 0.5]])).numpy(), [0.25])


@pytest.mark.parametrize("bits,max_logit", [(12, 0.0), (48, 0.0), (48, 6.0), (12, 6.0)])
def test_likelihood_logit_scale_follows_the_code_length(rng, bits, max_logit):
    """The paper's logit is 0.5 u.v (bits / 2 for codes that agree everywhere); with
    max_logit it is max_logit * u.v / bits at every length."""
    scale = losses.logit_scale(bits, max_logit)
    same = np.ones((1, bits), np.float32)
    theta = losses.likelihood_logits(same, same, scale).numpy()[0, 0]
    assert theta == pytest.approx(bits / 2 if max_logit == 0 else max_logit)
    u = np.tanh(rng.normal(size=(5, bits))).astype(np.float32)
    v = np.tanh(rng.normal(size=(7, bits))).astype(np.float32)
    s = (rng.random((5, 7)) < 0.3).astype(np.float32)
    expected_theta = scale * u @ v.T
    expected = np.log1p(np.exp(expected_theta)) - s * expected_theta
    np.testing.assert_allclose(losses.pairwise_likelihood(u, v, s, scale).numpy(), expected,
                               rtol=1e-5, atol=1e-6)


def test_saturated_pairs_hand_worked():
    # sigmoid(5) = 0.9933, sigmoid(-5) = 0.0067, sigmoid(0) = 0.5
    theta = np.array([[5.0, -5.0, 0.0, 5.0, -5.0]], np.float32)
    s = np.array([[1.0, 0.0, 1.0, 0.0, 1.0]], np.float32)
    right, wrong = losses.saturated_pairs(theta, s)
    assert float(right) == 2.0 and float(wrong) == 2.0
    right, wrong = losses.saturated_pairs(theta, s, threshold=0.001)
    assert float(right) == 0.0 and float(wrong) == 0.0


def test_jaccard_similarity_and_bit_balance_hand_worked():
    a = np.array([[1, 1, 0, 0], [0, 0, 1, 0]], np.float32)
    b = np.array([[1, 0, 0, 0], [1, 1, 1, 1], [0, 0, 0, 1]], np.float32)
    np.testing.assert_allclose(losses.label_similarity(a, b, "jaccard").numpy(),
                               [[1 / 2, 2 / 4, 0], [0, 1 / 4, 0]])
    np.testing.assert_array_equal(losses.label_similarity(a, b).numpy(), [[1, 1, 0], [0, 1, 0]])
    one_hot = np.eye(3, dtype=np.float32)[[0, 2, 2]]  # single-label: both kinds agree
    np.testing.assert_array_equal(losses.label_similarity(one_hot, one_hot, "jaccard").numpy(),
                                  losses.label_similarity(one_hot, one_hot).numpy())
    with pytest.raises(ValueError, match="similarity must be one of"):
        losses.label_similarity(a, b, "cosine")
    codes = np.array([[1, 1, -1], [1, -1, -1], [1, 1, 1], [1, -1, -1]], np.float32)
    # bit means 1, 0, -0.5 -> (1 + 0 + 0.25) / 3
    assert float(losses.bit_balance(codes)) == pytest.approx(1.25 / 3)
