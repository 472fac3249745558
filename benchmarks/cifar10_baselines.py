"""DPSH and DSH with the small CNN on CIFAR-10 (cifar10-1) at 12, 24, 32 and 48 bits.

Not part of CI. Reads the JPEG copy of CIFAR-10 from ../shared/data (or --archive),
extracts it once, trains one run per (method, bits) with `tfhash-train`, and writes
the mAP@all table to benchmarks/results/cifar10_baselines.md and into README.md
between its cifar10-baselines markers. Runs already finished (report.json present)
are reused, so the script can be stopped and started again.

  python benchmarks/cifar10_baselines.py [--epochs=30] [--methods=dpsh,dsh] [--bits=12,24,32,48]
"""

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tarfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_ARCHIVE = os.path.join(REPO, "..", "shared", "data", "cifar10-jpeg.tar.gz")
START, END = "<!-- cifar10-baselines:start -->", "<!-- cifar10-baselines:end -->"


def extract(archive, target):
    """Unpacks the archive into `target` once (a marker file records completion)."""
    marker = os.path.join(target, ".extracted")
    if os.path.exists(marker):
        return target
    print(f"extracting {archive} to {target} ...", flush=True)
    tmp = f"{target}.partial"
    os.makedirs(tmp, exist_ok=True)
    with tarfile.open(archive) as tar:
        tar.extractall(tmp, filter="data")
    os.replace(tmp, target)
    open(marker, "w").close()
    return target


def run_one(method, bits, epochs, data_dir, workdir):
    report_path = os.path.join(workdir, "report.json")
    wall_path = os.path.join(workdir, "wall_seconds.txt")
    if os.path.exists(report_path) and os.path.exists(wall_path):
        with open(report_path) as f:
            report = json.load(f)
        if report.get("epochs") == epochs:
            print(f"{method} {bits} bits: reusing {report_path}", flush=True)
            with open(wall_path) as f:
                return report, float(f.read())
    command = [
        os.path.join(os.path.dirname(sys.executable), "tfhash-train"),
        f"--config={REPO}/configs/{method}_cifar10.py", f"--workdir={workdir}",
        f"--config.bits={bits}", f"--config.train.epochs={epochs}",
        f"--config.data.source=folder:{data_dir}",
    ]
    print("$ " + " ".join(command), flush=True)
    os.makedirs(os.path.dirname(workdir), exist_ok=True)
    start = time.time()
    with open(os.path.join(os.path.dirname(workdir), f"{method}_{bits}.log"), "w") as log:
        result = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT)
    wall = time.time() - start
    if result.returncode != 0:
        raise SystemExit(f"{method} {bits} bits failed (exit {result.returncode}); see its log")
    with open(report_path) as f:
        report = json.load(f)
    with open(wall_path, "w") as f:
        f.write(f"{wall:.1f}")
    print(f"{method} {bits} bits: mAP@all {report['map_all']:.4f} in {wall / 60:.1f} min", flush=True)
    return report, wall


def table(results, walls, methods, bits_list, epochs):
    lines = [
        "| method | " + " | ".join(f"{b} bits" for b in bits_list) + " |",
        "|---|" + "---|" * len(bits_list),
    ]
    for method in methods:
        # truncated, never rounded up
        cells = [f"{math.floor(results[(method, b)]['map_all'] * 1e4) / 1e4:.4f}" for b in bits_list]
        lines.append(f"| {method.upper()} | " + " | ".join(cells) + " |")
    train = [r["train_seconds"] for r in results.values()]
    total_minutes = sum(walls.values()) / 60
    lines += [
        "",
        f"mAP@all on CIFAR-10 `cifar10-1` (1,000 queries, 5,000 training images, 59,000 "
        f"database images; JPEG copy from ../shared/data), small CNN (6 conv layers, "
        f"widths 32/64/128), 32 px, {epochs} epochs, batch 64, Adam 1e-3 with cosine decay "
        f"(configs/cifar10.py). DPSH: memory bank, batch-normalised tanh hash layer (see "
        f"\"DPSH from scratch\"); DSH: linear hash layer, margin 2 x bits. "
        f"Training time per run {min(train) / 60:.1f} to {max(train) / 60:.1f} min; the whole "
        f"table (training, encoding and metrics) took {total_minutes:.0f} min on {os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}).",
        "",
        "Command: `python benchmarks/cifar10_baselines.py " f"--epochs={epochs}`",
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", default=DEFAULT_ARCHIVE)
    parser.add_argument("--extract_dir", default=os.path.expanduser("~/.cache/tfhash/cifar10-jpeg"))
    parser.add_argument("--runs_dir", default=os.path.join(REPO, "runs", "cifar10_baselines"))
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--methods", default="dpsh,dsh")
    parser.add_argument("--bits", default="12,24,32,48")
    parser.add_argument("--no_readme", action="store_true", help="do not edit README.md")
    args = parser.parse_args()
    if not os.path.exists(args.archive):
        print(f"skipped: {args.archive} is not there (see ../shared/data/README.md)")
        return
    data_dir = extract(args.archive, args.extract_dir)
    methods = args.methods.split(",")
    bits_list = [int(b) for b in args.bits.split(",")]
    results, walls = {}, {}
    for method in methods:
        for bits in bits_list:
            workdir = os.path.join(args.runs_dir, f"{method}_{bits}")
            key = (method, bits)
            results[key], walls[key] = run_one(method, bits, args.epochs, data_dir, workdir)
    text = table(results, walls, methods, bits_list, args.epochs)
    os.makedirs(os.path.join(REPO, "benchmarks", "results"), exist_ok=True)
    with open(os.path.join(REPO, "benchmarks", "results", "cifar10_baselines.md"), "w") as f:
        f.write(text + "\n")
    print(text)
    if not args.no_readme:
        readme = os.path.join(REPO, "README.md")
        with open(readme) as f:
            content = f.read()
        if START in content and END in content:
            head, rest = content.split(START, 1)
            _, tail = rest.split(END, 1)
            with open(readme, "w") as f:
                f.write(head + START + "\n" + text + "\n" + END + tail)


if __name__ == "__main__":
    main()
