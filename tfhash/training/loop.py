"""The one training loop: strategy, checkpoints + resume, logging, evaluation.

Methods plug in through `HashingModel.train_step`; nothing here knows a loss.
"""

import math
import os
import time

import keras
import tensorflow as tf
from absl import logging

from tfhash import data as data_lib
from tfhash import models
from tfhash.retrieval import codes as codes_lib
from tfhash.training import config_files, evaluation
from tfhash.training import strategy as strategy_lib

CHECKPOINT_DIR = "checkpoints"


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


def make_optimizer(train_config, total_steps):
    """Adam or SGD (momentum 0.9), with decoupled weight decay when asked."""
    lr = train_config.learning_rate
    if train_config.lr_schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(lr, decay_steps=max(1, total_steps))
    elif train_config.lr_schedule != "constant":
        raise ValueError(f"lr_schedule must be 'cosine' or 'constant', got {train_config.lr_schedule!r}")
    decay = train_config.weight_decay or None
    if train_config.optimizer == "adam":
        return keras.optimizers.AdamW(lr, weight_decay=decay) if decay else keras.optimizers.Adam(lr)
    if train_config.optimizer == "sgd":
        return keras.optimizers.SGD(lr, momentum=0.9, weight_decay=decay)
    raise ValueError(f"optimizer must be 'adam' or 'sgd', got {train_config.optimizer!r}")


def build_model(config, strategy, num_train, num_classes, total_steps=1):
    """Model and optimizer, created and built inside the strategy's scope."""
    with strategy.scope():
        keras.utils.set_random_seed(config.seed)
        model = models.make_model(config, num_train, num_classes)
        size = config.data.image_size
        model(tf.zeros([1, size, size, 3]))
        model.build_optimizers(lambda: make_optimizer(config.train, total_steps))
    return model


class _State:
    """Checkpointed counters beside the model and optimizer."""

    def __init__(self):
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.train_seconds = tf.Variable(0.0, dtype=tf.float64, trainable=False)


def _checkpoint(model, state, workdir, keep):
    # Explicit variable lists: tf.train.Checkpoint(model=...) does not follow a Keras 3
    # model's sublayers and would drop non-trainable state such as batch-norm
    # statistics; every weight (trainable or not) and optimizer slot is listed here.
    ckpt = tf.train.Checkpoint(
        model_weights=[w.value for w in model.weights],
        optimizer_variables=[v.value for v in model.optimizer_variables()],
        epoch=state.epoch, train_seconds=state.train_seconds)
    # The manager writes ckpt-N completely before pointing the `checkpoint` file at
    # it, so a kill mid-save leaves the previous checkpoint in charge.
    return tf.train.CheckpointManager(ckpt, os.path.join(workdir, CHECKPOINT_DIR), max_to_keep=keep)


def _validate(config, strategy):
    codes_lib.check_bits(config.bits)
    if config.method not in models.METHODS:
        raise ValueError(f"unknown method {config.method!r}; expected one of {models.METHODS}")
    replicas, batch = strategy.num_replicas_in_sync, config.train.batch_size
    if batch <= 0 or batch % replicas:
        raise ValueError(f"train.batch_size={batch} must be a positive multiple of the {replicas} replicas")
    if config.train.epochs <= 0:
        raise ValueError(f"train.epochs must be positive, got {config.train.epochs}")


def _log_line(epoch, epochs, step, steps, logs, rate):
    terms = " ".join(f"{k} {v:.4f}" for k, v in sorted(logs.items()) if k != "loss")
    return (f"epoch {epoch + 1}/{epochs} step {step}/{steps} loss {logs['loss']:.4f} "
            f"({terms}) {rate:.0f} images/s")


