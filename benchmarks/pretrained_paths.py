"""One model, whichever path feeds it: the codes a run's evaluation computed from its
cached trunk maps (codes.npz) against the codes of the whole network run from
pixels (what the exported SavedModel and tfhash-index do), on the run's queries and
database; and the exported `encode_jpeg` on the database's files.

  python benchmarks/pretrained_paths.py --workdir=runs/flowers17_pretrained/dpsh_32

Prints the share of equal bits, the codes that differ and the mAP@all of both paths.
"""

import argparse
import os
import sys
import tempfile
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)


def truncated(value, places=4):
    scale = 10 ** places
    return f"{np.floor(value * scale) / scale:.{places}f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--export_items", type=int, default=200,
                        help="database files encoded by the exported model's encode_jpeg")
    args = parser.parse_args()
    from tfhash import export
    from tfhash.training import config_files, evaluation
    from tfhash.training import strategy as strategy_lib
    from tfhash.training import workdir as workdir_lib

    config = config_files.load_workdir_config(args.workdir, configure_devices=True)
    strategy = strategy_lib.make_strategy(config.num_cpu_replicas)
    model, source, split, stats = workdir_lib.restore(args.workdir, strategy, config)
    cached = np.load(os.path.join(args.workdir, workdir_lib.CODES_FILE))
    start = time.time()
    pixels = evaluation.evaluate(model, config, source, split, stats)  # no cache: pixels
    seconds = time.time() - start
    print(f"{args.workdir}: {len(split.query)} queries, {len(split.database)} database items, "
          f"the pixel path in {seconds:.0f} s")
    for part, codes in (("query", pixels.query_codes), ("db", pixels.db_codes)):
        for name, values in codes.items():
            stored = cached[f"{part}_{name}_codes"]
            bits = np.unpackbits(values) == np.unpackbits(stored)
            differ = int(np.sum(np.any(values != stored, axis=1)))
            print(f"  {part} {name}: {int((~bits).sum())} of {bits.size} bits differ, {differ} of "
                  f"{len(values)} codes differ")
    report = workdir_lib.Workdir(args.workdir).file(workdir_lib.REPORT_FILE)
    from tfhash.training.scores import load_report

    cached_map, pixel_map = load_report(report).map_all, pixels.report.map_all
    print(f"  mAP@all: cached path {truncated(cached_map)}, pixel path {truncated(pixel_map)} "
          f"(difference {abs(cached_map - pixel_map):.2e}; truncated, never rounded up)")
    if hasattr(source, "paths") and args.export_items:
        import tensorflow as tf

        path = export.export(model, tempfile.mkdtemp())
        loaded = tf.saved_model.load(path)
        items = split.database[:args.export_items]
        blobs = [open(str(source.paths[i]), "rb").read() for i in items]
        encode = loaded.signatures["encode_jpeg"]
        served = np.concatenate([encode(images=tf.constant(blobs[i:i + 32]))["codes"].numpy()
                                 for i in range(0, len(blobs), 32)])
        stored = cached["db_codes"][:len(items)]
        bits = np.unpackbits(served) == np.unpackbits(stored)
        print(f"  exported encode_jpeg on {len(items)} database files: {int((~bits).sum())} of "
              f"{bits.size} bits differ from the cached path's, "
              f"{int(np.sum(np.any(served != stored, axis=1)))} codes differ")


if __name__ == "__main__":
    main()
