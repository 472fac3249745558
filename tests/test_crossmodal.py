"""DCMH and HashGAN: losses against NumPy, the straight-through mask, the min-max
steps, replication, resume, serialisation and the text export."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import assert_replicas_agree, restored, resume, tiny_config, train_until_killed
from tfhash import backbones, export, layers, losses, models, retrieval
from tfhash.layers.hard_attention import straight_through_threshold
from tfhash.training import loop

SPEC = models.DataSpec(image_size=16, num_train=16, num_classes=3, text_dim=10)


def make(method, strategy=None, **kwargs):
    with (strategy or tf.distribute.get_strategy()).scope():
        keras.utils.set_random_seed(11)
        backbone = backbones.SmallCNN((4, 8), 1)
        if method == "dcmh":
            model = models.DCMH(layers.HashingNetwork(backbone, layers.HashHead(12)), num_train=16,
                                num_classes=3, text_dim=10, text_widths=(16,), **kwargs)
        else:
            model = models.HashGAN(backbone, 12, num_classes=3, text_dim=10, text_widths=(16, 16),
                                   image_widths=(16,), **kwargs)
        model.build_from_spec(SPEC)
        model.build_optimizers(lambda steps, scale=1.0: keras.optimizers.SGD(0.1 * scale), 1, 1)
    return model


def batch_of(rng, n=8):
    labels = (rng.random((n, 3)) < 0.4).astype(np.float32)
    labels[labels.sum(1) == 0, 0] = 1
    return {"image": rng.uniform(0, 255, size=(n, 16, 16, 3)).astype(np.float32),
            "text": (rng.random((n, 10)) < 0.3).astype(np.float32), "label": labels,
            "index": rng.permutation(16)[:n].astype(np.int64)}


def test_straight_through_mask_is_hard_forward_and_soft_backward():
    p = tf.constant([[0.1, 0.2, 0.3, 0.4]])  # 4 entries: threshold 1/4
    with tf.GradientTape() as tape:
        tape.watch(p)
        mask = straight_through_threshold(p, 4.0)
        weighted = tf.reduce_sum(mask * tf.constant([[1.0, 2.0, 3.0, 4.0]]))
    np.testing.assert_array_equal(mask.numpy(), [[0, 0, 1, 1]])
    # d(sum w * mask)/dp = w * 4 (the soft score's slope), not 0 as for a hard step
    np.testing.assert_allclose(tape.gradient(weighted, p).numpy(), [[4.0, 8.0, 12.0, 16.0]])


@pytest.mark.parametrize("share", [0.25, 0.5, 0.9, 1.0])
def test_share_mask_keeps_the_largest_entries(rng, share):
    p = tf.nn.softmax(rng.normal(size=(5, 20)).astype(np.float32) * 3, axis=-1)
    p = tf.concat([p, tf.fill([1, 20], 0.05)], axis=0)  # a row of ties: every entry kept
    with tf.GradientTape() as tape:
        tape.watch(p)
        mask = straight_through_threshold(p, 20, share)
        weighted = tf.reduce_sum(mask * tf.range(20, dtype=tf.float32))
    keep = max(1, round(share * 20))
    expected = np.zeros((6, 20), np.float32)
    for row, values in enumerate(p.numpy()):
        expected[row, values >= np.sort(values)[::-1][keep - 1]] = 1
    np.testing.assert_array_equal(mask.numpy(), expected)
    assert (mask.numpy()[:5].sum(axis=1) == keep).all() and mask.numpy()[5].sum() == 20
    # the same straight-through slope as the threshold at uniform: d/dp = w * 20
    np.testing.assert_allclose(tape.gradient(weighted, p).numpy(),
                               np.tile(np.arange(20, dtype=np.float32) * 20, (6, 1)))


@pytest.mark.parametrize("share", [0.0, 0.9])
def test_hash_step_masks_are_constants_unless_asked(rng, share):
    """With mask_gradient False no gradient of the hash step's codes reaches the
    attention (the masks are its only path there); with True the straight-through
    gradient does. attended_share sets how much of each item the masks keep."""
    batch = batch_of(rng)
    for mask_gradient in (False, True):
        model = make("hashgan", attended_share=share, mask_gradient=mask_gradient)
        attention = model.networks()["attention"]
        with tf.GradientTape() as tape:
            image = model.image_branches(batch["image"], True, fixed_attention=not mask_gradient)
            text = model.text_branches(batch["text"], True, fixed_attention=not mask_gradient)
            total = tf.reduce_sum(image["attended"] ** 2) + tf.reduce_sum(text["attended"] ** 2)
        grads = tape.gradient(total, attention)
        reached = [g is not None and float(tf.reduce_max(tf.abs(g))) > 0 for g in grads]
        assert any(reached) == mask_gradient, (mask_gradient, reached)
        if share:
            cells = image["mask"].shape[1] * image["mask"].shape[2]
            np.testing.assert_array_equal(
                tf.reduce_sum(image["mask"], axis=[1, 2, 3]).numpy(), round(share * cells))
            np.testing.assert_array_equal(tf.reduce_sum(text["mask"], axis=1).numpy(),
                                          round(share * 16))
    with pytest.raises(ValueError, match="attended_share must be in"):
        make("hashgan", attended_share=1.5)


def test_distance_triplets_match_brute_force(rng):
    a = rng.normal(size=(3, 5)).astype(np.float32)
    b = rng.normal(size=(6, 5)).astype(np.float32)
    sim = rng.integers(0, 3, size=(3, 6)).astype(np.float32)  # graded: shared label counts
    d = np.sqrt(((a[:, None] - b[None]) ** 2).sum(-1))
    scores = -losses.code_distances(a, b)
    hinges, counts = losses.ranking_triplets(scores, sim, 1.5)
    for i in range(3):
        pairs = [(j, k) for j in range(6) for k in range(6) if sim[i, j] > sim[i, k]]
        expected = sum(max(0.0, 1.5 + d[i, j] - d[i, k]) for j, k in pairs)
        assert float(hinges[i]) == pytest.approx(expected, rel=1e-4)
        assert float(counts[i]) == len(pairs)
    exclude = np.zeros((3, 6), bool)
    exclude[:, 0] = True  # candidate 0 takes no part
    hinges, counts = losses.ranking_triplets(scores, sim, 1.5, tf.constant(exclude))
    for i in range(3):
        pairs = [(j, k) for j in range(1, 6) for k in range(1, 6) if sim[i, j] > sim[i, k]]
        assert float(hinges[i]) == pytest.approx(
            sum(max(0.0, 1.5 + d[i, j] - d[i, k]) for j, k in pairs), rel=1e-4)
        assert float(counts[i]) == len(pairs)
    graded = losses.label_similarity(np.array([[1, 1, 0]]), np.array([[1, 1, 1], [0, 1, 0]]), "count")
    np.testing.assert_array_equal(graded.numpy(), [[2, 1]])


def test_dcmh_loss_matches_numpy(rng):
    model = make("dcmh", gamma=0.5, eta=2.0)
    model.image_bank.store(rng.normal(size=(16, 12)).astype(np.float32),
                           np.eye(3, dtype=np.float32)[rng.integers(0, 3, 16)])
    model.text_bank.store(rng.normal(size=(16, 12)).astype(np.float32),
                          np.eye(3, dtype=np.float32)[rng.integers(0, 3, 16)])
    model.codes_b.assign(np.sign(rng.normal(size=(16, 12))).astype(np.float32))
    batch = batch_of(rng)
    codes = rng.normal(size=(8, 12)).astype(np.float32)
    G, text_labels = model.text_bank.codes.numpy(), model.text_bank.labels.numpy()
    bank = model.image_bank.codes.numpy().copy()
    bank[batch["index"]] = codes
    theta = (6.0 / 12) * codes @ G.T
    s = (batch["label"] @ text_labels.T > 0).astype(np.float32)
    pair = (np.log1p(np.exp(theta)) - s * theta).sum() / (8 * 16)
    quant = ((model.codes_b.numpy()[batch["index"]] - codes) ** 2).sum() / (8 * 12)
    balance = (bank.mean(axis=0) ** 2).mean()
    loss, logs = model._modality_loss(tf.constant(codes), batch, model.image_bank, model.text_bank)
    assert float(loss) == pytest.approx(pair + 0.5 * quant + 2.0 * balance, rel=1e-5)
    assert float(logs["balance"]) == pytest.approx(balance, rel=1e-5)
    np.testing.assert_allclose(model.image_bank.codes.numpy(), bank, rtol=1e-6)  # stored


def test_hashgan_min_max_steps(rng):
    model = make("hashgan", adversarial_bound=100.0)  # the hinge active throughout
    batch = batch_of(rng)

    def objectives():
        image = model.image_branches(batch["image"], training=False)
        text = model.text_branches(batch["text"], training=False)
        return [float(x) for x in model._objectives(image, text, batch["label"])]

    retrieval_0, adversarial_0 = objectives()
    attention_before = [v.numpy() for v in model.networks()["attention"]]
    model.hash_step(batch)
    assert all(np.array_equal(a, v.numpy()) for a, v in
               zip(attention_before, model.networks()["attention"]))  # attention held fixed
    retrieval_1, adversarial_1 = objectives()
    assert retrieval_1 + adversarial_1 < retrieval_0 + adversarial_0
    hash_before = [v.numpy() for v in model.networks()["hash"]]
    attention_before = [v.numpy() for v in model.networks()["attention"]]
    for _ in range(20):  # the masks are hard: small updates flip few of their entries
        model.attention_step(batch)
    assert all(np.array_equal(a, v.numpy()) for a, v in zip(hash_before, model.networks()["hash"]))
    assert any(not np.array_equal(a, v.numpy()) for a, v in
               zip(attention_before, model.networks()["attention"]))
    _, adversarial_2 = objectives()
    assert adversarial_2 > adversarial_1  # the attention raised the unattended parts' loss
    image = model.image_branches(batch["image"])
    assert set(np.unique(image["mask"].numpy())) <= {0.0, 1.0}
    ablation = make("hashgan", adversarial=False)
    assert float(ablation.train_step(batch)["adversarial_loss"]) == 0.0
    assert "attention_loss" not in ablation.train_step(batch)


def test_hashgan_fixed_attention_control(tmp_path, rng):
    """`train_attention=False`: the attention keeps its initial weights, the hash step
    is the method's (the same update as a model whose attention trains)."""
    fixed = make("hashgan", adversarial_bound=100.0, train_attention=False)
    trained = make("hashgan", adversarial_bound=100.0)
    trained.set_weights(fixed.get_weights())
    attention_start = [v.numpy() for v in fixed.networks()["attention"]]
    batch = batch_of(rng)
    fixed_logs, trained_logs = fixed.train_step(batch), trained.train_step(batch)
    assert "attention_loss" not in fixed_logs and "attention_loss" in trained_logs
    for name in ("loss", "retrieval_loss", "adversarial_loss"):
        assert float(fixed_logs[name]) == pytest.approx(float(trained_logs[name]), rel=1e-6)
    for a, b in zip(fixed.networks()["hash"], trained.networks()["hash"]):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    for _ in range(5):
        fixed.train_step(batch_of(rng))
    for a, v in zip(attention_start, fixed.networks()["attention"]):
        np.testing.assert_array_equal(a, v.numpy())
    assert any(not np.array_equal(a, v.numpy())
               for a, v in zip(attention_start, trained.networks()["attention"]))
    assert int(fixed.optimizers["attention"].iterations) == 0
    fixed.save(str(tmp_path / "fixed.keras"))
    assert keras.saving.load_model(str(tmp_path / "fixed.keras")).train_attention is False


