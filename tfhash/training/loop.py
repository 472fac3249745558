"""The one training loop: strategy, checkpoints + resume, logging, evaluation.

Methods plug in through the method contract (`tfhash.models.HashingModel`):
the loop builds a model from a `DataSpec`, gives each of its networks an
optimizer, calls its schedule hook before every epoch and its `train_step` on
every batch. Nothing here knows a loss or names a method.
"""

import math
import os
import shutil
import tempfile
import time

import keras
import tensorflow as tf
from absl import logging

from tfhash import data as data_lib
from tfhash.data import preprocess
from tfhash import models
from tfhash.retrieval import codes as codes_lib
from tfhash.training import config_files, evaluation
from tfhash.training import strategy as strategy_lib

CHECKPOINT_DIR = "checkpoints"


class TrainingDiverged(RuntimeError):
    """A logged value became NaN or infinite; the last good checkpoint is kept."""


class CheckpointWriteError(RuntimeError):
    """A checkpoint could not be written (disk full, permissions); the previous one is
    kept and a rerun resumes from it."""


def make_optimizer(train_config, schedule_steps):
    """Adam or SGD (momentum 0.9), with decoupled weight decay when asked; a cosine
    schedule decays over `schedule_steps` steps of this optimizer."""
    lr = train_config.learning_rate
    if train_config.lr_schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(lr, decay_steps=max(1, int(schedule_steps)))
    elif train_config.lr_schedule != "constant":
        raise ValueError(f"lr_schedule must be 'cosine' or 'constant', got {train_config.lr_schedule!r}")
    decay = train_config.weight_decay or None
    if train_config.optimizer == "adam":
        return keras.optimizers.AdamW(lr, weight_decay=decay) if decay else keras.optimizers.Adam(lr)
    if train_config.optimizer == "sgd":
        return keras.optimizers.SGD(lr, momentum=0.9, weight_decay=decay)
    raise ValueError(f"optimizer must be 'adam' or 'sgd', got {train_config.optimizer!r}")


def data_spec(config, source, split):
    """What the model is built from."""
    return models.DataSpec.from_source(source, len(split.train), config.data.image_size)


def build_model(config, strategy, spec, steps_per_epoch=1):
    """Model and one optimizer per network, created and built inside the strategy's
    scope from the data description (every weight and slot exists before the first
    checkpoint)."""
    with strategy.scope():
        keras.utils.set_random_seed(config.seed)
        model = models.make_model(config, spec)
        model.build_from_spec(spec)
        model.build_optimizers(lambda steps: make_optimizer(config.train, steps),
                               steps_per_epoch, config.train.epochs)
    return model


class _State:
    """Checkpointed counters beside the model and optimizers."""

    def __init__(self):
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.train_seconds = tf.Variable(0.0, dtype=tf.float64, trainable=False)


def _checkpoint(model, state, directory, keep):
    # Explicit variable lists: tf.train.Checkpoint(model=...) does not follow a Keras 3
    # model's sublayers and would drop non-trainable state such as batch-norm
    # statistics, memory banks and the variables schedule hooks change; every weight
    # (trainable or not) and every optimizer's slots are listed here.
    ckpt = tf.train.Checkpoint(
        model_weights=[w.value for w in model.weights],
        optimizer_variables=[v.value for v in model.optimizer_variables()],
        epoch=state.epoch, train_seconds=state.train_seconds)
    # The manager writes ckpt-N completely before pointing the `checkpoint` file at
    # it, so a kill mid-save leaves the previous checkpoint in charge.
    return tf.train.CheckpointManager(ckpt, directory, max_to_keep=keep)