def train(config, workdir, source=None):
    """Trains (resuming from the workdir's last checkpoint) and returns
    `(model, source, split, stats)`."""
    strategy = strategy_lib.make_strategy(config.num_cpu_replicas)
    _validate(config, strategy)
    config_files.check_config(config, workdir)
    source = source or data_lib.load_source(config.data.source, config.data.image_size)
    split = data_lib.resolve_split(source, config.data, workdir)
    os.makedirs(workdir, exist_ok=True)
    config_files.save_config(config, workdir)
    train_data = data_lib.TrainData(
        source, split.train, config.data.image_size, config.train.batch_size, config.seed,
        augment_images=config.data.augment, cache=config.data.cache)
    steps = train_data.steps_per_epoch
    model = build_model(config, strategy, len(split.train), source.num_classes,
                        total_steps=steps * config.train.epochs)
    state = _State()
    manager = _checkpoint(model, state, workdir, config.train.keep_checkpoints)
    if manager.latest_checkpoint:
        manager.checkpoint.restore(manager.latest_checkpoint).assert_consumed()
        logging.info("Resumed from %s (epoch %d done)", manager.latest_checkpoint, int(state.epoch))

    @tf.function
    def distributed_step(batch):
        logs = strategy.run(model.train_step, args=(batch,))
        # Each replica returns its share of the global loss: the sum is the loss.
        return {k: strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None) for k, v in logs.items()}

    writer = tf.summary.create_file_writer(os.path.join(workdir, "tensorboard", "train"))
    epochs, batch_size = config.train.epochs, config.train.batch_size
    run_images, run_seconds = 0, 0.0
    for epoch in range(int(state.epoch), epochs):
        epoch_start = interval_start = time.time()
        interval_images = 0
        dataset = strategy.experimental_distribute_dataset(train_data.epoch(epoch))
        for step, batch in enumerate(dataset, start=1):
            logs = {k: float(v) for k, v in distributed_step(batch).items()}
            if not math.isfinite(logs["loss"]):
                raise TrainingDiverged(
                    f"loss became {logs['loss']} at epoch {epoch + 1} step {step}; training "
                    f"stopped and the last good checkpoint ({manager.latest_checkpoint or 'none'}) "
                    "is kept. Try a lower train.learning_rate"
                )
            interval_images += batch_size
            global_step = epoch * steps + step
            if step % config.train.log_every == 0 or step == steps:
                rate = interval_images / max(time.time() - interval_start, 1e-9)
                logging.info(_log_line(epoch, epochs, step, steps, logs, rate))
                with writer.as_default():
                    for key, value in logs.items():
                        tf.summary.scalar(key, value, step=global_step)
                    tf.summary.scalar("images_per_second", rate, step=global_step)
                interval_start, interval_images = time.time(), 0
        seconds = time.time() - epoch_start
        run_images += steps * batch_size
        run_seconds += seconds
        state.epoch.assign(epoch + 1)
        state.train_seconds.assign_add(seconds)
        manager.save(checkpoint_number=epoch + 1)
        logging.info("epoch %d/%d done in %.1fs; checkpoint saved", epoch + 1, epochs, seconds)
    writer.close()
    stats = {
        "epochs": int(state.epoch),
        "step": int(state.epoch) * steps,
        "train_seconds": round(float(state.train_seconds.numpy()), 1),
        "images_per_second": round(run_images / run_seconds, 1) if run_seconds else None,
    }
    return model, source, split, stats


def train_and_evaluate(config, workdir, source=None):
    """`train`, then `evaluation.evaluate`; returns the report dict."""
    model, source, split, stats = train(config, workdir, source)
    return evaluation.evaluate(model, config, source, split, workdir, stats)


def restore_for_eval(config, workdir, source=None):
    """Model restored from the workdir's latest checkpoint, with its source and split."""
    strategy = strategy_lib.make_strategy(config.num_cpu_replicas)
    source = source or data_lib.load_source(config.data.source, config.data.image_size)
    split = data_lib.resolve_split(source, config.data, workdir)
    model = build_model(config, strategy, len(split.train), source.num_classes)
    state = _State()
    manager = _checkpoint(model, state, workdir, config.train.keep_checkpoints)
    if not manager.latest_checkpoint:
        raise ValueError(f"{workdir} has no checkpoint to evaluate; run tfhash-train first")
    manager.checkpoint.restore(manager.latest_checkpoint).expect_partial()
    steps = len(split.train) // config.train.batch_size
    stats = {"epochs": int(state.epoch), "step": int(state.epoch) * steps,
             "train_seconds": round(float(state.train_seconds.numpy()), 1),
             "images_per_second": None}
    logging.info("Restored %s (epoch %d)", manager.latest_checkpoint, int(state.epoch))
    return model, source, split, stats


__all__ = ["TrainingDiverged", "build_model", "restore_for_eval", "train", "train_and_evaluate"]
