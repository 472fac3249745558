"""The method contract, exercised by toy methods registered here (no edit to the loop,
evaluation or export): a second network that call() never uses, a two-stage method
with guided codes computed by a schedule hook, a cross-modal method with a text
encoder, log reductions and NaN checks on every log."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import restored, resume, tiny_config, train_until_killed
from tfhash import data, export, losses, methods, models, replicas, retrieval
from tfhash.methods import common
from tfhash.training import build, loop, reporting

HEAD = {"model.head_activation": "linear", "model.head_batch_norm": False, "model.hidden_units": 0}


def image_network(config, spec):
    return common.hashing_network(config, common.backbone(config.model, spec.image_size))


@keras.saving.register_keras_serializable(package="tfhash_tests")
class SpareNetwork(models.DSH):
    """DSH whose second network `spare` (dense) learns to predict the codes from
    detached features with its own optimizer; call() never uses it."""

    def __init__(self, network, **kwargs):
        super().__init__(network, **kwargs)
        self.spare = keras.layers.Dense(self.bits, name="spare")

    def build_networks(self, spec):
        super().build_networks(spec)
        self.spare(self.network.backbone(spec.symbolic("image"))["features"])

    def networks(self):
        return dict(super().networks(), spare=self.spare.trainable_variables)

    def train_step(self, batch, variant=None):
        logs = super().train_step(batch, variant)
        features = tf.stop_gradient(self.network.backbone(batch["image"], training=False)["features"])
        target = tf.stop_gradient(self(batch["image"], training=False))
        with tf.GradientTape() as tape:
            error = tf.reduce_sum(tf.square(self.spare(features) - target))
            spare_loss = error / (replicas.global_size(batch["index"]) * self.bits)
        self.optimize("spare", tape, spare_loss)
        return dict(logs, spare_loss=spare_loss)


@methods.register("toy_spare", defaults=HEAD)
def build_spare(config, spec):
    return SpareNetwork(image_network(config, spec))


@keras.saving.register_keras_serializable(package="tfhash_tests")
class TwoStage(models.DSH):
    """Stage 1 (epochs before `boundary`): backbone -> head, DSH loss. At the boundary
    the hook stores guided codes B = sign(stage-1 codes) of every training item from
    the un-augmented pass; stage 2 trains a second network (dense over 4x4-pooled
    pixels) with bitwise cross-entropy against (B + 1) / 2. Codes: network 2."""

    def __init__(self, network, num_train, boundary=1, **kwargs):
        super().__init__(network, **kwargs)
        self.num_train, self.boundary = int(num_train), int(boundary)
        self.second = keras.layers.Dense(self.bits, name="second")
        self.stage = self.add_weight(shape=(), dtype="int32", initializer="ones", trainable=False,
                                     name="stage")
        self.guided = self.add_weight(shape=(self.num_train, self.bits), initializer="zeros",
                                      trainable=False, name="guided")
        self.guided_ready = self.add_weight(shape=(), dtype="int32", initializer="zeros",
                                            trainable=False, name="guided_ready")

    def _pooled(self, images):
        pooled = tf.nn.avg_pool2d(tf.cast(images, tf.float32) / 255.0, 4, 4, "VALID")
        return tf.reshape(pooled, [tf.shape(images)[0], -1])

    def build_networks(self, spec):
        super().build_networks(spec)
        self.second.build((None, 3 * (spec.image_size // 4) ** 2))

    def networks(self):
        return dict(super().networks(), second=self.second.trainable_variables)

    def schedule_steps(self, network, steps_per_epoch, epochs):
        stage1 = self.boundary * steps_per_epoch
        return stage1 if network == "hash" else epochs * steps_per_epoch - stage1

    def on_epoch_begin(self, epoch, context):
        if epoch >= self.boundary and not int(self.guided_ready.numpy()):
            guided = np.zeros((self.num_train, self.bits), np.float32)
            for batch in context.train_pass(32):
                stage1 = self(tf.cast(batch["image"], tf.float32), training=False)
                guided[batch["index"].numpy()] = retrieval.binarize(stage1).numpy()
            self.guided.assign(guided)
            self.guided_ready.assign(1)
        self.stage.assign(2 if epoch >= self.boundary else 1)

    def step_variant(self, step):
        return int(self.stage.numpy())

    def embed_images(self, images):
        return self.second(self._pooled(images))

    def train_step(self, batch, variant=1):
        if variant == 1:
            return super().train_step(batch)
        targets = (tf.gather(self.guided, batch["index"]) + 1.0) / 2.0
        with tf.GradientTape() as tape:
            logits = self.second(self._pooled(batch["image"]))
            bce = tf.nn.sigmoid_cross_entropy_with_logits(labels=targets, logits=logits)
            loss = tf.reduce_sum(bce) / (replicas.global_size(batch["index"]) * self.bits)
        self.optimize("second", tape, loss)
        return {"loss": loss, "bce": loss}

    def get_config(self):
        config = super().get_config()
        config.update(num_train=self.num_train, boundary=self.boundary)
        return config


@methods.register("toy_stages", defaults=HEAD)
def build_stages(config, spec):
    return TwoStage(image_network(config, spec), num_train=spec.num_train, boundary=1)


@keras.saving.register_keras_serializable(package="tfhash_tests")
class TextImage(models.HashingModel):
    """Image network (backbone -> head) and a text network (dense -> tanh) trained with
    the pairwise likelihood between the image and text codes of the global batch."""

    REQUIRED_MODALITIES = ("image", "text")
    MEAN_LOGS = ("text_share",)

    def __init__(self, network, **kwargs):
        super().__init__(network.bits, **kwargs)
        self.network = network
        self.text_net = keras.layers.Dense(self.bits, activation="tanh", name="text_net")

    def build_networks(self, spec):
        self.network(spec.symbolic("image"))
        self.text_net(spec.symbolic("text"))

    def call(self, images, training=False):
        return self.network(images, training=training)

    def networks(self):
        return {"hash": self.network.trainable_variables, "text": self.text_net.trainable_variables}

    def embed_text(self, text):
        return self.text_net(tf.cast(text, tf.float32))

    def encoders(self):
        return dict(super().encoders(), text=self.text_encoder(self.embed_text))

    def evaluation_tasks(self):
        return [("image", "text"), ("text", "image")]

    def train_step(self, batch, variant=None):
        variables = self.networks()["hash"] + self.networks()["text"]
        with tf.GradientTape() as tape:
            image_codes = self(batch["image"], training=True)
            text_codes = self.embed_text(batch["text"])
            pairs = replicas.global_pairs(batch["label"], text_codes)
            (all_text,) = pairs.codes
            pair = tf.reduce_sum(losses.pairwise_likelihood(image_codes, all_text, pairs.similarity))
            loss = pair / (pairs.size * pairs.size)
        grads = tape.gradient(loss, variables)
        n = len(self.networks()["hash"])
        self.optimizers["hash"].apply_gradients(zip(grads[:n], variables[:n]))
        self.optimizers["text"].apply_gradients(zip(grads[n:], variables[n:]))
        return {"loss": loss, "text_share": tf.reduce_mean(tf.abs(text_codes))}


@methods.register("toy_text", defaults=HEAD)
def build_text(config, spec):
    return TextImage(image_network(config, spec))


def all_state(model):
    return [w.numpy() for w in model.weights] + [v.numpy() for v in model.optimizer_variables()]


def assert_same_state(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def checkpoint_entries(workdir):
    path = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))
    names = [name for name, _ in tf.train.list_variables(path)]
    count = lambda prefix: len({n.split("/")[1] for n in names if n.startswith(prefix + "/")})  # noqa: E731
    return count("model_weights"), count("optimizer_variables")


def test_unused_network_is_built_checkpointed_and_resumes_bit_exactly(tmp_path, monkeypatch):
    config = tiny_config(method="toy_spare")
    spec = models.DataSpec(image_size=16, num_train=80, num_classes=10)
    fresh = build.build_model(methods.resolve(config), loop.strategy_lib.make_strategy(0), spec, 4)
    spare_slots = [v for v in fresh.optimizers["spare"].variables if "spare" in v.path]
    assert fresh.spare.built and len(spare_slots) == 4  # Adam m and v of kernel and bias

    straight, *_ = loop.train(config, str(tmp_path / "straight"))
    weights, slots = checkpoint_entries(str(tmp_path / "straight"))
    assert weights == len(straight.weights) and slots == len(straight.optimizer_variables())
    assert any(np.abs(v.numpy()).sum() > 0 for v in straight.optimizers["spare"].variables
               if "spare" in v.path)
    train_until_killed(config, tmp_path / "resumed", monkeypatch, epoch=1, step=2)
    resumed = resume(config, tmp_path / "resumed", monkeypatch)
    assert_same_state(all_state(straight), all_state(resumed))


def test_two_stage_method_resumes_in_the_right_stage(tmp_path, monkeypatch):
    config = tiny_config(method="toy_stages", **{"train.epochs": 3})
    straight, _, split, _ = loop.train(config, str(tmp_path / "straight"))
    steps = len(split.train) // config.train.batch_size
    assert int(straight.optimizers["hash"].iterations.numpy()) == steps  # stage 1: epoch 0
    assert int(straight.optimizers["second"].iterations.numpy()) == 2 * steps
    guided = straight.guided.numpy()
    assert set(np.unique(guided)) == {-1.0, 1.0}
    # each stage's cosine schedule spans that stage, and ends at 0 with it
    assert straight.optimizers["hash"]._learning_rate.decay_steps == steps
    assert straight.optimizers["second"]._learning_rate.decay_steps == 2 * steps
    assert float(straight.optimizers["second"].learning_rate) == 0.0
    # killed between the stages (after the hook computed B, before ckpt-2) and inside
    # stage 2 (mid-epoch, after step 2 of epoch 3)
    for name, (epoch, step) in (("between", (1, 1)), ("inside", (2, 2))):
        train_until_killed(config, tmp_path / name, monkeypatch, epoch, step)
        resumed = resume(config, tmp_path / name, monkeypatch)
        assert_same_state(all_state(straight), all_state(resumed))
    # the guided codes come from the un-augmented ordered pass: the same pass by hand
    model, source, split, _ = restored(config, str(tmp_path / "straight"))
    images = data.eval_dataset(source, split.train, 16, 1000, ("image",))
    stage1 = np.concatenate([model(tf.cast(b["image"], tf.float32)).numpy() for b in images])
    np.testing.assert_array_equal(guided, np.where(stage1 > 0, 1.0, -1.0))


def test_every_log_is_checked_and_reduced_as_declared(tmp_path, monkeypatch):
    original = TextImage.train_step

    def poisoned(self, batch, variant=None):
        logs = original(self, batch, variant)
        return dict(logs, text_share=logs["text_share"] * float("inf"))

    config = tiny_config(method="toy_text", num_cpu_replicas=2, **{
        "data.source": "patch_pairs", "train.batch_size": 16, "train.epochs": 1})
    monkeypatch.setattr(TextImage, "train_step", poisoned)
    with pytest.raises(loop.TrainingDiverged, match="text_share became inf at epoch 1 step 1"):
        loop.train(config, str(tmp_path / "poisoned"))
    monkeypatch.setattr(TextImage, "train_step", original)
    # a "mean" log is averaged over replicas, a "sum" log adds the replicas' shares
    strategy = loop.strategy_lib.make_strategy(2)
    spec = models.DataSpec(image_size=16, num_train=32, num_classes=4, text_dim=40)
    model = build.build_model(methods.resolve(config), strategy, spec, 2)
    source = data.load_source("patch_pairs")
    batch = next(iter(data.TrainData(source, np.arange(32), 16, 16, 0).epoch(0)))
    text = model.embed_text(batch["text"]).numpy()  # before the step changes the weights
    logs = loop.make_distributed_step(model, strategy)(
        next(iter(strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensors(batch)))))
    assert float(logs["text_share"]) == pytest.approx(np.abs(text).mean(), rel=1e-5)


def test_cross_modal_tasks_report_codes_and_export(tmp_path):
    config = tiny_config(method="toy_text", **{
        "data.source": "patch_pairs", "train.batch_size": 16, "train.epochs": 2})
    workdir = str(tmp_path / "run")
    report = loop.train_and_evaluate(config, workdir)
    assert list(report["tasks"]) == ["image->text", "text->image"]
    assert report["map_all"] == report["tasks"]["image->text"]["map_all"]
    assert report["encoders"]["text"] == {"modality": "text", "code_bits": 12, "distance": "hamming"}
    table = reporting.format_table(report)
    assert "mAP@all image->text" in table and "mAP@all text->image" in table
    codes = np.load(os.path.join(workdir, "codes.npz"))
    for q, d in (("image", "text"), ("text", "image")):
        expected = retrieval.mean_average_precision(
            codes[f"query_{q}_codes"], codes[f"db_{d}_codes"], codes["query_labels"],
            codes["db_labels"])
        assert expected == pytest.approx(report["tasks"][f"{q}->{d}"]["map_all"], abs=1e-6)
    for name in ("pr_curve.png", "pr_curve_text-image.png", "precision_at_n_text-image.png",
                 "retrieval.png"):
        assert os.path.exists(os.path.join(workdir, name)), name
    saved = json.load(open(os.path.join(workdir, "report.json")))
    assert saved["tasks"]["text->image"]["map_all"] == report["tasks"]["text->image"]["map_all"]

    model, source, split, _ = restored(config, workdir)
    databases = {m: (codes[f"db_{m}_codes"], codes["db_items"]) for m in ("image", "text")}
    path = export.export(model, str(tmp_path / "export"), databases=databases)
    loaded = tf.saved_model.load(path)
    assert sorted(loaded.signatures) == [
        "encode_images", "encode_jpeg", "encode_text", "search", "search_image_to_text",
        "search_text_to_image", "serving_default"]
    text = source.text[split.query[:6]]
    out = loaded.signatures["encode_text"](text=tf.constant(text))
    np.testing.assert_array_equal(out["codes"].numpy(), codes["query_text_codes"][:6])
    found = loaded.signatures["search_text_to_image"](text=tf.constant(text), k=tf.constant(5))
    index = retrieval.HammingIndex(12)
    index.add(codes["db_image_codes"], ids=codes["db_items"])
    distances, ids = index.search(codes["query_text_codes"][:6], 5)
    np.testing.assert_array_equal(found["distances"].numpy(), distances)
    np.testing.assert_array_equal(found["ids"].numpy(), ids)
    first = loaded.signatures["search"](images=tf.constant(source.array[split.query[:2]]),
                                        k=tf.constant(3))
    index = retrieval.HammingIndex(12)
    index.add(codes["db_text_codes"], ids=codes["db_items"])
    np.testing.assert_array_equal(first["ids"].numpy(),
                                  index.search(codes["query_image_codes"][:2], 3)[1])


def test_image_only_data_is_refused_by_a_text_method(tmp_path):
    with pytest.raises(ValueError, match="TextImage needs image and text data; the source has image only"):
        loop.train(tiny_config(method="toy_text"), str(tmp_path))