class _Checkpoints:
    """Saving and restoring on every worker, writing only on the chief.

    On one machine this is the workdir's CheckpointManager. With several workers every
    worker takes part in a save (as TensorFlow's multi-worker guide prescribes), but
    only the chief's lands in the workdir; the others write to a temporary folder and
    delete it. Every worker restores from the workdir's checkpoints, so the workdir
    must be on storage all workers can read (a shared file system or a bucket)."""

    def __init__(self, model, state, workdir, keep, chief):
        self.directory = os.path.join(workdir, CHECKPOINT_DIR)
        self.chief = chief
        self.manager = _checkpoint(model, state, self.directory, keep)
        self.checkpoint = self.manager.checkpoint

    @property
    def latest_checkpoint(self):
        return tf.train.latest_checkpoint(self.directory)

    def restore(self):
        latest = self.latest_checkpoint
        if latest:
            self.checkpoint.restore(latest).assert_consumed()
        return latest

    def save(self, number):
        if self.chief:
            previous = self.latest_checkpoint
            try:
                self.manager.save(checkpoint_number=number)
            except (tf.errors.OpError, OSError) as e:
                reason = str(getattr(e, "message", e)).strip().splitlines()[0][:300]
                raise CheckpointWriteError(
                    f"could not write checkpoint {number} in {self.directory} ({reason}); the "
                    f"last good checkpoint ({previous or 'none'}) is kept: free space and rerun "
                    "the same command to resume from it") from None
            return
        scratch = tempfile.mkdtemp(prefix="tfhash-worker-checkpoint-")
        try:  # the worker's copy only serves the collective save
            self.checkpoint.write(os.path.join(scratch, f"ckpt-{number}"))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def _check_same_epoch(strategy, epoch):
    """Every worker must resume from the same epoch (the same checkpoint)."""
    if strategy_lib.num_workers() <= 1:
        return
    per_replica = strategy.run(lambda: tf.constant(float(epoch)))
    total = float(strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None))
    if total != epoch * strategy.num_replicas_in_sync:
        raise ValueError(
            f"this worker ({strategy_lib.task_name(strategy)}) resumed at epoch {epoch} but the "
            "workers disagree (mean epoch "
            f"{total / strategy.num_replicas_in_sync:g}): every worker must read the chief's "
            "checkpoints, so the workdir must be on storage all workers share (NFS, GCS)")


def barrier(strategy):
    """Waits until every worker gets here (a no-op on one machine)."""
    if strategy_lib.num_workers() > 1:
        per_replica = strategy.run(lambda: tf.constant(1.0))
        strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None).numpy()


def _set_pixel_limit(config):
    preprocess.set_max_pixels(config.data.get("max_pixels", preprocess.DEFAULT_MAX_PIXELS))


def _validate(config, strategy):
    codes_lib.check_bits(config.bits)
    models.registry.get(config.method)
    replicas, batch = strategy.num_replicas_in_sync, config.train.batch_size
    if batch <= 0 or batch % replicas:
        raise ValueError(f"train.batch_size={batch} must be a positive multiple of the {replicas} replicas")
    if config.train.epochs <= 0:
        raise ValueError(f"train.epochs must be positive, got {config.train.epochs}")
    if config.data.image_size < 8:
        raise ValueError(f"data.image_size must be at least 8 pixels, got {config.data.image_size}")
    if not config.train.learning_rate > 0:
        raise ValueError(f"train.learning_rate must be positive, got {config.train.learning_rate}")
    if config.eval.batch_size <= 0:
        raise ValueError(f"eval.batch_size must be positive, got {config.eval.batch_size}")


def make_distributed_step(model, strategy, variant=None, jit_compile=False):
    """One training step on a distributed batch: `model.train_step(batch, variant)` on
    every replica (compiled with XLA when `jit_compile`), logs combined as the model
    declares (`log_reduction`)."""
    ops = {"sum": tf.distribute.ReduceOp.SUM, "mean": tf.distribute.ReduceOp.MEAN}
    replica_step = (tf.function(lambda batch: model.train_step(batch, variant), jit_compile=True)
                    if jit_compile else (lambda batch: model.train_step(batch, variant)))

    @tf.function
    def distributed_step(batch):
        logs = strategy.run(replica_step, args=(batch,))
        # a "sum" log is each replica's share of a global value; a "mean" log is averaged
        return {k: strategy.reduce(ops[model.log_reduction(k)], v, axis=None)
                for k, v in logs.items()}

    return distributed_step


