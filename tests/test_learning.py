"""Every method learns, with its own defaults, in seconds: on classes that any hashing
network separates in a few steps (`conftest.separable_source`, and
`separable_pairs` for the cross-modal methods), the codes of one class end up
together and those of different classes apart. A method that stopped learning (a
sign flipped, a network left out of its optimizers, codes that collapse) fails here.
"""

import numpy as np
import pytest

from tests.conftest import separable_pairs, separable_source, tiny_config
from tfhash import retrieval
from tfhash.training import loop

SETTINGS = {"data.query_per_class": 5, "data.train_per_class": 20, "model.widths": (8, 16)}
CROSS_MODAL = {"train.epochs": 24, "train.learning_rate": 3e-3}
RUNS = {
    "dpsh": {"train.epochs": 4}, "dsh": {"train.epochs": 4}, "dsah": {"train.epochs": 4},
    "doh": {"train.epochs": 4},
    # network 2 starts from scratch at the stage boundary: 28 steps at 3e-3
    "dagh": {"train.epochs": 10, "dagh.stage1_epochs": 3, "train.learning_rate": 3e-3},
    "dcmh": {**CROSS_MODAL, "dcmh.text_widths": (32,)},
    "hashgan": {**CROSS_MODAL, "hashgan.text_widths": (16, 16), "hashgan.image_widths": (16,)},
}


def separation(codes, labels):
    """Mean Hamming distance between codes of different classes minus that between
    codes of the same class."""
    distances = retrieval.hamming_distance(codes, codes).numpy()
    same = labels[:, None] == labels[None, :]
    return distances[~same].mean() - distances[same].mean()


@pytest.mark.parametrize("method", sorted(RUNS))
def test_the_method_separates_the_classes(tmp_path, method):
    source = separable_pairs() if method in ("dcmh", "hashgan") else separable_source()
    config = tiny_config(method=method, **SETTINGS, **RUNS[method])
    report = loop.train_and_evaluate(config, str(tmp_path), source=source)
    codes = np.load(tmp_path / "codes.npz")
    labels = codes["db_labels"].argmax(axis=1)
    for task, block in report["tasks"].items():
        # chance is about 0.29 here; every method reaches 0.85 or more (mAP@all)
        assert block["map_all"] > 0.8, (task, block["map_all"])
    for name in (k for k in codes.files if k.startswith("db_") and k.endswith("_codes")):
        # 12 bits: codes of different classes at least 3 bits further apart than
        # codes of one class (every method: 4.3 to 7.5 bits)
        assert separation(codes[name], labels) > 3.0, name
