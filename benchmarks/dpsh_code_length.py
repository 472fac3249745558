"""Why does DPSH get worse with longer codes? Runs DPSH on CIFAR-10 (configs/dpsh_cifar10.py,
the shared small-CNN budget) with a validation draw (50 training images per class held
out; the queries are not touched) at several code lengths and settings, and prints
per run: validation mAP@all, the share of (batch x bank) pairs whose logit is
saturated on the right side (`sat_right`: the pair's gradient sigmoid(theta) - s is
within 0.01 of 0) and on the wrong side (`sat_wrong`), read from the progress line of
the last step of several epochs, and the code health of the training codes.

Not part of CI. Reuses finished runs (their workdir has report.json), so it can be
stopped and started again.

  python benchmarks/dpsh_code_length.py                       # the default grid
  python benchmarks/dpsh_code_length.py --runs=paper_12,paper_48 [--epochs=30]
"""

import argparse
import json
import math
import os
import re
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from benchmarks import method_table  # noqa: E402

# name -> (bits, overrides)
RUNS = {
    "paper_12": (12, []),
    "paper_24": (24, []),
    "paper_32": (32, []),
    "paper_48": (48, []),
    "max6_12": (12, ["--config.loss.max_logit=6"]),  # 6 / 12 = 0.5: the paper_12 run
    "max3_48": (48, ["--config.loss.max_logit=3"]),
    "max12_48": (48, ["--config.loss.max_logit=12"]),
    "max6_24": (24, ["--config.loss.max_logit=6"]),
    "max6_32": (32, ["--config.loss.max_logit=6"]),
    "max6_48": (48, ["--config.loss.max_logit=6"]),
    "paper_48_quant0": (48, ["--config.loss.quant_weight=0"]),
    "paper_48_nobank": (48, ["--config.dpsh.memory_bank=False"]),
    "paper_48_lr3e-4": (48, ["--config.train.learning_rate=3e-4"]),
    "paper_48_linear": (48, ["--config.model.head_activation=linear"]),
}
DEFAULT = "paper_12,paper_48,max6_48,max3_48,max12_48"
EPOCHS_SHOWN = (1, 5, 10, 20, 30)
LINE = re.compile(r"epoch (\d+)/\d+ step (\d+)/(\d+) .*?\((.*)\)")


def progress(log_path):
    """{epoch: {log: value}} from the progress lines of each epoch's last step."""
    result = {}
    with open(log_path) as f:
        for line in f:
            match = LINE.search(line)
            if match and match.group(2) == match.group(3):
                terms = match.group(4).split()
                result[int(match.group(1))] = {terms[i]: float(terms[i + 1])
                                               for i in range(0, len(terms) - 1, 2)}
    return result


def logit_statistics(workdir):
    """From the run's last checkpoint: the relaxed codes u of the validation items and
    the training items, the logits theta = scale * u.v of all their pairs, split by
    similar / dissimilar pairs: mean |u|, mean and standard deviation of theta, the
    share of saturated pairs, and the separation (mean similar - mean dissimilar) /
    pooled standard deviation."""
    import numpy as np

    from tfhash import data as data_lib
    from tfhash.losses import logit_scale
    from tfhash.training import config_files
    from tfhash.training import strategy as strategy_lib
    from tfhash.training import workdir as workdir_lib

    config = config_files.load_workdir_config(workdir, configure_devices=True)
    strategy = strategy_lib.make_strategy(config.num_cpu_replicas)
    model, source, split, _ = workdir_lib.restore(workdir, strategy, config)
    encoder = model.encoders()["image"]

    def relaxed(items):
        batches = data_lib.eval_dataset(source, items, config.data.image_size, 500, ("image",))
        return np.concatenate([encoder.embed(b["image"]).numpy() for b in batches])

    u, v = relaxed(split.validation), relaxed(split.train)
    scale = logit_scale(model.bits, model.max_logit)
    theta = scale * u @ v.T  # (validation, train)
    similar = (source.labels[split.validation] @ source.labels[split.train].T) > 0
    error = np.abs(1 / (1 + np.exp(-theta)) - similar)
    s, d = theta[similar], theta[~similar]
    pooled = np.sqrt((s.var() + d.var()) / 2)
    return {"mean_abs_u": float(np.abs(u).mean()), "theta_similar": float(s.mean()),
            "theta_dissimilar": float(d.mean()), "std_similar": float(s.std()),
            "std_dissimilar": float(d.std()), "saturated": float(np.mean(error < 0.01)),
            "separation": float((s.mean() - d.mean()) / pooled)}


