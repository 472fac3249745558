"""What does DSaH's attention contribute? For a finished DSaH workdir, mAP@all of the
codes sign(H(x * S(x))) (the model's own codes) against sign(H(x)) (the same hashing
network without the mask), and the masks' mean area and spread.

  python benchmarks/dsah_ablation.py --workdir=runs/flowers17/dsah_32 [--workdir=...]

Not CI. Reads each run's own config, split and latest checkpoint.
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfhash import data as data_lib  # noqa: E402
from tfhash import retrieval  # noqa: E402
from tfhash.training import config_files, evaluation, loop  # noqa: E402


class _WithoutMask:
    """The hashing network alone, in the shape encode_items expects."""

    def __init__(self, model):
        self._model = model

    def encode(self, images):
        return retrieval.binarize(self._model.hash(images, training=False))


def mask_statistics(model, source, indices, config, limit=2000):
    """Mean area of the masks and the mean per-image standard deviation."""
    indices = np.sort(np.asarray(indices))[:limit]
    areas, spreads = [], []
    for batch in data_lib.eval_dataset(source, indices, config.data.image_size, config.eval.batch_size):
        maps = model.saliency(batch["image"]).numpy()[..., 0]
        areas.append(maps.mean(axis=(1, 2)))
        spreads.append(maps.std(axis=(1, 2)))
    return float(np.concatenate(areas).mean()), float(np.concatenate(spreads).mean())


def ablate(workdir):
    config = config_files.load_workdir_config(workdir, configure_devices=True)
    if config.method != "dsah":
        raise SystemExit(f"{workdir} is a {config.method} run, not dsah")
    model, source, split, _ = loop.restore_for_eval(config, workdir)
    results = {}
    for name, encoder in (("with mask", model), ("without mask", _WithoutMask(model))):
        query, query_labels = evaluation.encode_items(encoder, source, split.query, config, "query")
        database, database_labels = evaluation.encode_items(encoder, source, split.database, config,
                                                            "database")
        results[name] = retrieval.mean_average_precision(query, database, query_labels,
                                                         database_labels)
    area, spread = mask_statistics(model, source, split.query, config)
    print(f"{workdir}: mAP@all with mask {results['with mask']:.4f}, without mask "
          f"{results['without mask']:.4f}; query masks: mean area {area:.3f}, mean "
          f"per-image std {spread:.3f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", action="append", required=True)
    args = parser.parse_args()
    tf.get_logger().setLevel("ERROR")
    for workdir in args.workdir:
        ablate(workdir)


if __name__ == "__main__":
    main()
