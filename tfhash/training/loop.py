"""The one training loop: steps, logs, checkpoints + resume, validation.

Methods plug in through the method contract (`tfhash.models.HashingModel`): the
loop builds a model from a `DataSpec`, gives each of its networks an optimizer,
calls its schedule hook before every epoch and its `train_step` on every batch.
Nothing here knows a loss or names a method; the run folder belongs to
`training.workdir`, scoring to `training.evaluation`, the report to
`training.reporting`.
"""

import math
import time

import tensorflow as tf
from absl import logging

from tfhash import data as data_lib
from tfhash import methods, models
from tfhash.training import build, config_files, evaluation, reporting, trunks
from tfhash.training import strategy as strategy_lib
from tfhash.training import workdir as workdir_lib
from tfhash.training.workdir import CheckpointWriteError

__all__ = ["CheckpointWriteError", "TrainingDiverged", "make_distributed_step", "train",
           "train_and_evaluate"]


class TrainingDiverged(RuntimeError):
    """A logged value became NaN or infinite; the last good checkpoint is kept."""


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


class _Steps:
    """The compiled steps of a run, one per step variant the model asks for."""

    def __init__(self, model, strategy, jit_compile):
        self.model, self.strategy, self.jit_compile = model, strategy, jit_compile
        self.compiled = {}

    def __call__(self, batch, done):
        variant = self.model.step_variant(done)
        if variant not in self.compiled:
            self.compiled[variant] = make_distributed_step(self.model, self.strategy, variant,
                                                           self.jit_compile)
        return {k: float(v) for k, v in self.compiled[variant](batch).items()}