def _log_line(epoch, epochs, step, steps, logs, rate):
    terms = " ".join(f"{k} {v:.4f}" for k, v in sorted(logs.items()) if k != "loss")
    return (f"epoch {epoch + 1}/{epochs} step {step}/{steps} loss {logs['loss']:.4f} "
            f"({terms}) {rate:.0f} images/s")


def _check_finite(logs, epoch, step, manager):
    bad = sorted(k for k, v in logs.items() if not math.isfinite(v))
    if bad:
        values = ", ".join(f"{k} became {logs[k]}" for k in bad)
        raise TrainingDiverged(
            f"{values} at epoch {epoch + 1} step {step}; training stopped and the last good "
            f"checkpoint ({manager.latest_checkpoint or 'none'}) is kept. Try a lower "
            "train.learning_rate")


def _validate_epoch(model, config, source, split, workdir, writer, epoch, steps):
    start = time.time()
    map_all = evaluation.validate(model, config, source, split)
    evaluation.record_validation(workdir, epoch + 1, map_all)
    with writer.as_default():
        tf.summary.scalar("validation_map_all", map_all, step=(epoch + 1) * steps)
    logging.info("epoch %d validation mAP@all %.4f (%d validation items against %d training "
                 "items, %.1fs)", epoch + 1, map_all, len(split.validation), len(split.train),
                 time.time() - start)


def _check_writable(workdir):
    """Proves that the workdir (or, when it does not exist yet, the nearest folder
    above it that exists) can be written, with a probe file removed again, so a
    read-only folder is one clear error before any work; creates nothing."""
    folder = os.path.abspath(workdir)
    while not os.path.isdir(folder) and os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
    probe = os.path.join(folder, f".tfhash-write-probe-{os.getpid()}")
    try:
        with open(probe, "w"):
            pass
        os.remove(probe)
    except OSError as error:
        raise ValueError(f"workdir {workdir} cannot be written ({error.strerror} in {folder}); "
                         "give a folder this user can write to") from None