def test_hashgan_adversarial_warmup(rng):
    """`adversarial_warmup=w`: the hash step's loss is retrieval + weight * e / w *
    adversarial in epoch e < w (by hand), the full weight from epoch w on; with no
    warm-up the model has no extra weight (older models load as before)."""
    model = make("hashgan", adversarial_bound=100.0, adversarial_weight=2.0, adversarial_warmup=4)
    assert [model.adversarial_weight_at(e) for e in (0, 1, 3, 4, 9)] == [0.0, 0.5, 1.5, 2.0, 2.0]
    batch = batch_of(rng)
    for epoch, weight in ((0, 0.0), (2, 1.0), (7, 2.0)):
        model.on_epoch_begin(epoch, None)
        logs = model.hash_step(batch)
        expected = float(logs["retrieval_loss"]) + weight * float(logs["adversarial_loss"])
        assert float(logs["adversarial_weight"]) == pytest.approx(weight)
        assert float(logs["loss"]) == pytest.approx(expected, rel=1e-6)
        if epoch == 7:
            assert float(logs["adversarial_loss"]) > 0  # the term is really there
    plain = make("hashgan")
    assert plain.adversarial_scale is None and "adversarial_weight" not in plain.hash_step(batch)
    assert len(plain.weights) == len(model.weights) - 1
    with pytest.raises(ValueError, match="adversarial_warmup"):
        make("hashgan", adversarial_warmup=-1)