def _batches(strategy, train_data, first_epoch, epochs):
    """One distributed iterator for the rest of the run (`TrainData.stream`: no teardown
    between epochs); with several workers each takes its replicas' share of every
    global batch."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    # the distributed dataset is autotuned again unless told: deleting its iterator at
    # the end of the run then waited for the tuning thread (tfhash.data.tuning)
    options.autotune.enabled = False
    return iter(strategy.experimental_distribute_dataset(
        train_data.stream(first_epoch, epochs).with_options(options)))


def _run_epoch(epoch, config, model, step, batches, steps, checkpoints, writer):
    """The steps of one epoch with their progress lines and TensorBoard scalars."""
    epochs, batch_size = config.train.epochs, config.train.batch_size
    interval_start, interval_images = time.time(), 0
    for number in range(1, steps + 1):
        logs = step(next(batches), epoch * steps + number - 1)
        _check_finite(logs, epoch, number, checkpoints)
        interval_images += batch_size
        if number % config.train.log_every == 0 or number == steps:
            rate = interval_images / max(time.time() - interval_start, 1e-9)
            logging.info(_log_line(epoch, epochs, number, steps, logs, rate))
            with writer.as_default():
                for key, value in logs.items():
                    tf.summary.scalar(key, value, step=epoch * steps + number)
                tf.summary.scalar("images_per_second", rate, step=epoch * steps + number)
            interval_start, interval_images = time.time(), 0


def _validate(model, config, source, split, folder, writer, epoch, steps):
    start = time.time()
    scores = evaluation.validation_scores(model, config, source, split)
    map_all = evaluation.mean_score(scores)
    folder.record_validation(epoch + 1, map_all, scores if len(scores) > 1 else None)
    with writer.as_default():
        tf.summary.scalar("validation_map_all", map_all, step=(epoch + 1) * steps)
        for name, value in scores.items() if len(scores) > 1 else ():
            tf.summary.scalar(f"validation_map_all/{name}", value, step=(epoch + 1) * steps)
    each = (" (" + ", ".join(f"{name} {value:.4f}" for name, value in scores.items()) + ")"
            if len(scores) > 1 else "")
    logging.info("epoch %d validation mAP@all %.4f%s (%d validation items against %d training "
                 "items, %.1fs)", epoch + 1, map_all, each, len(split.validation),
                 len(split.train), time.time() - start)


def _wants_validation(config, split, epoch):
    every = config.eval.get("validate_every", 0)
    return len(split.validation) and (epoch + 1 == config.train.epochs
                                      or (every > 0 and (epoch + 1) % every == 0))


def train(config, workdir, source=None, strategy=None):
    """Trains (resuming from the run folder's last checkpoint) and returns
    `(model, source, split, stats)`. `strategy` defaults to the process's
    (`strategy.make_strategy(config.num_cpu_replicas)`)."""
    strategy = strategy or strategy_lib.make_strategy(config.num_cpu_replicas)
    config = methods.validate(config, strategy.num_replicas_in_sync)  # resolved
    folder = workdir_lib.Workdir(workdir, strategy_lib.is_chief(strategy))
    folder.check_usable()
    config_files.check_config(config, folder.path)
    # Only the chief writes the folder; the other workers draw the same split (it
    # depends on the data and the config only) or read the chief's.
    source, split = workdir_lib.load_data(config, folder, source, write=folder.chief)
    if folder.chief:
        config_files.save_config(config, folder.path)
    data_lib.TrainData.check_size(split.train, config.train.batch_size)
    steps, epochs = len(split.train) // config.train.batch_size, config.train.epochs
    model = build.build_model(config, strategy, build.data_spec(config, source, split), steps)
    state = workdir_lib.State()
    checkpoints = folder.checkpoints(model, state, config.train.keep_checkpoints)
    if checkpoints.restore():
        logging.info("Resumed from %s (epoch %d done)", checkpoints.latest_checkpoint,
                     int(state.epoch))
    strategy_lib.check_same_epoch(strategy, int(state.epoch))
    inputs = trunks.map_source(model, config, source, split)  # source, or cached trunk maps
    train_data = data_lib.TrainData(
        inputs, split.train, config.data.image_size, config.train.batch_size, config.seed,
        augment_images=config.data.augment, cache=config.data.cache)
    step = _Steps(model, strategy, config.train.get("jit_compile", False))
    writer = (tf.summary.create_file_writer(folder.tensorboard("train")) if folder.chief
              else tf.summary.create_noop_writer())
    first, run_seconds = int(state.epoch), 0.0
    batches = _batches(strategy, train_data, first, epochs) if first < epochs else None
    for epoch in range(first, epochs):
        start = time.time()
        context = models.EpochContext(epoch, epochs, steps, steps * epochs, train_data.ordered,
                                      strategy, folder if folder.chief else None)
        with strategy.scope():
            model.on_epoch_begin(epoch, context)
        _run_epoch(epoch, config, model, step, batches, steps, checkpoints, writer)
        with strategy.scope():
            model.on_epoch_end(epoch, context)
        seconds = time.time() - start
        run_seconds += seconds
        state.epoch.assign(epoch + 1)
        state.train_seconds.assign_add(seconds)
        checkpoints.save(epoch + 1)
        logging.info("epoch %d/%d done in %.1fs; checkpoint saved", epoch + 1, epochs, seconds)
        if folder.chief and _wants_validation(config, split, epoch):
            _validate(model, config, inputs, split, folder, writer, epoch, steps)
    writer.close()
    images = (epochs - first) * steps * config.train.batch_size
    rate = round(images / run_seconds, 1) if run_seconds else None
    return model, source, split, state.stats(steps, rate)


def train_and_evaluate(config, workdir, source=None, strategy=None):
    """`train`, then `evaluation.evaluate` and `reporting.write`; returns the report
    as a dict (report.json's content).

    With several workers only the chief evaluates and writes the report (the others
    get None); every worker waits for it before returning, so the job ends when the
    report is written."""
    strategy = strategy or strategy_lib.make_strategy(config.num_cpu_replicas)
    model, source, split, stats = train(config, workdir, source, strategy)
    report = None
    if strategy_lib.is_chief(strategy):
        config = methods.resolve(config)
        scores = evaluation.evaluate(model, config, trunks.map_source(model, config, source, split),
                                     split, stats)
        report = reporting.write(workdir_lib.Workdir(workdir), scores, model, config, source,
                                 split)
    else:
        logging.info("%s: training done; waiting for the chief's evaluation",
                     strategy_lib.task_name(strategy))
    strategy_lib.barrier(strategy)
    return report
