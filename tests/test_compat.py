"""Run folders and exports made by an earlier tfhash still work.

tests/data/c6a0030/<method>/ are tiny runs (16 px, 12 bits, 2 epochs) made by the code
at commit c6a0030, before the method builders, the run-folder owner and the typed
report: their config.json has the old field names (`dpsh.quant_weight`,
`dpsh.max_logit`, head settings on methods without a head), their checkpoints the
old layout, their codes.npz the codes that code computed. Restored today, every
method encodes the same items to the same codes, bit for bit, and a run resumes.
"""

import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import REPO, checkpointed_epochs, resume
from tfhash import methods
from tfhash.training import config_files, evaluation
from tfhash.training import strategy as strategy_lib
from tfhash.training import workdir as workdir_lib

OLD = os.path.join(REPO, "tests", "data", "c6a0030")
METHODS = ("dpsh", "dsh", "dsah", "doh", "dagh", "dcmh", "hashgan")


def copy_of(method, tmp_path):
    target = tmp_path / method
    shutil.copytree(os.path.join(OLD, method), target)
    return target


@pytest.mark.parametrize("method", METHODS)
def test_an_old_run_folder_restores_to_the_same_codes(tmp_path, method):
    folder = copy_of(method, tmp_path)
    config = config_files.load_workdir_config(str(folder))
    assert "quant_weight" in config.loss and "quant_weight" not in config.dpsh  # migrated
    strategy = strategy_lib.make_strategy(config.num_cpu_replicas)
    model, source, split, stats = workdir_lib.restore(str(folder), strategy, config)
    assert stats["epochs"] == 2
    scored = evaluation.evaluate(model, config, source, split, stats)
    stored = np.load(folder / "codes.npz")
    for name, codes in scored.db_codes.items():
        np.testing.assert_array_equal(codes, stored[f"db_{name}_codes"], err_msg=name)
    for name, codes in scored.query_codes.items():
        np.testing.assert_array_equal(codes, stored[f"query_{name}_codes"], err_msg=name)
    old_report = __import__("json").load(open(folder / "report.json"))
    assert scored.report.map_all == pytest.approx(old_report["map_all"], abs=1e-6)


@pytest.mark.parametrize("method", ["dsh", "dagh", "hashgan"])
def test_an_old_run_resumes_with_its_config(tmp_path, monkeypatch, method):
    folder = copy_of(method, tmp_path)
    config = config_files.load_workdir_config(str(folder))
    config.train.epochs = 3  # a resumable change
    assert checkpointed_epochs(folder) == 2
    model = resume(config, folder, monkeypatch)
    assert checkpointed_epochs(folder) == 3 and model.built


def test_a_renamed_field_is_refused_with_its_new_name(tmp_path):
    config = config_files.load_workdir_config(os.path.join(OLD, "dpsh"))
    with config.unlocked():
        config.dpsh.quant_weight = 0.2  # an old config file's assignment
    with pytest.raises(ValueError, match="dpsh.quant_weight was renamed loss.quant_weight"):
        methods.validate(config)


def test_an_old_export_still_encodes(tmp_path):
    """The SavedModel tfhash-export wrote at c6a0030: its signatures give the codes of
    codes.npz for the same (resized) query images, and tfhash-index reads it."""
    from tfhash.search import FileEncoder

    folder = os.path.join(OLD, "dsh")
    config = config_files.load_workdir_config(folder)
    model, source, split, _ = workdir_lib.restore(folder, strategy_lib.make_strategy(0), config)
    images = source.array[split.query]  # digits: already 16 px here
    loaded = tf.saved_model.load(os.path.join(folder, "export", "1"))
    codes = loaded.signatures["encode_images"](images=tf.constant(images))["codes"].numpy()
    np.testing.assert_array_equal(codes, np.load(os.path.join(folder, "codes.npz"))["query_codes"])
    encoder = FileEncoder(export=os.path.join(folder, "export", "1"))
    assert encoder.bits == 12
    np.testing.assert_array_equal(encoder.encode_images(list(images[:3])), codes[:3])