def test_hashgan_attention_learning_rate(rng):
    """`attention_learning_rate`: the attention's optimizer runs at that multiple of
    the run's rate (schedule included), the hash side at the run's rate; the config
    switch reaches the model."""
    from tfhash.training import build

    config = crossmodal_config("hashgan", **{"hashgan.attention_learning_rate": 0.25,
                                             "train.learning_rate": 0.01,
                                             "train.lr_schedule": "constant"})
    spec = models.DataSpec(image_size=16, num_train=16, num_classes=3, text_dim=10)
    model = build.build_model(config, tf.distribute.get_strategy(), spec)
    assert model.attention_learning_rate == 0.25
    assert float(model.optimizers["hash"].learning_rate) == pytest.approx(0.01)
    assert float(model.optimizers["attention"].learning_rate) == pytest.approx(0.0025)
    config.train.lr_schedule = "cosine"
    cosine = build.make_optimizer(config.train, 10, 0.5)
    assert float(cosine.learning_rate) == pytest.approx(0.005)  # step 0 of the decay
    # one attention step of plain SGD moves the weights by scale * lr * gradient
    slow = make("hashgan", adversarial_bound=100.0, attention_learning_rate=0.25)
    fast = make("hashgan", adversarial_bound=100.0)
    slow.set_weights(fast.get_weights())
    start = [v.numpy() for v in fast.networks()["attention"]]
    batch = batch_of(rng)
    slow.attention_step(batch)
    fast.attention_step(batch)
    for a, s_var, f_var in zip(start, slow.networks()["attention"], fast.networks()["attention"]):
        np.testing.assert_allclose(s_var.numpy() - a, 0.25 * (f_var.numpy() - a), rtol=1e-4, atol=1e-7)
    assert any(np.abs(f_var.numpy() - a).max() > 0
               for a, f_var in zip(start, fast.networks()["attention"]))
    with pytest.raises(ValueError, match="attention_learning_rate"):
        make("hashgan", attention_learning_rate=0.0)


