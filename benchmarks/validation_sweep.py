"""Chooses a method's settings on a validation draw, never on the queries: trains one
config under several sets of `--config.<field>=<value>` overrides, each with part of
the training items held out (`data.validation_per_class`, or `data.num_validation`
on multi-label data), and tables the validation mAP@all of each (the queries' mAP is
neither printed nor tabled, so that nothing is chosen on it; it stays in each run's
report.json).

  python benchmarks/validation_sweep.py --dataset=flowers17_pretrained --config=dsah \\
      --variants="paper:;both:dsah.hash_inputs=both;floor0.5:dsah.mask_floor=0.5" \\
      --validation_per_class=10

--config names configs/<config>_<dataset>.py; each variant is `name:field=value,...`
(an empty list: the config as it is). Runs go to runs/<config>_<dataset>_validation/
<variant>_<bits>; a finished run whose resolved config equals the variant's is reused
(also from benchmarks/results/runs/, where finished runs are archived). The table is
printed and written to benchmarks/results/<config>_<dataset>_validation.md.
"""

import argparse
import ast
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from benchmarks import method_table  # noqa: E402


def parse_variants(text):
    """`name:field=value,...;...` -> [(name, {field: value})] (values as Python
    literals where they parse, else strings)."""
    variants = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        if ":" not in part:
            raise SystemExit(f"a variant is name:field=value,...; got {part!r}")
        name, _, body = part.partition(":")
        overrides = {}
        for item in filter(None, (i.strip() for i in body.split(","))):
            if "=" not in item:
                raise SystemExit(f"an override is field=value; got {item!r} in {name!r}")
            field, _, value = item.partition("=")
            try:
                overrides[field.strip()] = ast.literal_eval(value.strip())
            except (ValueError, SyntaxError):
                overrides[field.strip()] = value.strip()
        variants.append((name.strip(), overrides))
    names = [n for n, _ in variants]
    if not variants or len(set(names)) != len(names):
        raise SystemExit(f"give one or more variants with distinct names, got {names}")
    return variants


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(method_table.DATASETS), required=True)
    parser.add_argument("--config", required=True, help="configs/<config>_<dataset>.py")
    parser.add_argument("--variants", required=True)
    parser.add_argument("--bits", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=None, help="default: the config's")
    parser.add_argument("--validation_per_class", type=int, default=0)
    parser.add_argument("--num_validation", type=int, default=0)
    args = parser.parse_args()
    if bool(args.validation_per_class) == bool(args.num_validation):
        raise SystemExit("give --validation_per_class (single-label data) or --num_validation "
                         "(multi-label data)")
    variants = parse_variants(args.variants)
    spec = method_table.DATASETS[args.dataset]
    if not os.path.exists(spec["archive"]):
        print(f"skipped: {spec['archive']} is not there (see ../shared/data/README.md)")
        return
    root = method_table.extract(spec["archive"], spec["extract_dir"],
                                spec.get("base", args.dataset))
    name = f"{args.config}_{args.dataset}"
    from tfhash.training import config_files

    base = config_files.load_config_file(os.path.join(REPO, "configs", f"{name}.py"))
    epochs = args.epochs or base.train.epochs
    held_out = ({"data.validation_per_class": args.validation_per_class} if args.validation_per_class
                else {"data.num_validation": args.num_validation})
    runs_dir = os.path.join(REPO, "runs", f"{name}_validation")
    archive = os.path.join(method_table.ARCHIVE, f"{name}_validation")
    rows = []
    for variant, overrides in variants:
        cell = {**method_table.cell_overrides(args.bits, epochs, spec["source"](root), args.seed),
                **held_out, **overrides}
        workdir = os.path.join(runs_dir, f"{variant}_{args.bits}")
        report, wall, commit = method_table.run_one(
            args.dataset, args.config, args.bits, epochs, None, workdir, args.seed,
            os.path.join(archive, f"{variant}_{args.bits}"), overrides=cell, show_map=False)
        if not report.validation:
            raise SystemExit(f"{workdir}: the run has no validation score")
        last = report.validation[-1]
        crossmodal = any(a != b for a, b in (name.split("->") for name in report.tasks))
        if crossmodal and "tasks" not in last:
            # scored before validation covered both directions (the first task's alone)
            raise SystemExit(f"{workdir}: its validation score is image->text alone, from before "
                             f"cross-modal runs were validated on both directions; delete the "
                             f"folder and run again")
        rows.append((variant, overrides, last["map_all"], last.get("tasks", {}), last["epoch"],
                     wall, commit))
    lines = [f"Validation mAP@all of configs/{name}.py, {args.bits} bits, seed {args.seed}, "
             f"{epochs} epochs, held out: "
             + ", ".join(f"`{k}={v}`" for k, v in held_out.items())
             + f" ({method_table.cpu_name()}):", "",
             "| variant | overrides | validation mAP@all | after epoch | minutes | commit |",
             "|---|---|---|---|---|---|"]
    for variant, overrides, score, tasks, epoch, wall, commit in rows:
        described = ", ".join(f"`{k}={v}`" for k, v in overrides.items()) or "(the config)"
        each = " / ".join(method_table.truncated(v) for v in tasks.values())
        lines.append(f"| {variant} | {described} | {method_table.truncated(score)}"
                     + (f" ({each})" if each else "") + f" | {epoch} | {wall / 60:.1f} | {commit} |")
    if any(tasks for *_, tasks, _, _, _ in rows):
        names = next(tasks for *_, tasks, _, _, _ in rows if tasks)
        lines += ["", "The validation score of a model with several tasks is the mean of its "
                  "tasks' (in brackets: " + " / ".join(names) + ")."]
    lines += ["", "Command: `python benchmarks/validation_sweep.py " + " ".join(
        a if not a.startswith("--variants=") else f'--variants="{a[11:]}"' for a in sys.argv[1:]) + "`"]
    text = "\n".join(lines) + "\n"
    print(text)
    with open(os.path.join(REPO, "benchmarks", "results", f"{name}_validation.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