def train(config, workdir, source=None):
    """Trains (resuming from the workdir's last checkpoint) and returns
    `(model, source, split, stats)`."""
    strategy = strategy_lib.make_strategy(config.num_cpu_replicas)
    chief = strategy_lib.is_chief(strategy)
    _validate(config, strategy)
    if os.path.exists(workdir) and not os.path.isdir(workdir):
        raise ValueError(f"workdir {workdir} is a file, not a folder; give a new or existing folder")
    config_files.check_config(config, workdir)
    if chief:
        _check_writable(workdir)
    _set_pixel_limit(config)
    source = source or data_lib.load_source(config.data.source, config.data.image_size)
    # Only the chief writes the workdir; the other workers draw the same split (it
    # depends on the data and the config only) or read the chief's.
    split = data_lib.resolve_split(source, config.data, workdir, write=chief)
    if chief:
        config_files.save_config(config, workdir)
    train_data = data_lib.TrainData(
        source, split.train, config.data.image_size, config.train.batch_size, config.seed,
        augment_images=config.data.augment, cache=config.data.cache)
    steps = train_data.steps_per_epoch
    model = build_model(config, strategy, data_spec(config, source, split), steps)
    state = _State()
    manager = _Checkpoints(model, state, workdir, config.train.keep_checkpoints, chief)
    if manager.restore():
        logging.info("Resumed from %s (epoch %d done)", manager.latest_checkpoint, int(state.epoch))
    _check_same_epoch(strategy, int(state.epoch))

    compiled = {}  # step variant -> its compiled step

    def distributed_step(batch, done):
        variant = model.step_variant(done)
        if variant not in compiled:
            compiled[variant] = make_distributed_step(model, strategy, variant,
                                                      config.train.get("jit_compile", False))
        return compiled[variant](batch)
    writer = (tf.summary.create_file_writer(os.path.join(workdir, "tensorboard", "train"))
              if chief else tf.summary.create_noop_writer())
    epochs, batch_size = config.train.epochs, config.train.batch_size
    run_images, run_seconds = 0, 0.0
    if int(state.epoch) < epochs:
        # one iterator for the rest of the run (TrainData.stream): no teardown between epochs
        # Several workers: each takes its replicas' share of every global batch.
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        batches = iter(strategy.experimental_distribute_dataset(
            train_data.stream(int(state.epoch), epochs).with_options(options)))
    for epoch in range(int(state.epoch), epochs):
        epoch_start = interval_start = time.time()
        context = models.EpochContext(epoch, epochs, steps, steps * epochs, train_data.ordered,
                                      strategy, workdir if chief else None)
        with strategy.scope():
            model.on_epoch_begin(epoch, context)
        interval_images = 0
        for step in range(1, steps + 1):
            batch = next(batches)
            logs = {k: float(v) for k, v in distributed_step(batch, epoch * steps + step - 1).items()}
            _check_finite(logs, epoch, step, manager)
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
        manager.save(epoch + 1)
        logging.info("epoch %d/%d done in %.1fs; checkpoint saved", epoch + 1, epochs, seconds)
        every = config.eval.get("validate_every", 0)
        if chief and len(split.validation) and (
                epoch + 1 == epochs or (every > 0 and (epoch + 1) % every == 0)):
            _validate_epoch(model, config, source, split, workdir, writer, epoch, steps)
    writer.close()
    stats = {
        "epochs": int(state.epoch),
        "step": int(state.epoch) * steps,
        "train_seconds": round(float(state.train_seconds.numpy()), 1),
        "images_per_second": round(run_images / run_seconds, 1) if run_seconds else None,
    }
    return model, source, split, stats


def train_and_evaluate(config, workdir, source=None):
    """`train`, then `evaluation.evaluate`; returns the report dict.

    With several workers only the chief evaluates and writes the report (the others
    get None); every worker waits for it before returning, so the job ends when the
    report is written."""
    model, source, split, stats = train(config, workdir, source)
    strategy = strategy_lib.make_strategy(config.num_cpu_replicas)
    report = None
    if strategy_lib.is_chief(strategy):
        report = evaluation.evaluate(model, config, source, split, workdir, stats)
    else:
        logging.info("%s: training done; waiting for the chief's evaluation",
                     strategy_lib.task_name(strategy))
    barrier(strategy)
    return report


def restore_for_eval(config, workdir, source=None):
    """Model restored from the workdir's latest checkpoint, with its source and split."""
    strategy = strategy_lib.make_strategy(config.num_cpu_replicas)
    _set_pixel_limit(config)
    source = source or data_lib.load_source(config.data.source, config.data.image_size)
    split = data_lib.resolve_split(source, config.data, workdir)
    steps = len(split.train) // config.train.batch_size
    model = build_model(config, strategy, data_spec(config, source, split), steps)
    state = _State()
    manager = _checkpoint(model, state, os.path.join(workdir, CHECKPOINT_DIR),
                          config.train.keep_checkpoints)
    if not manager.latest_checkpoint:
        raise ValueError(f"{workdir} has no checkpoint to evaluate; run tfhash-train first")
    manager.checkpoint.restore(manager.latest_checkpoint).expect_partial()
    stats = {"epochs": int(state.epoch), "step": int(state.epoch) * steps,
             "train_seconds": round(float(state.train_seconds.numpy()), 1),
             "images_per_second": None}
    logging.info("Restored %s (epoch %d)", manager.latest_checkpoint, int(state.epoch))
    return model, source, split, stats


__all__ = ["CheckpointWriteError", "TrainingDiverged", "build_model", "data_spec", "restore_for_eval", "train",
           "train_and_evaluate"]
