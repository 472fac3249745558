"""Each method's combined training loss, as its `train_step` returns it to the loop,
against the method's formula written out in NumPy.

The references below use only the networks' forward outputs (taken on a snapshot of
the weights, which is then restored, so the step sees the same batch-norm and bank
state) and NumPy: a sign flipped or a term dropped anywhere between the forward pass
and the logged loss makes the two disagree.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import tiny_config
from tfhash import methods, models

NUM_TRAIN, CLASSES, BITS, BATCH = 16, 3, 12, 8
SPEC = models.DataSpec(image_size=16, num_train=NUM_TRAIN, num_classes=CLASSES)


def make(method, **overrides):
    config = tiny_config(method=method, bits=BITS, **overrides)
    keras.utils.set_random_seed(5)
    model = methods.build_model(config, SPEC)
    model.build_from_spec(SPEC)
    # a zero learning rate: the weights a step starts from are the ones it leaves
    model.build_optimizers(lambda steps: keras.optimizers.SGD(0.0), 1, 1)
    return model


def batch_of(rng, n=BATCH):
    return {"image": rng.uniform(0, 255, size=(n, 16, 16, 3)).astype(np.float32),
            "label": np.eye(CLASSES, dtype=np.float32)[rng.integers(0, CLASSES, n)],
            "index": rng.permutation(NUM_TRAIN)[:n].astype(np.int64)}


def fill_bank(bank, rng):
    bank.store(rng.normal(size=(NUM_TRAIN, bank.dim)).astype(np.float32),
               np.eye(CLASSES, dtype=np.float32)[rng.integers(0, CLASSES, NUM_TRAIN)])


def on_snapshot(model, forward):
    """`forward()` as NumPy, with every weight (batch-norm statistics, banks) put back
    afterwards."""
    saved = [w.numpy() for w in model.weights]
    out = tf.nest.map_structure(lambda t: np.asarray(t), forward())
    for weight, value in zip(model.weights, saved):
        weight.assign(value)
    return out


def likelihood(theta, s):
    return np.logaddexp(0.0, theta) - s * theta


def shared(a, b):
    return (a @ b.T > 0).astype(np.float64)


def bank_term(u, batch, bank_codes, bank_labels, scale, quant_weight):
    """DPSH with a memory bank: the batch written into the bank by index, then the
    mean likelihood over (batch x bank) pairs plus the mean quantisation error."""
    codes, labels = bank_codes.copy(), bank_labels.copy()
    codes[batch["index"]], labels[batch["index"]] = u, batch["label"]
    pair = likelihood(scale * u @ codes.T, shared(batch["label"], labels)).mean()
    quant = ((u - np.sign(u)) ** 2).sum() / u.size
    return pair + quant_weight * quant


def step_loss(model, batch, variant=None):
    logs = model.train_step({k: tf.constant(v) for k, v in batch.items()},
                            *(() if variant is None else (variant,)))
    return float(logs["loss"]), logs


@pytest.mark.parametrize("memory_bank, balance_weight, max_logit", [
    (True, 0.0, 6.0), (True, 0.5, 0.0), (False, 0.0, 6.0)])
def test_dpsh(rng, memory_bank, balance_weight, max_logit):
    model = make("dpsh", **{"dpsh.memory_bank": memory_bank, "loss.quant_weight": 0.3,
                            "loss.max_logit": max_logit, "loss.balance_weight": balance_weight,
                            "model.head_activation": "tanh", "model.head_batch_norm": True})
    fill_bank(model.bank, rng)
    batch = batch_of(rng)
    bank_codes, bank_labels = model.bank.codes.numpy(), model.bank.labels.numpy()
    u = on_snapshot(model, lambda: model(batch["image"], training=True)).astype(np.float64)
    scale = 0.5 if max_logit == 0 else max_logit / BITS
    if memory_bank:
        expected = bank_term(u, batch, bank_codes, bank_labels, scale, 0.3)
    else:
        pair = likelihood(scale * u @ u.T, shared(batch["label"], batch["label"])).mean()
        expected = pair + 0.3 * ((u - np.sign(u)) ** 2).sum() / u.size
    expected += balance_weight * (u.mean(axis=0) ** 2).mean()
    loss, _ = step_loss(model, batch)
    assert loss == pytest.approx(expected, rel=1e-5)
    if memory_bank:  # the bank keeps the batch
        np.testing.assert_allclose(model.bank.codes.numpy()[batch["index"]], u, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("balance_weight", [0.0, 0.7])
def test_dsh(rng, balance_weight):
    model = make("dsh", **{"dsh.alpha": 0.2, "loss.balance_weight": balance_weight})
    batch = batch_of(rng)
    u = on_snapshot(model, lambda: model(batch["image"], training=True)).astype(np.float64)
    d = ((u[:, None, :] - u[None, :, :]) ** 2).sum(-1)
    s, margin = shared(batch["label"], batch["label"]), 2.0 * BITS
    pair = (0.5 * s * d + 0.5 * (1 - s) * np.maximum(0.0, margin - d)).mean()
    expected = pair + 0.2 * np.abs(np.abs(u) - 1).sum() / len(u)
    expected += balance_weight * (np.tanh(u).mean(axis=0) ** 2).mean()
    loss, logs = step_loss(model, batch)
    assert loss == pytest.approx(expected, rel=1e-5)
    assert float(logs["pair_loss"]) == pytest.approx(pair, rel=1e-5)


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def test_doh(rng):
    model = make("doh", **{"doh.class_weight": 0.7, "doh.max_logit": 5.0,
                           "model.head_batch_norm": True})
    model.temperature.assign(0.4)
    batch = batch_of(rng)
    out = on_snapshot(model, lambda: model.streams(batch["image"], training=True))
    p = softmax(out["logits"].astype(np.float64) / 0.4)  # (batch, R, K)
    s_hat = np.einsum("irk,jrk->ij", p, p)
    theta = 5.0 * (2.0 * s_hat / BITS - 1.0)
    pair = likelihood(theta, shared(batch["label"], batch["label"])).mean()

    def cross_entropy(logits):
        return -(batch["label"] * np.log(softmax(logits.astype(np.float64)))).sum(-1)

    classes = (cross_entropy(out["local_class"]) + cross_entropy(out["global_class"])).mean()
    loss, logs = step_loss(model, batch)
    assert loss == pytest.approx(pair + 0.7 * classes, rel=1e-5)
    assert float(logs["class_loss"]) == pytest.approx(classes, rel=1e-5)


def test_dsah_hashing_step(rng):
    model = make("dsah", **{"loss.quant_weight": 0.4, "loss.balance_weight": 0.3,
                            "model.head_activation": "tanh", "model.head_batch_norm": True})
    fill_bank(model.bank, rng)
    batch = batch_of(rng)
    bank_codes, bank_labels = model.bank.codes.numpy(), model.bank.labels.numpy()

    def hashing_forward():  # H on the salient images, the attention network fixed
        mask = model.saliency(batch["image"], training=False)
        return model.hash(batch["image"] * mask, training=True)

    u = on_snapshot(model, hashing_forward).astype(np.float64)
    expected = bank_term(u, batch, bank_codes, bank_labels, 6.0 / BITS, 0.4)
    expected += 0.3 * (u.mean(axis=0) ** 2).mean()
    loss, _ = step_loss(model, batch, variant=False)
    assert loss == pytest.approx(expected, rel=1e-5)


def test_dagh_both_stages(rng):
    model = make("dagh", **{"loss.quant_weight": 0.2, "dagh.attention_weight": 0.5,
                            "dagh.margin": 0.3, "dagh.stage1_epochs": 1,
                            "model.head_activation": "tanh", "model.head_batch_norm": True})
    fill_bank(model.bank, rng)
    batch = batch_of(rng)
    bank_codes, bank_labels = model.bank.codes.numpy(), model.bank.labels.numpy()
    out = on_snapshot(model, lambda: model.stream1(batch["image"], training=True))
    attended, plain = out["attended"].astype(np.float64), out["plain"].astype(np.float64)
    scale, s = 6.0 / BITS, shared(batch["label"], batch["label"])
    difference = np.maximum(0.0, 0.3 + likelihood(scale * attended @ attended.T, s)
                            - likelihood(scale * plain @ plain.T, s)).mean()
    expected = bank_term(attended, batch, bank_codes, bank_labels, scale, 0.2) + 0.5 * difference
    loss, logs = step_loss(model, batch, variant=1)
    assert loss == pytest.approx(expected, rel=1e-5)
    assert float(logs["attention_loss"]) == pytest.approx(difference, rel=1e-5)
    # stage 2: bitwise cross-entropy of network 2 against the guided codes (B + 1) / 2
    model.guided.assign(np.sign(rng.normal(size=(NUM_TRAIN, BITS))).astype(np.float32))
    targets = (model.guided.numpy()[batch["index"]] + 1.0) / 2.0
    z = on_snapshot(model, lambda: model.stream2(batch["image"], training=True)).astype(np.float64)
    bce = (np.logaddexp(0.0, z) - targets * z).mean()
    loss, _ = step_loss(model, batch, variant=2)
    assert loss == pytest.approx(bce, rel=1e-5)


def triplet_mean(anchors, candidates, similarity, margin, same_items=False):
    """Mean of max(0, margin + d(a_i, c_j) - d(a_i, c_k)) over all (i, j, k) with
    similarity[i, j] > similarity[i, k]; d is sqrt(squared distance + 1e-4)."""
    d = np.sqrt(((anchors[:, None, :] - candidates[None, :, :]) ** 2).sum(-1) + 1e-4)
    total, count = 0.0, 0
    for i in range(len(anchors)):
        for j in range(len(candidates)):
            for k in range(len(candidates)):
                if same_items and i in (j, k):
                    continue
                if similarity[i, j] > similarity[i, k]:
                    total += max(0.0, margin + d[i, j] - d[i, k])
                    count += 1
    return total / max(count, 1)


@pytest.mark.parametrize("adversarial", [True, False])
def test_hashgan_hashing_step(rng, adversarial):
    spec = models.DataSpec(image_size=16, num_train=NUM_TRAIN, num_classes=CLASSES, text_dim=10)
    config = tiny_config(method="hashgan", bits=BITS, **{
        "hashgan.text_widths": (16, 16), "hashgan.image_widths": (16,),
        "hashgan.adversarial": adversarial, "hashgan.triplet_margin": 1.5})
    keras.utils.set_random_seed(5)
    model = methods.build_model(config, spec)
    model.build_from_spec(spec)
    model.build_optimizers(lambda steps: keras.optimizers.SGD(0.0), 1, 1)
    batch = batch_of(rng)
    labels = (rng.random((BATCH, CLASSES)) < 0.5).astype(np.float32)
    labels[labels.sum(1) == 0, 0] = 1
    batch.update(label=labels, text=(rng.random((BATCH, 10)) < 0.3).astype(np.float32))
    image, text = on_snapshot(model, lambda: (model.image_branches(batch["image"], training=True),
                                              model.text_branches(batch["text"], training=True)))
    graded = labels @ labels.T  # the number of shared labels
    retrieval = (triplet_mean(image["attended"], text["attended"], graded, 1.5)
                 + triplet_mean(text["attended"], image["attended"], graded, 1.5)
                 + triplet_mean(image["attended"], image["attended"], graded, 1.5, True)
                 + triplet_mean(text["attended"], text["attended"], graded, 1.5, True))
    adversarial_loss = 0.0
    if adversarial:
        adversarial_loss = (triplet_mean(text["attended"], image["unattended"], graded, 1.5)
                            + triplet_mean(image["attended"], text["unattended"], graded, 1.5))
    logs = model.hash_step({k: tf.constant(v) for k, v in batch.items()})
    assert float(logs["loss"]) == pytest.approx(retrieval + adversarial_loss, rel=1e-5)
    assert float(logs["adversarial_loss"]) == pytest.approx(adversarial_loss, rel=1e-5, abs=1e-7)
