"""What does DSaH's attention contribute? For a finished DSaH workdir, mAP@all of the
codes sign(H(x * S(x))) (the model's own codes) against sign(H(x)) (the same hashing
network without the mask) and sign(H(x * M)) with M the mean of the query images'
maps (one fixed mask: a learned crop, not attention); and the masks' mean area, and
how far each image's map is from M.

  python benchmarks/dsah_ablation.py --workdir=runs/flowers17/dsah_32 [--workdir=...]

Not CI. Reads each run's own config, split and latest checkpoint.
"""

import argparse
import math
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfhash import data as data_lib  # noqa: E402
from tfhash import retrieval  # noqa: E402
from tfhash.training import config_files, evaluation, loop  # noqa: E402


class _FixedMask:
    """The hashing network on `images * mask` (mask 1 = no mask), for encode_items."""

    def __init__(self, model, mask):
        self._model = model
        self._mask = tf.constant(mask, tf.float32)

    def encode(self, images):
        return retrieval.binarize(self._model.hash(images * self._mask, training=False))


def query_maps(model, source, indices, config, limit=2000):
    """Saliency maps `(n, H, W)` of up to `limit` of the items."""
    indices = np.sort(np.asarray(indices))[:limit]
    maps = [model.saliency(batch["image"]).numpy()[..., 0] for batch in
            data_lib.eval_dataset(source, indices, config.data.image_size, config.eval.batch_size)]
    return np.concatenate(maps)


def ablate(workdir):
    config = config_files.load_workdir_config(workdir, configure_devices=True)
    if config.method != "dsah":
        raise SystemExit(f"{workdir} is a {config.method} run, not dsah")
    model, source, split, _ = loop.restore_for_eval(config, workdir)
    maps = query_maps(model, source, split.query, config)
    mean_map = maps.mean(axis=0)
    results = {}
    encoders = (("with mask", model), ("without mask", _FixedMask(model, 1.0)),
                ("mean mask", _FixedMask(model, mean_map[None, :, :, None])))
    for name, encoder in encoders:
        query, query_labels = evaluation.encode_items(encoder, source, split.query, config, "query")
        database, database_labels = evaluation.encode_items(encoder, source, split.database, config,
                                                            "database")
        results[name] = retrieval.mean_average_precision(query, database, query_labels,
                                                         database_labels)
    cut = {k: math.floor(v * 1e4) / 1e4 for k, v in results.items()}  # truncated, not rounded
    print(f"{workdir}: mAP@all with its masks {cut['with mask']:.4f}, without mask "
          f"{cut['without mask']:.4f}, with the mean mask {cut['mean mask']:.4f}; "
          f"query masks: mean area {maps.mean():.3f}, mean |S - mean mask| "
          f"{np.abs(maps - mean_map).mean():.3f}, mean per-image std {maps.std(axis=(1, 2)).mean():.3f}",
          flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", action="append", required=True)
    args = parser.parse_args()
    tf.get_logger().setLevel("ERROR")
    for workdir in args.workdir:
        ablate(workdir)


if __name__ == "__main__":
    main()
