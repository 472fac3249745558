"""The run folder's one owner: its layout, who may write it, its checkpoints, restoring
a model from it, and the files a method asks to keep there.

    run/
      config.json  split.json  checkpoints/  tensorboard/{train,eval}/
      validation.json  report.json  codes.npz  *.png  <a method's files>  export/<n>/

Only the chief of a multi-worker job writes the folder; every worker reads it.
"""

import json
import os
import shutil
import tempfile

import numpy as np
import tensorflow as tf
from absl import logging

from tfhash import atomic
from tfhash import data as data_lib
from tfhash.data import preprocess
from tfhash.training import build, config_files

CONFIG_FILE = config_files.CONFIG_FILE
SPLIT_FILE = "split.json"
CHECKPOINT_DIR = "checkpoints"
TENSORBOARD_DIR = "tensorboard"
VALIDATION_FILE = "validation.json"
REPORT_FILE = "report.json"
CODES_FILE = "codes.npz"
EXPORT_DIR = "export"


class CheckpointWriteError(RuntimeError):
    """A checkpoint could not be written (disk full, permissions); the previous one is
    kept and a rerun resumes from it."""


class Workdir:
    """A run folder.

    Args:
      path: the folder (it may not exist yet).
      chief: whether this process writes it (False on a multi-worker job's other
        workers, whose writes go nowhere).
    """

    def __init__(self, path, chief=True):
        self.path, self.chief = str(path), bool(chief)

    def file(self, name):
        """The path of `name` inside the folder."""
        return os.path.join(self.path, name)

    def tensorboard(self, part):
        """The TensorBoard log folder of `part` ("train" or "eval")."""
        return os.path.join(self.path, TENSORBOARD_DIR, part)

    def check_usable(self):
        """A clear error before any work for a folder that is a file or cannot be
        written (the chief proves it with a probe file, removed again); creates
        nothing."""
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            raise ValueError(f"workdir {self.path} is a file, not a folder; give a new or "
                             "existing folder")
        if not self.chief:
            return
        folder = os.path.abspath(self.path)
        while not os.path.isdir(folder) and os.path.dirname(folder) != folder:
            folder = os.path.dirname(folder)
        probe = os.path.join(folder, f".tfhash-write-probe-{os.getpid()}")
        try:
            with open(probe, "w"):
                pass
            os.remove(probe)
        except OSError as error:
            raise ValueError(f"workdir {self.path} cannot be written ({error.strerror} in "
                             f"{folder}); give a folder this user can write to") from None

    # -- what a method keeps ----------------------------------------------------------
    def keep_arrays(self, name, arrays):
        """Writes `arrays` (name -> array) as the `.npz` file `name`, atomically, on the
        chief only (`contract.EpochContext.artifacts`)."""
        if not self.chief:
            return
        os.makedirs(self.path, exist_ok=True)
        with atomic.atomic_write(self.file(name), "wb") as f:
            np.savez(f, **arrays)

    # -- the validation history -------------------------------------------------------
    def validation_history(self):
        """[{"epoch", "map_all"}, ...] recorded in the folder (empty when none)."""
        try:
            with open(self.file(VALIDATION_FILE)) as f:
                return json.load(f)
        except (OSError, ValueError):
            return []

    def record_validation(self, epoch, map_all, tasks=None):
        """Adds (or replaces) the validation mAP of `epoch` in the history; `tasks`
        (`{task name: mAP@all}`, models with several tasks) is kept beside the mean."""
        history = [h for h in self.validation_history() if h["epoch"] != epoch]
        entry = {"epoch": int(epoch), "map_all": round(float(map_all), 6)}
        if tasks:
            entry["tasks"] = {name: round(float(v), 6) for name, v in tasks.items()}
        history.append(entry)
        history.sort(key=lambda h: h["epoch"])
        if self.chief:
            atomic.write_json(self.file(VALIDATION_FILE), history, indent=1)
        return history

    # -- checkpoints ------------------------------------------------------------------
    def checkpoints(self, model, state, keep):
        """The folder's `Checkpoints` of `model` and its counters."""
        return Checkpoints(model, state, self.file(CHECKPOINT_DIR), keep, self.chief)


