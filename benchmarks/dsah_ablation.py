"""What does DSaH's attention contribute? For a finished DSaH workdir, mAP@all of the
codes sign(H(x * S(x))) (the model's own codes) against sign(H(x)) (the same hashing
network without the mask) and sign(H(x * M)) with M the mean of the query images'
maps (one fixed mask: a learned crop, not attention); and the masks' mean area, and
how far each image's map is from M.

  python benchmarks/dsah_ablation.py --workdir=runs/flowers17/dsah_32 [--workdir=...]

Not CI. Reads each run's own config, split and latest checkpoint.
"""

import argparse
import dataclasses
import math
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfhash import data as data_lib  # noqa: E402
from tfhash import retrieval  # noqa: E402
from tfhash.training import config_files, evaluation  # noqa: E402
from tfhash.training import strategy as strategy_lib  # noqa: E402
from tfhash.training import workdir as workdir_lib  # noqa: E402


def fixed_mask_encoder(model, mask):
    """The hashing network on `images * mask` (mask 1 = no mask), as an image encoder."""
    mask = tf.constant(mask, tf.float32)
    own = model.encoders()["image"]

    def embed(images):
        return model.hash(tf.cast(images, tf.float32) * mask, training=False)

    return dataclasses.replace(own, embed=embed, encode=lambda x: retrieval.binarize(embed(x)))


def query_maps(model, source, indices, config, limit=2000):
    """Saliency maps `(n, H, W)` of up to `limit` of the items."""
    indices = np.sort(np.asarray(indices))[:limit]
    maps = [model.saliency(tf.cast(batch["image"], tf.float32)).numpy()[..., 0] for batch in
            data_lib.eval_dataset(source, indices, config.data.image_size, config.eval.batch_size,
                                  ("image",))]
    return np.concatenate(maps)


def ablate(workdir):
    config = config_files.load_workdir_config(workdir, configure_devices=True)
    if config.method != "dsah":
        raise SystemExit(f"{workdir} is a {config.method} run, not dsah")
    model, source, split, _ = workdir_lib.restore(workdir, strategy_lib.make_strategy(config.num_cpu_replicas), config)
    maps = query_maps(model, source, split.query, config)
    mean_map = maps.mean(axis=0)
    results = {}
    encoders = {"with mask": model.encoders()["image"],
                "without mask": fixed_mask_encoder(model, 1.0),
                "mean mask": fixed_mask_encoder(model, mean_map[None, :, :, None])}
    query, query_labels = evaluation.encode_items(encoders, source, split.query, config, "query")
    database, database_labels = evaluation.encode_items(encoders, source, split.database, config,
                                                        "database")
    for name in encoders:
        results[name] = retrieval.mean_average_precision(query[name], database[name], query_labels,
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