@pytest.mark.parametrize("method", ["dcmh", "hashgan", "hashgan_switches"])
def test_two_replicas_equal_one(rng, method):
    # the attention step follows the hash step: summation order can move an entry of a
    # hard mask across its threshold, so its loss agrees to 1%, not to 1e-4
    switches = {"adversarial_warmup": 2, "attention_learning_rate": 0.5} if method.endswith(
        "switches") else {}

    def factory(strategy):
        model = make(method.split("_")[0], strategy=strategy, **switches)
        if switches:
            model.on_epoch_begin(1, None)  # half the adversarial weight
        return model

    assert_replicas_agree(factory, batch_of(rng, 16), rel={"attention_loss": 1e-2})


@pytest.mark.parametrize("method", ["dcmh", "hashgan", "hashgan_switches"])
def test_keras_round_trip(tmp_path, rng, method):
    switches = method == "hashgan_switches"
    method = "hashgan" if switches else method
    model = make(method, **({"adversarial_warmup": 3, "attention_learning_rate": 0.5} if switches else {}))
    if switches:
        model.on_epoch_begin(1, None)
    batch = batch_of(rng, 3)
    path = str(tmp_path / f"{method}.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(model) and loaded.data_spec == SPEC
    if switches:
        assert (loaded.adversarial_warmup, loaded.attention_learning_rate) == (3, 0.5)
        assert float(loaded.adversarial_scale) == pytest.approx(1 / 3)
    for name in ("image", "text"):
        got = loaded.encoders()[name].embed(batch[name]).numpy()
        np.testing.assert_allclose(got, model.encoders()[name].embed(batch[name]).numpy(),
                                   rtol=1e-5, atol=1e-5)


def crossmodal_config(method, **overrides):
    values = {"data.source": "patch_pairs", "train.batch_size": 16, "train.epochs": 3}
    if method == "dcmh":
        values["dcmh.text_widths"] = (32,)
    values.update(overrides)
    return tiny_config(method=method, **values)


@pytest.mark.parametrize("method", ["dcmh", "hashgan"])
def test_resume_mid_alternation(tmp_path, monkeypatch, method):
    config = crossmodal_config(method)
    straight, *_ = loop.train(config, str(tmp_path / "straight"))
    train_until_killed(config, tmp_path / "resumed", monkeypatch, epoch=1, step=1)
    resumed = resume(config, tmp_path / "resumed", monkeypatch)
    for a, b in zip(straight.weights, resumed.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_hashgan_text_export_round_trip(tmp_path):
    config = crossmodal_config("hashgan", **{"train.epochs": 1})
    workdir = str(tmp_path / "run")
    loop.train_and_evaluate(config, workdir)
    model, source, split, _ = restored(config, workdir)
    codes = np.load(f"{workdir}/codes.npz")
    path = export.export(model, str(tmp_path / "export"),
                         databases={"image": (codes["db_image_codes"], codes["db_items"])})
    loaded = tf.saved_model.load(path)
    text = source.text[split.query[:5]]
    out = loaded.signatures["encode_text"](text=tf.constant(text))
    expected = retrieval.pack_codes(model.encoders()["text"].encode(text)).numpy()
    np.testing.assert_array_equal(out["codes"].numpy(), expected)
    found = loaded.signatures["search_text_to_image"](text=tf.constant(text), k=tf.constant(3))
    index = retrieval.HammingIndex(12)
    index.add(codes["db_image_codes"], ids=codes["db_items"])
    np.testing.assert_array_equal(found["ids"].numpy(), index.search(expected, 3)[1])


def test_validation_scores_both_directions_and_means_them(tmp_path):
    # A cross-modal run's validation score is the mean of image->text and
    # text->image, each the validation items against the training items; both are
    # kept in validation.json, so that a setting chosen on validation cannot trade
    # one direction for the other unseen.
    from tests.test_metrics import reference_map
    from tfhash.training import evaluation

    config = crossmodal_config("dcmh", **{"train.epochs": 1, "data.num_validation": 12})
    workdir = str(tmp_path / "run")
    report = loop.train_and_evaluate(config, workdir)
    last = report["validation"][-1]
    assert set(last["tasks"]) == {"image->text", "text->image"}
    assert last["map_all"] == pytest.approx(np.mean(list(last["tasks"].values())), abs=1e-6)
    model, source, split, _ = restored(config, workdir)
    encoders = model.encoders()
    query, _ = evaluation.encode_items(encoders, source, split.validation, config, "validation")
    database, _ = evaluation.encode_items(encoders, source, split.train, config, "training")
    labels = source.labels.astype(np.float32)
    for name, (q, d) in {"image->text": ("image", "text"), "text->image": ("text", "image")}.items():
        expected = reference_map(query[q], database[d], labels[split.validation],
                                 labels[split.train])
        assert last["tasks"][name] == pytest.approx(expected, abs=1e-5), name
