import json
import os

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import demo_config, restored, resume, separable_source, tiny_config, train_until_killed
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


# A bad value reaches `loop.train_and_evaluate`, the function tfhash-train calls, which
# refuses it before writing anything; the CLI turns that ValueError into one line
# (checked through the CLI in test_training_cli.py).
@pytest.mark.parametrize("overrides, message", [
    ({"bits": -3}, "bits must be a positive integer, got -3"),
    ({"train.batch_size": 7, "num_cpu_replicas": 2},
     "train.batch_size=7 must be a positive multiple of the 2 replicas"),
    ({"data.image_size": 0}, "data.image_size must be at least 8 pixels, got 0"),
    ({"train.learning_rate": 0.0}, "train.learning_rate must be positive"),
    ({"data.source": "list:/no/such.csv"}, "list file '/no/such.csv' does not exist"),
    ({"method": "hashgan", "model.head_batch_norm": True},
     "model.head_batch_norm=True does nothing for hashgan"),
    ({"dsah.area_target": 1.5, "method": "dsah"}, "dsah.area_target must be in [0, 1], got 1.5"),
])
def test_bad_values_are_refused_before_anything_is_written(tmp_path, overrides, message):
    workdir = tmp_path / "w"
    with pytest.raises(ValueError) as raised:
        loop.train_and_evaluate(demo_config(**overrides), str(workdir))
    assert message in str(raised.value)
    assert "\n" not in str(raised.value).strip()  # one line for the CLI to print
    assert not workdir.exists()