class State:
    """Checkpointed counters beside the model and optimizers."""

    def __init__(self):
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.train_seconds = tf.Variable(0.0, dtype=tf.float64, trainable=False)

    def stats(self, steps_per_epoch, images_per_second=None):
        return {"epochs": int(self.epoch), "step": int(self.epoch) * steps_per_epoch,
                "train_seconds": round(float(self.train_seconds.numpy()), 1),
                "images_per_second": images_per_second}


class Checkpoints:
    """Saving and restoring on every worker, writing only on the chief.

    On one machine this is the folder's CheckpointManager. With several workers every
    worker takes part in a save (as TensorFlow's multi-worker guide prescribes), but
    only the chief's lands in the folder; the others write to a temporary folder and
    delete it. Every worker restores from the folder's checkpoints, so it must be on
    storage all workers can read (a shared file system or a bucket)."""

    def __init__(self, model, state, directory, keep, chief=True):
        # Explicit variable lists: tf.train.Checkpoint(model=...) does not follow a Keras
        # 3 model's sublayers and would drop non-trainable state such as batch-norm
        # statistics, memory banks and the variables schedule hooks change; every weight
        # (trainable or not) and every optimizer's slots are listed here, in order.
        self.checkpoint = tf.train.Checkpoint(
            model_weights=[w.value for w in model.weights],
            optimizer_variables=[v.value for v in model.optimizer_variables()],
            epoch=state.epoch, train_seconds=state.train_seconds)
        # The manager writes ckpt-N completely before pointing the `checkpoint` file at
        # it, so a kill mid-save leaves the previous checkpoint in charge.
        self.manager = tf.train.CheckpointManager(self.checkpoint, directory, max_to_keep=keep)
        self.directory, self.chief = directory, chief

    @property
    def latest_checkpoint(self):
        return tf.train.latest_checkpoint(self.directory)

    def restore(self, partial=False):
        """Restores the latest checkpoint (every entry must be used, unless `partial`);
        returns its path, or None when there is none."""
        latest = self.latest_checkpoint
        if latest:
            status = self.checkpoint.restore(latest)
            status.expect_partial() if partial else status.assert_consumed()
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


def load_data(config, workdir, source=None, write=False):
    """The run's source (loaded from `config.data.source` unless given) and split (the
    folder's split.json, drawn and saved there when `write` and there is none)."""
    preprocess.set_max_pixels(config.data.get("max_pixels", preprocess.DEFAULT_MAX_PIXELS))
    source = source or data_lib.load_source(config.data.source, config.data.image_size)
    split = data_lib.resolve_split(source, config.data, workdir.file(SPLIT_FILE), write=write)
    return source, split


def restore(workdir, strategy, config=None, source=None):
    """The model of a run folder at its latest checkpoint, with its source and split:
    `(model, source, split, stats)`. `config` defaults to the folder's config.json."""
    workdir = workdir if isinstance(workdir, Workdir) else Workdir(workdir)
    config = config or config_files.load_workdir_config(workdir.path)
    source, split = load_data(config, workdir, source)
    steps = len(split.train) // config.train.batch_size
    model = build.build_model(config, strategy, build.data_spec(config, source, split), steps)
    state = State()
    checkpoints = workdir.checkpoints(model, state, config.train.keep_checkpoints)
    if not checkpoints.restore(partial=True):
        raise ValueError(f"{workdir.path} has no checkpoint to evaluate; run tfhash-train first")
    logging.info("Restored %s (epoch %d)", checkpoints.latest_checkpoint, int(state.epoch))
    return model, source, split, state.stats(steps)
