"""A full disk or a failed write in the middle of saving: split.json, the report, a
checkpoint, a HammingIndex and an export each leave their previous good version in
place and fail with a message that names the file, and the run can go on afterwards."""

import errno
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import restored, tiny_config
from tfhash import atomic, data, export, retrieval
from tfhash.training import evaluation, loop, reporting
from tfhash.training.workdir import Workdir


def disk_full(monkeypatch):
    """Every later atomic write fails like a full disk when it syncs its data."""
    def fsync(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic.os, "fsync", fsync)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("run")
    config = tiny_config()
    report = loop.train_and_evaluate(config, str(workdir))
    return config, workdir, report


def fail_writes_to(monkeypatch, name):
    """Atomic writes of files called `name` (only those) fail like a full disk when
    they sync their data; every other write goes through."""
    real_fsync = atomic.os.fsync

    def fsync(fd):
        target = os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))
        if target.startswith(f"{name}.tmp-"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_fsync(fd)

    monkeypatch.setattr(atomic.os, "fsync", fsync)


def evaluate_into(workdir, model, config, source, split, stats):
    """Scores the model and writes the report files into the run folder."""
    scored = evaluation.evaluate(model, config, source, split, stats)
    return reporting.write(Workdir(workdir), scored, model, config, source, split)


def _writers(config, workdir):
    """File name -> a call that writes that file of the workdir (anew)."""
    model, source, split, stats = restored(config, str(workdir))
    from tfhash.models import dagh
    from tfhash.training import config_files

    guided = np.sign(np.random.default_rng(0).normal(size=(len(split.train), 12))).astype(np.float32)
    return {
        "split.json": lambda: data.save_split(split, str(workdir / "split.json")),
        "config.json": lambda: config_files.save_config(config, str(workdir)),
        "validation.json": lambda: Workdir(workdir).record_validation(7, 0.25),
        "codes.npz": lambda: evaluate_into(workdir, model, config, source, split, stats),
        "report.json": lambda: evaluate_into(workdir, model, config, source, split, stats),
        "guided_codes.npz": lambda: Workdir(workdir).keep_arrays(
            "guided_codes.npz", dagh.guided_codes_record(guided)),
    }


@pytest.mark.parametrize("name", ["split.json", "config.json", "validation.json", "codes.npz",
                                  "report.json", "guided_codes.npz"])
def test_each_workdir_file_is_all_or_nothing(trained, monkeypatch, name):
    """A failed write of one file, and of that file alone, fails with its name and
    leaves its previous version byte for byte, with no half-written file beside it."""
    config, workdir, _ = trained
    writers = _writers(config, workdir)
    if not (workdir / name).exists():  # a first version to keep
        writers[name]()
    before = (workdir / name).read_bytes()
    fail_writes_to(monkeypatch, name)
    with pytest.raises(OSError, match=rf"No space left on device: could not write .*{name}; "
                                      r"the previous version is kept"):
        writers[name]()
    monkeypatch.undo()
    assert (workdir / name).read_bytes() == before
    assert not [n for n in os.listdir(workdir) if ".tmp-" in n]  # no half-written file left


def test_split_and_report_keep_their_previous_version(trained, monkeypatch):
    config, workdir, report = trained
    split_before = (workdir / "split.json").read_bytes()
    report_before = (workdir / "report.json").read_bytes()
    model, source, split, stats = restored(config, str(workdir))
    disk_full(monkeypatch)
    with pytest.raises(OSError, match=r"No space left on device: could not write .*split.json; "
                                      r"the previous version is kept"):
        data.save_split(split, str(workdir / "split.json"))
    with pytest.raises(OSError, match=r"could not write .*(report.json|codes.npz); the previous"):
        evaluate_into(workdir, model, config, source, split, stats)
    monkeypatch.undo()
    assert (workdir / "split.json").read_bytes() == split_before
    assert (workdir / "report.json").read_bytes() == report_before
    assert not [n for n in os.listdir(workdir) if ".tmp-" in n]  # no half-written file left
    assert json.loads(report_before)["map_all"] == report["map_all"]


def test_checkpoint_failure_keeps_the_last_good_one_and_the_rerun_resumes(trained, tmp_path):
    config, workdir, _ = trained
    run = tmp_path / "run"
    loop.train(config, str(run))  # 2 epochs: ckpt-2
    # the place of checkpoint 3's index is taken: TensorFlow's write of it fails
    (run / "checkpoints" / "ckpt-3.index").mkdir()
    longer = tiny_config(**{"train.epochs": 3})
    with pytest.raises(loop.CheckpointWriteError,
                       match=r"could not write checkpoint 3 in .*checkpoints .*the last good "
                             r"checkpoint \(.*ckpt-2\) is kept"):
        loop.train(longer, str(run))
    assert tf.train.latest_checkpoint(str(run / "checkpoints")).endswith("ckpt-2")
    (run / "checkpoints" / "ckpt-3.index").rmdir()
    _, _, _, stats = loop.train(longer, str(run))
    assert stats["epochs"] == 3
    assert tf.train.latest_checkpoint(str(run / "checkpoints")).endswith("ckpt-3")


def test_index_save_keeps_the_previous_file(tmp_path, monkeypatch, rng):
    index = retrieval.HammingIndex(16)
    index.add(rng.integers(0, 256, size=(50, 2), dtype=np.uint8))
    path = str(tmp_path / "index.npz")
    index.save(path)
    before = open(path, "rb").read()
    index.add(rng.integers(0, 256, size=(10, 2), dtype=np.uint8))
    disk_full(monkeypatch)
    with pytest.raises(OSError, match=r"could not write .*index.npz; the previous version is kept"):
        index.save(path)
    monkeypatch.undo()
    assert open(path, "rb").read() == before
    assert len(retrieval.HammingIndex.load(path)) == 50
    assert os.listdir(tmp_path) == ["index.npz"]


def test_export_failure_leaves_no_partial_version(trained, tmp_path, monkeypatch):
    config, workdir, _ = trained
    model = restored(config, str(workdir))[0]
    first = export.export(model, str(tmp_path))
    disk_full(monkeypatch)
    with pytest.raises(OSError, match="No space left on device: could not write .*tfhash.json"):
        export.export(model, str(tmp_path))
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == ["1"]  # version 1 intact, no half version 2
    assert first.endswith("/1") and os.path.exists(os.path.join(first, "saved_model.pb"))
    assert export.export(model, str(tmp_path)).endswith("/2")


def test_workdir_that_is_a_file_is_a_clear_error(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("mine")
    with pytest.raises(ValueError, match=r"workdir .*notes.txt is a file, not a folder"):
        loop.train(tiny_config(), str(path))
    assert path.read_text() == "mine"


@pytest.mark.parametrize("exists", [True, False])
def test_read_only_workdir_is_a_clear_error(tmp_path, monkeypatch, exists):
    folder = tmp_path / "shared"
    folder.mkdir()
    workdir = folder / "run" if not exists else folder
    os.chmod(folder, 0o555)
    try:
        if os.geteuid() == 0:
            # root writes through permission bits: a read-only file system's answer instead
            real_open = open

            def read_only_open(path, *args, **kwargs):
                if str(path).startswith(str(folder)) and args and "w" in args[0]:
                    raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
                return real_open(path, *args, **kwargs)

            monkeypatch.setattr("builtins.open", read_only_open)
        with pytest.raises(ValueError, match=r"workdir .*cannot be written \(.*\); give a folder"):
            loop.train(tiny_config(), str(workdir))
        monkeypatch.undo()
        assert os.listdir(folder) == []  # nothing written, no probe left
    finally:
        os.chmod(folder, 0o755)
