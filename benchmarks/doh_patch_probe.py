"""Does DOH's spatial attention attend? The coloured-patch images (24 px noise whose
class is the colour of a 6x6 square at a random place, tfhash.data.synthetic); trains
DOH briefly (configs/doh_patches.py) and prints mAP@all and the share of the local
stream's attention mass inside the square on the queries (0.0625 without preference).

  python benchmarks/doh_patch_probe.py [--epochs=60] [--seed=0] [--set=doh.ordinal_loss=triplet]

tests/test_doh.py::test_attention_attends trains the same config (asserting margins
measured here). Not CI.
"""

import argparse
import ast
import math
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tfhash.data import synthetic  # noqa: E402
from tfhash.training import config_files, loop  # noqa: E402
from tfhash.training import strategy as strategy_lib  # noqa: E402
from tfhash.training import workdir as workdir_lib  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZE, PATCH = 24, 6


def probe_config(epochs=60, seed=0, overrides=()):
    """configs/doh_patches.py with these epochs, seed and KEY=VALUE overrides."""
    config = config_files.load_config_file(os.path.join(REPO, "configs", "doh_patches.py"))
    config.train.epochs, config.seed = epochs, seed
    for item in overrides:
        key, value = item.split("=", 1)
        *path, name = key.split(".")
        section = config
        for part in path:
            section = section[part]
        section[name] = value if isinstance(section[name], str) else ast.literal_eval(value)
    return config


def run_probe(config, workdir):
    """Trains on the patch images; returns (mAP@all, mean attention mass inside)."""
    source, corners = synthetic.colour_patches(size=SIZE, patch=PATCH)  # the `patches` source
    report = loop.train_and_evaluate(config, workdir, source=source)
    model, _, split, _ = workdir_lib.restore(workdir, strategy_lib.make_strategy(config.num_cpu_replicas), config, source)
    maps = model.attention_maps(source.array[split.query]).numpy()
    inside = synthetic.patch_mass(maps, corners[split.query], PATCH, SIZE)
    return report["map_all"], float(inside.mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    config = probe_config(args.epochs, args.seed, args.set)
    start = time.time()
    map_all, inside = run_probe(config, tempfile.mkdtemp())

    def cut(value):  # truncated to 3 decimals, never rounded up
        return f"{math.floor(value * 1e3) / 1e3:.3f}"

    print(f"DOH ({config.doh.ordinal_loss}, K={config.doh.group_size}), {args.epochs} epochs, "
          f"seed {args.seed}: mAP@all {cut(map_all)} (chance about 0.25); attention mass inside "
          f"the square {cut(inside)} (no preference: 0.0625); {time.time() - start:.0f}s")


if __name__ == "__main__":
    main()
