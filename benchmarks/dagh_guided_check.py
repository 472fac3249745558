"""How well DAgH's network 2 reproduces the guided codes B it was trained on: the
share of bits of the training items on which network 2 agrees with B, with its
batch-norm moving averages (what evaluation uses) and with batch statistics, and
the number of distinct codes each way (docs/results.md, "DAgH").

  python benchmarks/dagh_guided_check.py --workdir=runs/mirflickr/dagh_32
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfhash import data as data_lib  # noqa: E402
from tfhash.training import config_files  # noqa: E402
from tfhash.training import strategy as strategy_lib  # noqa: E402
from tfhash.training import workdir as workdir_lib  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", required=True, help="a finished DAgH run")
    parser.add_argument("--batch_size", type=int, default=100)
    args = parser.parse_args()
    config = config_files.load_workdir_config(args.workdir)
    if config.method != "dagh":
        raise SystemExit(f"{args.workdir} is a {config.method} run, not dagh")
    model, source, split, _ = workdir_lib.restore(args.workdir, strategy_lib.make_strategy(config.num_cpu_replicas), config)
    packed = np.load(os.path.join(args.workdir, "guided_codes.npz"))["codes"]
    guided = np.unpackbits(packed, axis=1, bitorder="little")[:, :model.bits].astype(bool)
    indices = np.asarray(split.train, np.int64)
    order = np.argsort(indices, kind="stable")  # the guided rows follow split.train
    dataset = data_lib.eval_dataset(source, indices[order], config.data.image_size,
                                    args.batch_size, ["image"])
    parts = {"moving averages": [], "batch statistics": []}
    for batch in dataset:
        images = tf.cast(batch["image"], tf.float32)
        parts["moving averages"].append(model.stream2(images, training=False).numpy() > 0)
        parts["batch statistics"].append(model.stream2(images, training=True).numpy() > 0)
    print(f"guided codes: {len({row.tobytes() for row in guided})} distinct of {len(guided)}; "
          f"share of items with each bit set: {np.round(guided.mean(axis=0), 2).tolist()}")
    for name, chunks in parts.items():
        codes = np.empty_like(guided)
        codes[order] = np.concatenate(chunks)
        print(f"network 2, batch norm with {name}: agrees with B on "
              f"{np.mean(codes == guided):.2%} of the bits, "
              f"{len({row.tobytes() for row in codes})} distinct codes")


if __name__ == "__main__":
    main()