def run(name, epochs, source, runs_dir):
    bits, overrides = RUNS[name]
    workdir = os.path.join(runs_dir, name)
    log = os.path.join(runs_dir, f"{name}.log")
    report_path = os.path.join(workdir, "report.json")
    os.makedirs(runs_dir, exist_ok=True)
    if not (os.path.exists(report_path) and json.load(open(report_path)).get("epochs") == epochs):
        command = [os.path.join(os.path.dirname(sys.executable), "tfhash-train"),
                   f"--config={REPO}/configs/dpsh_cifar10.py", f"--workdir={workdir}",
                   f"--config.bits={bits}", f"--config.train.epochs={epochs}",
                   f"--config.data.source={source}", "--config.data.validation_per_class=50",
                   "--config.eval.validate_every=10", *overrides]
        print("$ " + " ".join(command), flush=True)
        start = time.time()
        with open(log, "a") as out:
            result = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT)
        if result.returncode:
            raise SystemExit(f"{name} failed; see {log}")
        print(f"{name}: {time.time() - start:.0f} s", flush=True)
    report = json.load(open(report_path))
    return report, progress(log)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default=DEFAULT, help=f"any of {', '.join(RUNS)}")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--runs_dir", default=os.path.join(REPO, "runs", "dpsh_code_length"))
    args = parser.parse_args()
    spec = method_table.DATASETS["cifar10"]
    if not os.path.exists(spec["archive"]):
        print(f"skipped: {spec['archive']} is not there (see ../shared/data/README.md)")
        return
    source = spec["source"](method_table.extract(spec["archive"], spec["extract_dir"], "cifar10"))
    rows, stats = [], []
    for name in args.runs.split(","):
        report, lines = run(name, args.epochs, source, args.runs_dir)
        st = logit_statistics(os.path.join(args.runs_dir, name))
        stats.append(f"| {name} | {st['mean_abs_u']:.3f} | {st['theta_similar']:.3f} "
                     f"({st['std_similar']:.3f}) | {st['theta_dissimilar']:.3f} "
                     f"({st['std_dissimilar']:.3f}) | {st['saturated']:.4f} | {st['separation']:.3f} |")
        shown = [e for e in EPOCHS_SHOWN if e in lines]
        sat = " / ".join(f"{lines[e].get('sat_right', float('nan')):.3f}" for e in shown)
        wrong = " / ".join(f"{lines[e].get('sat_wrong', float('nan')):.3f}" for e in shown)
        pair = " / ".join(f"{lines[e].get('pair_loss', float('nan')):.3f}" for e in shown)
        validation = report["validation"][-1]["map_all"]
        rows.append(f"| {name} | {math.floor(validation * 1e4) / 1e4:.4f} | {pair} | {sat} | {wrong} |")
    epochs = ", ".join(str(e) for e in EPOCHS_SHOWN if e <= args.epochs)
    print(f"\n| run | validation mAP@all | pair loss (epochs {epochs}) | sat_right | sat_wrong |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    print("\nAt the end of training, validation items x training items (relaxed codes u):\n")
    print("| run | mean abs(u) | theta similar: mean (std) | theta dissimilar: mean (std) | "
          "saturated share | separation |")
    print("|---|---|---|---|---|---|")
    print("\n".join(stats))
    print(f"\nCommand: python benchmarks/dpsh_code_length.py --runs={args.runs} --epochs={args.epochs}")


if __name__ == "__main__":
    main()
