import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import small_network
from tfhash import backbones, layers, methods, models


SPEC = models.DataSpec(image_size=16, num_train=10, num_classes=3)


def make(method, bits=12):
    if method == "dpsh":
        model = models.DPSH(small_network(bits, batch_norm=True, activation="tanh"), num_train=10,
                            num_classes=3, quant_weight=0.5)
    else:
        model = models.DSH(small_network(bits, hidden_units=8), alpha=0.02, margin=5.0)
    model.build_from_spec(SPEC)
    return model


@pytest.mark.parametrize("method", ["dpsh", "dsh"])
def test_config_round_trip_and_keras_file(tmp_path, rng, method):
    model = make(method)
    images = rng.integers(0, 256, size=(3, 16, 16, 3)).astype(np.uint8)
    expected = model(images.astype(np.float32)).numpy()
    clone = type(model).from_config(model.get_config())
    assert isinstance(clone, type(model)) and clone.get_config() == model.get_config()
    assert isinstance(clone.network.backbone, backbones.SmallCNN)
    path = str(tmp_path / f"{method}.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(model) and loaded.data_spec == SPEC
    np.testing.assert_allclose(loaded(images.astype(np.float32)).numpy(), expected, rtol=1e-5,
                               atol=1e-5)
    encoder = loaded.encoders()["image"]
    assert encoder.input_spec.shape.as_list() == [None, 16, 16, 3] and encoder.code_bits == 12
    codes = encoder.encode(images).numpy()
    assert set(np.unique(codes)) <= {-1.0, 1.0} and codes.shape == (3, 12)
    np.testing.assert_array_equal(codes, np.where(expected > 0, 1.0, -1.0))


def test_build_from_spec_builds_every_weight_without_a_call():
    model = make("dpsh")
    assert model.built and all(layer.built for layer in model._flatten_layers())
    # backbone (2 conv + 2 BN x 4 variables), code layer, head BN (4), bank (2)
    assert len(model.weights) == 2 + 8 + 1 + 4 + 2
    with pytest.raises(ValueError, match="needs image and text data"):
        class TextModel(models.DSH):
            REQUIRED_MODALITIES = ("image", "text")
        TextModel(small_network(8, widths=(4,))).build_from_spec(SPEC)


def test_data_spec_checks_its_fields():
    with pytest.raises(ValueError, match="num_train must be a positive integer, got 0"):
        models.DataSpec(image_size=16, num_train=0, num_classes=3)
    with pytest.raises(ValueError, match="text_dim must be an integer >= 0"):
        models.DataSpec(image_size=16, num_train=4, num_classes=3, text_dim=-1)
    spec = models.DataSpec(image_size=16, num_train=4, num_classes=3, text_dim=7)
    assert spec.modalities == ("image", "text")
    assert spec.input_spec("text").shape.as_list() == [None, 7]
    with pytest.raises(ValueError, match="has no text"):
        SPEC.input_spec("text")


def test_registry_names_every_method_and_refuses_duplicates():
    assert set(methods.names()) >= {"dpsh", "dsh", "dsah", "doh", "dagh", "dcmh", "hashgan"}
    assert methods.get("dsh").build is methods.dsh.build
    with pytest.raises(ValueError, match="unknown method 'lsh'"):
        methods.get("lsh")
    with pytest.raises(ValueError, match="already registered by tfhash.methods.dsh"):
        methods.register("dsh")(methods.dpsh.build)
    with pytest.raises(ValueError, match="not method-dependent"):
        methods.register("toy_bad", defaults={"train.epochs": 3})(lambda config, spec: None)


def test_hash_head_round_trip():
    head = layers.HashHead(20, activation="tanh", hidden_units=5, dropout=0.1)
    assert layers.HashHead.from_config(head.get_config()).get_config() == head.get_config()
    assert head(tf.zeros([2, 7])).shape == (2, 20)


@pytest.mark.parametrize("bad", [0, -4, 1.5])
def test_bad_bits(bad):
    with pytest.raises(ValueError, match="bits must be a positive integer"):
        models.DSH(small_network(bad, widths=(4,)))


def test_application_backbone_builds_without_weights():
    backbone = backbones.ApplicationBackbone("vgg16", image_size=32, weights=None)
    out = backbone(tf.zeros([1, 32, 32, 3]))
    # block5_conv3, before the last pool: 14 x 14 at 224 px, 2 x 2 at 32
    assert out["features"].shape == (1, 512) and out["feature_map"].shape == (1, 2, 2, 512)
    assert backbones.ApplicationBackbone.from_config(backbone.get_config()).name_ == "vgg16"
    with pytest.raises(ValueError, match="unknown backbone 'alexnet'"):
        backbones.ApplicationBackbone("alexnet")


@pytest.mark.parametrize("name, stage, size", [("vgg16", "block5", 32), ("resnet50", "conv4", 64),
                                               ("efficientnetb0", "block6", 64)])
def test_application_backbones_cut_into_trunk_and_tail(rng, name, stage, size):
    backbone = backbones.ApplicationBackbone(name, image_size=size, train_from=stage)
    images = rng.uniform(0, 255, size=(2, size, size, 3)).astype(np.float32)
    whole = backbone(images)["features"].numpy()
    trunk = backbone.trunk(images)
    assert trunk.shape[-1] != 3
    np.testing.assert_allclose(backbone(trunk)["features"].numpy(), whole, rtol=1e-5, atol=1e-5)
    frozen = {id(w) for i in range(backbone.cut) for layer in backbone.stage_layers(i)
              for w in layer.weights}
    assert frozen and not frozen & {id(v) for v in backbone.trainable_variables}
    assert backbone.trainable_variables


def test_application_weights_from_a_file_and_the_imagenet_path_without_a_download(
        tmp_path, rng, monkeypatch):
    """`weights=<file>` loads a Keras weights file; `weights="imagenet"` goes through
    keras.applications' download, here answered by a file written locally."""
    import keras

    source = keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    path = str(tmp_path / "vgg16_notop.weights.h5")
    source.save_weights(path)
    loaded = backbones.ApplicationBackbone("vgg16", image_size=32, weights=path)
    for a, b in zip(source.weights, loaded.network.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    asked = []

    def get_file(name, origin, *args, **kwargs):
        asked.append(origin)
        return path

    monkeypatch.setattr(keras.utils, "get_file", get_file)
    from keras.src.applications import vgg16

    monkeypatch.setattr(vgg16.file_utils, "get_file", get_file)
    imagenet = backbones.ApplicationBackbone("vgg16", image_size=32, weights="imagenet")
    assert asked and "vgg16" in asked[0]
    images = rng.uniform(0, 255, size=(1, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(imagenet(images)["features"].numpy(),
                               loaded(images)["features"].numpy(), rtol=1e-5)


@pytest.mark.parametrize("method", ["dpsh", "dsh"])
def test_balance_term_and_graded_similarity_enter_the_loss(rng, method):
    codes = tf.constant(rng.normal(size=(6, 12)).astype(np.float32))
    labels = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 1], [0, 0, 1], [1, 1, 1], [0, 1, 1]], np.float32)
    batch = {"label": labels, "index": np.arange(6, dtype=np.int64)}

    def loss(**kwargs):
        network = small_network(12, widths=(4,))
        if method == "dpsh":
            model = models.DPSH(network, num_train=6, num_classes=3, memory_bank=False, **kwargs)
        else:
            model = models.DSH(network, **kwargs)
        return float(model.compute_hash_loss(codes, batch)[0])

    squash = np.tanh if method == "dsh" else (lambda x: x)
    expected = 0.5 * np.mean(np.mean(squash(codes.numpy()), axis=0) ** 2)
    assert loss(balance_weight=0.5) - loss() == pytest.approx(expected, rel=1e-4)
    assert loss(similarity="jaccard") != pytest.approx(loss())  # these labels overlap partly
    with pytest.raises(ValueError, match="similarity must be one of"):
        models.DSH(small_network(8, widths=(4,)), similarity="dice")
    with pytest.raises(ValueError, match="balance_weight must be >= 0"):
        models.DSH(small_network(8, widths=(4,)), balance_weight=-1)


def test_backbone_trunk_and_tail(rng):
    """`train_from` cuts the small CNN into a frozen trunk (no trainable weights, batch
    norm in inference mode) and a trainable tail; tail(trunk(x)) is call(x)."""
    images = rng.uniform(0, 255, size=(4, 16, 16, 3)).astype(np.float32)
    whole = backbones.SmallCNN((4, 8, 8), 1)
    cut = backbones.SmallCNN((4, 8, 8), 1, train_from="stage3")
    for b in (whole, cut):
        b.build((None, 16, 16, 3))
    cut.set_weights(whole.get_weights())
    assert cut.stage_names == ("stage1", "stage2", "stage3") and cut.cut == 2
    frozen = {id(v) for i in range(2) for layer in cut.stage_layers(i) for v in layer.weights}
    assert frozen and not frozen & {id(v) for v in cut.trainable_variables}
    assert len(cut.trainable_variables) == 3  # stage 3: conv kernel, BN gamma and beta
    trunk = cut.trunk(images)
    assert trunk.shape == (4, 4, 4, 8)  # after two 2x2 pools
    out = cut.tail(trunk, training=False)
    np.testing.assert_allclose(out["features"].numpy(), cut(images)["features"].numpy(), rtol=1e-6)
    np.testing.assert_allclose(cut(images)["features"].numpy(), whole(images)["features"].numpy(),
                               rtol=1e-6)
    # training mode: the trunk's batch norm keeps its moving statistics (inference mode)
    before = [v.numpy() for v in cut.stage_layers(0)[1].weights]
    cut(images, training=True)
    for a, b in zip(before, cut.stage_layers(0)[1].weights):
        np.testing.assert_array_equal(a, b.numpy())
    assert backbones.SmallCNN.from_config(cut.get_config()).train_from == "stage3"
    with pytest.raises(ValueError, match="train_from must be one of the stages"):
        backbones.SmallCNN((4, 8), 1, train_from="stage9")


def test_the_typed_report_reads_and_writes_report_json():
    """report.json as tfhash wrote it at c6a0030 (f-string keys, no top_k or radius)
    reads into a `Report`; written back, it keeps those keys and adds top_k, radius."""
    import json
    import os

    from tests.conftest import REPO
    from tfhash.training import reporting, scores

    path = os.path.join(REPO, "tests", "data", "c6a0030", "dcmh", "report.json")
    old = json.load(open(path))
    report = scores.load_report(path)
    assert list(report.tasks) == ["image->text", "text->image"]
    task = report.tasks["text->image"]
    assert (task.top_k, task.radius) == (1000, 2)
    assert task.map_at_k == old["tasks"]["text->image"]["map_at_1000"]
    again = json.loads(json.dumps(report.to_json()))
    for key, value in old.items():
        if key != "tasks":
            assert again[key] == value, key
    for name, block in old["tasks"].items():
        assert again["tasks"][name] == dict(block, top_k=1000, radius=2)
    table = reporting.format_table(report)
    assert "mAP@1000 text->image" in table and "P@r2 image->text" in table


def test_batch_norm_statistics_reestimated_over_a_pass(rng):
    """`layers.batch_norm.reestimate`: the moving mean and variance become the means of
    the batch means and variances over the pass (NumPy), whatever they were; the
    momentum is restored."""
    from tfhash.layers import batch_norm

    norm = keras.layers.BatchNormalization(momentum=0.99)
    norm.build((None, 3))
    norm.moving_mean.assign([5.0, -5.0, 9.0])
    batches = [rng.normal(loc=[1.0, 2.0, 3.0], scale=[1.0, 0.5, 2.0], size=(16, 3)).astype(np.float32)
               for _ in range(7)]
    assert batch_norm.reestimate(lambda b: norm(b, training=True), [norm], batches) == 7
    np.testing.assert_allclose(norm.moving_mean.numpy(), np.mean([b.mean(0) for b in batches], 0),
                               rtol=1e-5)
    np.testing.assert_allclose(norm.moving_variance.numpy(),
                               np.mean([b.var(0) for b in batches], 0), rtol=1e-4)
    assert norm.momentum == 0.99
    cnn = backbones.SmallCNN((4, 8), 1)
    assert len(batch_norm.norm_layers(cnn)) == 2


def test_parallel_backbones_concatenate_their_features_and_share_one_cache(tmp_path, rng):
    """`backbones.Parallel`: each backbone's pooled features side by side (the first's
    map), every weight its own; with equal frozen trunks the cached maps feed both
    tails (the output equals the pixel path's); a DPSH of two backbones round-trips
    through a `.keras` file."""
    from tfhash.training import trunks

    images = rng.uniform(0, 255, size=(3, 16, 16, 3)).astype(np.float32)
    first = backbones.SmallCNN((4, 8), 1, train_from="stage2")
    second = backbones.SmallCNN((4, 6), 1, train_from="stage2")
    both = backbones.Parallel([first, second])
    both.build((None, 16, 16, 3))
    second.stage_layers(0)[0].kernel.assign(first.stage_layers(0)[0].kernel)  # one trunk
    out = both(images)
    a, b = first(images), second(images)
    np.testing.assert_allclose(out["features"].numpy(),
                               np.concatenate([a["features"].numpy(), b["features"].numpy()], -1),
                               rtol=1e-6)
    np.testing.assert_array_equal(out["feature_map"].numpy(), a["feature_map"].numpy())
    assert out["features"].shape == (3, 14)
    assert not {id(v) for v in first.weights} & {id(v) for v in second.weights}
    network = layers.HashingNetwork(both, layers.HashHead(12, "tanh", 0, batch_norm=True))
    model = models.DPSH(network, num_train=10, num_classes=3)
    model.build_from_spec(SPEC)
    assert sorted(id(x) for x in trunks.cut_backbones(model)) == sorted([id(first), id(second)])
    maps = first.trunk(images)
    assert maps.shape[-1] == 4 and trunks._same_trunk(first, second)
    np.testing.assert_allclose(model(maps).numpy(), model(images).numpy(), rtol=1e-5, atol=1e-6)
    path = str(tmp_path / "parallel.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded.network.backbone, backbones.Parallel)
    assert [b.widths for b in loaded.network.backbone.backbones] == [(4, 8), (4, 6)]
    np.testing.assert_allclose(loaded(images).numpy(), model(images).numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="at least two backbones"):
        backbones.Parallel([first])


def test_dpsh_of_two_backbones_in_the_loop_resumes_and_replicates(tmp_path, monkeypatch, rng):
    """`dpsh.backbones=2` (the capacity control for DOH's two streams): the loop trains
    and resumes it, and 2 replicas step as 1."""
    from tests.conftest import assert_replicas_agree, resume, separable_source, tiny_config
    from tfhash.training import loop

    config = tiny_config(**{"dpsh.backbones": 2, "train.epochs": 1})
    report = loop.train_and_evaluate(config, str(tmp_path), source=separable_source())
    assert report["map_all"] > report["chance_map_all"]
    resumed = resume(tiny_config(**{"dpsh.backbones": 2, "train.epochs": 2}), tmp_path,
                     monkeypatch, source=separable_source())
    assert isinstance(resumed.network.backbone, backbones.Parallel)
    with pytest.raises(ValueError, match="dpsh.backbones"):
        methods.validate(tiny_config(**{"dpsh.backbones": 3}), 1)

    def make_two(strategy=None):
        with (strategy or tf.distribute.get_strategy()).scope():
            keras.utils.set_random_seed(5)
            parallel = backbones.Parallel([backbones.SmallCNN((4,), 1), backbones.SmallCNN((4,), 1)])
            model = models.DPSH(layers.HashingNetwork(parallel, layers.HashHead(12, "tanh", 0)),
                                num_train=16, num_classes=3)
            model.build_from_spec(models.DataSpec(image_size=16, num_train=16, num_classes=3))
            model.build_optimizers(lambda steps: keras.optimizers.SGD(0.5), 1, 1)
        return model

    batch = {"image": rng.uniform(0, 255, size=(16, 16, 16, 3)).astype(np.float32),
             "label": np.eye(3, dtype=np.float32)[rng.integers(0, 3, 16)],
             "index": rng.permutation(16).astype(np.int64)}
    assert_replicas_agree(make_two, batch)
