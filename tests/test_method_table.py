"""benchmarks/method_table.py's reuse of finished runs: a run (in --runs_dir or in the
committed archive) fills a table cell only when its resolved config is the cell's."""

import json
import os
import shutil

import pytest

from tests.conftest import REPO, load_benchmark
from tfhash.training import loop


@pytest.fixture(scope="module")
def method_table():
    return load_benchmark("method_table")


TINY = {"method": "dpsh", "data.image_size": 16, "data.query_per_class": 5,
        "data.train_per_class": 8, "model.widths": (4, 8), "model.convs_per_stage": 1,
        "train.batch_size": 20, "eval.batch_size": 128}


def test_a_run_is_reused_only_with_the_cells_config(method_table, tmp_path, capsys):
    from tests.conftest import demo_config

    overrides = {**TINY, **method_table.cell_overrides(12, 1, "digits", 0)}
    workdir = tmp_path / "runs" / "dpsh_12"
    loop.train_and_evaluate(demo_config(**overrides), str(workdir))
    (workdir / "wall_seconds.txt").write_text("12.5")
    expected = method_table.expected_config("demo", overrides)
    # the config tfhash-train wrote is the one the table script expects for the cell
    assert method_table.config_differences(str(workdir), expected) == []
    report, wall, commit = method_table.finished(str(workdir), 1, expected)
    assert (report.bits, report.epochs, wall, commit) == (12, 1, 12.5, "unknown")
    assert method_table.finished(str(workdir), 2, expected) is None  # other epochs

    # another seed or loss setting is another cell: not reused, the field named
    other = method_table.expected_config("demo", {**overrides, "seed": 1})
    assert method_table.finished(str(workdir), 1, other) is None
    assert "its config differs in seed" in capsys.readouterr().out
    other = method_table.expected_config("demo", {**overrides, "loss.max_logit": 3.0})
    assert method_table.config_differences(str(workdir), other) == ["loss.max_logit"]
    # the data's path on another machine is the same run
    moved = method_table.expected_config("demo", {**overrides, "data.source": "digits:/x"})
    assert method_table.config_differences(str(workdir), moved) == []


def test_the_archive_holds_whole_runs_and_replaces_them_whole(method_table, tmp_path):
    source = os.path.join(REPO, "tests", "data", "c6a0030", "dpsh")
    workdir = tmp_path / "run"
    shutil.copytree(source, workdir, ignore=shutil.ignore_patterns("checkpoints", "*.npz"))
    (workdir / "wall_seconds.txt").write_text("3.0")
    (workdir / "commit.txt").write_text("abc1234567\n")
    (workdir / "machine.txt").write_text("2 CPU cores, Some CPU, AVX2\n")
    epochs = json.loads((workdir / "report.json").read_text())["epochs"]
    target = tmp_path / "archive" / "dpsh_12"
    target.parent.mkdir()
    method_table.archive_run(str(workdir), str(target))
    assert sorted(os.listdir(target)) == sorted(method_table.ARCHIVED)
    assert method_table.finished(str(target), epochs)[1:] == (3.0, "abc1234567")
    # the machine: from the run folder, else from the archive
    assert method_table.run_machine(str(tmp_path / "absent"), str(target)) == (
        "2 CPU cores, Some CPU, AVX2")
    # a newer run replaces the whole copy; nothing partial is left beside it
    (workdir / "commit.txt").unlink()
    (workdir / "machine.txt").unlink()
    (workdir / "wall_seconds.txt").write_text("4.0")
    method_table.archive_run(str(workdir), str(target))
    assert sorted(os.listdir(target.parent)) == ["dpsh_12"]
    assert method_table.finished(str(target), epochs)[1:] == (4.0, "unknown")
    assert method_table.run_machine(str(target)) is None  # not recorded: not guessed
    assert method_table.machines_note(["A", None, "B", "A", None]) == (
        ", trained on A (2 runs); B (1 run); 2 runs from before machine.txt was recorded")
    assert method_table.machines_note([]) == ""
    assert method_table.machines_note([None, None]) == (
        ", on machines not recorded (2 runs from before machine.txt was recorded)")
    # an archived run whose config is not the cell's is not reused (an old run's
    # fields read under their new names, as tfhash-train reads them)
    from tfhash import methods

    expected = methods.migrate_flat(json.loads((workdir / "config.json").read_text()))
    assert method_table.finished(str(target), epochs, expected) is not None
    expected["bits"] = 16
    assert method_table.finished(str(target), epochs, expected) is None


def test_validation_sweep_reads_its_variants():
    """benchmarks/validation_sweep.py: `name:field=value,...;...`, values as literals."""
    import sys

    sys.path.insert(0, REPO)
    sweep = load_benchmark("validation_sweep")
    assert sweep.parse_variants("paper:; both:dsah.hash_inputs=both,dsah.mask_floor=0.5") == [
        ("paper", {}), ("both", {"dsah.hash_inputs": "both", "dsah.mask_floor": 0.5})]
    assert sweep.parse_variants("x:a=True,b=3") == [("x", {"a": True, "b": 3})]
    for bad in ("", "paper", "a:;a:", "a:b"):
        with pytest.raises(SystemExit):
            sweep.parse_variants(bad)


def test_grid_cells_are_seed_zero_or_mean_and_spread_over_seeds(method_table):
    from types import SimpleNamespace

    def report(maps, correlations):
        tasks = {f"t{i}": SimpleNamespace(map_all=m, code_health={"mean_abs_bit_correlation": c})
                 for i, (m, c) in enumerate(zip(maps, correlations))}
        return SimpleNamespace(tasks=tasks)

    results = {
        ("dpsh", 12, 0): report([0.25], [0.1]),
        ("dpsh", 32, 0): report([0.5], [0.20]),
        ("dpsh", 32, 1): report([0.75], [0.22]),
        ("dpsh", 32, 2): report([1.0], [0.27]),
        ("dsh", 12, 0): None,
        ("dsh", 32, 0): report([0.4], [None]),
        ("dsh", 32, 1): report([0.5], [None]),
    }
    rows = method_table.grid(results, ["dpsh", "dsh"], [12, 32], [0, 1, 2], (32,),
                             method_table.bit_correlations)
    assert rows[0] == "| method | 12 bits | 32 bits (3 seeds) |"
    # 0.2, 0.22, 0.27: mean 0.23, sample sd sqrt((0.0009 + 0.0001 + 0.0016) / 2) = 0.0360555
    assert rows[2] == "| DPSH | 0.1000 | 0.2300 ± 0.0360 |"
    assert rows[3] == "| DSH | not run | n/a (2 of 3 seeds) |"
    maps = method_table.grid(results, ["dpsh"], [12, 32], [0, 1, 2], (32,), method_table.task_maps)
    assert maps[2] == "| DPSH | 0.2500 | 0.7500 ± 0.2500 |"  # 0.5, 0.75, 1.0
    # seeds at more than one length: each seeded column its own mean and spread
    both = method_table.grid({**results, ("dpsh", 12, 1): report([0.75], [0.1]),
                              ("dpsh", 12, 2): report([0.5], [0.1])},
                             ["dpsh"], [12, 32], [0, 1, 2], (12, 32), method_table.task_maps)
    assert both[0] == "| method | 12 bits (3 seeds) | 32 bits (3 seeds) |"
    # 0.25, 0.75, 0.5: mean 0.5, sample sd 0.25
    assert both[2] == "| DPSH | 0.5000 ± 0.2500 | 0.7500 ± 0.2500 |"
