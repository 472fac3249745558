"""tfhash-train and tfhash-eval as a user runs them: one process per command (the
end-to-end demo, kill -9 and rerun, errors as one line). Apart from test_training.py
so that the suite's two workers can share the slow files."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import REPO


def run_cli(args, cwd, **kwargs):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600, **kwargs)


def test_demo_end_to_end_and_eval_cli(tmp_path):
    workdir = tmp_path / "demo"
    train = run_cli(["tfhash.training.train_main", f"--config={REPO}/configs/demo.py",
                     f"--workdir={workdir}", "--config.train.epochs=2", "--config.bits=16"],
                    cwd=tmp_path)
    assert train.returncode == 0, train.stderr[-3000:]
    assert "mAP@all" in train.stdout and f"report: {workdir}/report.json" in train.stdout
    report = json.loads((workdir / "report.json").read_text())
    assert report["bits"] == 16 and report["epochs"] == 2 and report["dataset"] == "digits"
    assert report["num_query"] == 300 and report["num_train"] == 1000
    assert len(report["config_hash"]) == 12 and report["train_seconds"] > 0
    evaluated = run_cli(["tfhash.training.eval_main", f"--workdir={workdir}"], cwd=tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    again = json.loads((workdir / "report.json").read_text())
    assert again["map_all"] == report["map_all"]  # same checkpoint, same codes


def test_cli_reports_bad_input_without_traceback(tmp_path):
    result = run_cli(["tfhash.training.train_main", f"--config={REPO}/configs/demo.py",
                      f"--workdir={tmp_path / 'w'}", "--config.data.source=folder:/no/such/dir"],
                     cwd=tmp_path)
    assert result.returncode == 1
    assert "error: folder source '/no/such/dir' is not a directory" in result.stderr
    assert "Traceback" not in result.stderr
    result = run_cli(["tfhash.training.eval_main", f"--workdir={tmp_path / 'none'}"], cwd=tmp_path)
    assert result.returncode == 1 and "not a tfhash-train workdir" in result.stderr


def test_kill_9_then_rerun_resumes(tmp_path):
    epochs = 16
    workdir = tmp_path / "killed"
    args = ["tfhash.training.train_main", f"--config={REPO}/configs/demo.py", f"--workdir={workdir}",
            f"--config.train.epochs={epochs}", "--config.model.widths=(4,8)",
            "--config.data.image_size=16"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    process = subprocess.Popen([sys.executable, "-m", *args], cwd=tmp_path, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    ckpt_dir = workdir / "checkpoints"
    while time.time() < deadline and process.poll() is None:
        if tf.train.latest_checkpoint(str(ckpt_dir)) and tf.train.latest_checkpoint(str(ckpt_dir)).endswith(("ckpt-2", "ckpt-3")):
            break
        time.sleep(0.02)
    assert process.poll() is None, "training ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    done = int(tf.train.latest_checkpoint(str(ckpt_dir)).rsplit("-", 1)[1])
    assert 2 <= done < epochs
    rerun = run_cli(args, cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert f"Resumed from {ckpt_dir}/ckpt-{done}" in rerun.stderr
    assert f"epoch {done + 1}/{epochs}" in rerun.stderr and f"epoch 1/{epochs} " not in rerun.stderr
    assert json.loads((workdir / "report.json").read_text())["epochs"] == epochs
    # the README's guarantee: the weights (and codes) of an uninterrupted run
    straight = run_cli([a.replace(str(workdir), str(tmp_path / "straight")) for a in args],
                       cwd=tmp_path)
    assert straight.returncode == 0, straight.stderr[-3000:]
    assert_same_checkpoint(str(workdir), str(tmp_path / "straight"), epochs)
    killed_codes, straight_codes = np.load(workdir / "codes.npz"), np.load(tmp_path / "straight" / "codes.npz")
    for name in ("query_codes", "db_codes"):
        np.testing.assert_array_equal(killed_codes[name], straight_codes[name])


def assert_same_checkpoint(workdir_a, workdir_b, number):
    """Checkpoint `number` of two workdirs holds the same model weights, bit for bit."""
    readers = [tf.train.load_checkpoint(os.path.join(w, "checkpoints", f"ckpt-{number}"))
               for w in (workdir_a, workdir_b)]
    names = sorted(n for n in readers[0].get_variable_to_shape_map() if n.startswith("model_weights/"))
    assert names and names == sorted(
        n for n in readers[1].get_variable_to_shape_map() if n.startswith("model_weights/"))
    for name in names:
        np.testing.assert_array_equal(readers[0].get_tensor(name), readers[1].get_tensor(name), name)


# What only the command line can get wrong: a flag that does not parse, names no
# field, or names a renamed one; and a bad value, printed as one line.
@pytest.mark.parametrize("flags, message", [
    (["--config.bits=1.5"], "flag --config.bits=1.5: invalid literal for int()"),
    (["--config.train.nosuch=2"], "--config.train.nosuch names no config field"),
    (["--config.dpsh.quant_weight=0.2"], "dpsh.quant_weight was renamed loss.quant_weight"),
    (["--config.bits=0"], "tfhash-train: error: bits must be a positive integer, got 0"),
])
def test_bad_flags_are_one_line_errors_and_write_nothing(tmp_path, flags, message):
    workdir = tmp_path / "w"
    result = run_cli(["tfhash.training.train_main", f"--config={REPO}/configs/demo.py",
                      f"--workdir={workdir}", *flags], cwd=tmp_path)
    assert result.returncode == 1
    assert message in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert not workdir.exists()


def test_workdir_that_is_a_file_via_the_cli(tmp_path):
    (tmp_path / "w").write_text("keep me")
    result = run_cli(["tfhash.training.train_main", f"--config={REPO}/configs/demo.py",
                      f"--workdir={tmp_path / 'w'}"], cwd=tmp_path)
    assert result.returncode == 1 and "is a file, not a folder" in result.stderr
    assert (tmp_path / "w").read_text() == "keep me"
