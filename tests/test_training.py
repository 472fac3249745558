import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import REPO, restored, resume, separable_source, tiny_config, train_until_killed
from tfhash import models
from tfhash.training import evaluation, loop, reporting


def weights_after(config, workdir):
    model, _, _, stats = loop.train(config, str(workdir))
    return [w.numpy() for w in model.weights], stats


def test_resume_continues_exactly(tmp_path, monkeypatch):
    straight, stats = weights_after(tiny_config(), tmp_path / "straight")
    assert stats["epochs"] == 2
    assert train_until_killed(tiny_config(), tmp_path / "resumed", monkeypatch, epoch=1, step=2) == 1
    resumed = [w.numpy() for w in resume(tiny_config(), tmp_path / "resumed", monkeypatch).weights]
    assert len(resumed) == len(straight)
    for a, b in zip(straight, resumed):
        np.testing.assert_array_equal(b, a)  # the weights of the uninterrupted run
    assert sorted(os.listdir(tmp_path / "resumed" / "checkpoints"))[-1].startswith("ckpt-2")


def test_workdir_refuses_another_config(tmp_path):
    loop.train(tiny_config(**{"train.epochs": 1}), str(tmp_path))
    before = sorted(os.listdir(tmp_path / "checkpoints"))
    with pytest.raises(ValueError, match=r"different config \(bits: 12 -> 16\)"):
        loop.train(tiny_config(bits=16), str(tmp_path))
    assert sorted(os.listdir(tmp_path / "checkpoints")) == before


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    loop.train(tiny_config(**{"train.epochs": 1}), str(tmp_path))
    original = models.DPSH.compute_hash_loss

    def poisoned(self, codes, batch):
        loss, logs = original(self, codes, batch)
        return loss * float("nan"), logs

    monkeypatch.setattr(models.DPSH, "compute_hash_loss", poisoned)
    with pytest.raises(loop.TrainingDiverged, match="loss became nan at epoch 2 step 1.*ckpt-1"):
        loop.train(tiny_config(), str(tmp_path))
    assert tf.train.latest_checkpoint(str(tmp_path / "checkpoints")).endswith("ckpt-1")


def test_bad_config_values_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="bits must be a positive integer, got 0"):
        loop.train(tiny_config(bits=0), str(tmp_path / "a"))
    with pytest.raises(ValueError, match="unknown method 'lsh'"):
        loop.train(tiny_config(method="lsh"), str(tmp_path / "b"))
    with pytest.raises(ValueError, match="fewer than one batch"):
        loop.train(tiny_config(**{"train.batch_size": 500}), str(tmp_path / "c"))
    assert not os.path.exists(tmp_path / "c" / "checkpoints")


def test_two_replica_training_and_evaluation(tmp_path):
    config = tiny_config(num_cpu_replicas=2, method="dsh", **{
        "train.epochs": 2, "data.query_per_class": 5, "data.train_per_class": 20})
    report = loop.train_and_evaluate(config, str(tmp_path), source=separable_source())
    assert report["method"] == "dsh"
    # it learned: about 0.69 (chance 0.29) on these easily separated classes
    assert report["map_all"] > report["chance_map_all"] + 0.2, report
    for name in ("report.json", "pr_curve.png", "precision_at_n.png", "codes.npz", "split.json", "config.json"):
        assert (tmp_path / name).exists(), name
    codes = np.load(tmp_path / "codes.npz")
    assert codes["db_codes"].dtype == np.uint8 and codes["db_codes"].shape[1] == 2  # 12 bits
    from tfhash import retrieval

    recomputed = retrieval.mean_average_precision(
        codes["query_codes"], codes["db_codes"], codes["query_labels"], codes["db_labels"])
    assert recomputed == pytest.approx(report["map_all"], abs=1e-6)


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


def test_validation_draw_is_scored_during_training(tmp_path):
    config = tiny_config(**{"data.validation_per_class": 2, "train.epochs": 3,
                            "eval.validate_every": 2, "train.batch_size": 10})
    report = loop.train_and_evaluate(config, str(tmp_path))
    history = json.loads((tmp_path / "validation.json").read_text())
    assert [h["epoch"] for h in history] == [2, 3] and report["validation"] == history
    assert report["num_validation"] == 20 and report["num_train"] == 60
    # the score is the validation items against the training items, by the model's encoder
    model, source, split, _ = restored(config, str(tmp_path))
    assert evaluation.validate(model, config, source, split) == pytest.approx(history[-1]["map_all"],
                                                                            abs=1e-6)
    encoder = model.encoders()["image"]
    from tfhash import retrieval
    from tfhash.data import preprocess

    def codes(items):
        images = np.stack([preprocess.resize(source.array[i], 16).numpy() for i in items])
        return retrieval.pack_codes(encoder.encode(images)).numpy()

    expected = retrieval.mean_average_precision(codes(split.validation), codes(split.train),
                                                source.labels[split.validation],
                                                source.labels[split.train])
    assert expected == pytest.approx(history[-1]["map_all"], abs=1e-6)
    health = report["code_health"]
    assert set(health) == {"bit_balance", "mean_abs_bit_correlation", "constant_bits",
                           "distinct_codes", "largest_bucket_share"}
    assert 0 <= report["chance_map_all"] <= 1
    table = reporting.format_table(report)
    assert "validation" in table and "largest bucket" in table and "chance" in table


@pytest.mark.parametrize("flags, message", [
    (["--config.method=lsh"], "unknown method 'lsh'; expected one of"),
    (["--config.bits=0"], "bits must be a positive integer, got 0"),
    (["--config.bits=-3"], "bits must be a positive integer, got -3"),
    (["--config.bits=1.5"], "flag --config.bits=1.5: invalid literal for int()"),
    (["--config.train.batch_size=7", "--config.num_cpu_replicas=2"],
     "train.batch_size=7 must be a positive multiple of the 2 replicas"),
    (["--config.data.image_size=0"], "data.image_size must be at least 8 pixels, got 0"),
    (["--config.train.learning_rate=0"], "train.learning_rate must be positive"),
    (["--config.train.nosuch=2"], "--config.train.nosuch names no config field"),
    (["--config.data.source=list:/no/such.csv"], "list file '/no/such.csv' does not exist"),
    (["--config.dpsh.quant_weight=0.2"], "dpsh.quant_weight was renamed loss.quant_weight"),
    (["--config.method=hashgan", "--config.model.head_batch_norm=True"],
     "model.head_batch_norm=True does nothing for hashgan"),
    (["--config.dsah.area_target=1.5", "--config.method=dsah"],
     "dsah.area_target must be in [0, 1], got 1.5"),
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
