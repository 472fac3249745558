"""The mutation check's list stays in step with the code it mutates.

`benchmarks/mutation_check.py` is slow (4 to 13 minutes on 2 cores), so it runs by hand; a
mutation whose text the code no longer holds is reported "stale" there and checks
nothing. Two mutations went stale that way unnoticed (a HashGAN loss line and the
evaluation pipeline's parallelism were edited). These tests catch it in the suite:
each mutation's text must still occur exactly once in its file, its replacement must
change that file, and every test it names must exist.
"""

import ast
import os

import pytest

from tests.conftest import REPO, load_benchmark


MUTATIONS = load_benchmark("mutation_check").MUTATIONS


def _test_names(path):
    """Top-level test functions of a test file, read without importing it."""
    with open(os.path.join(REPO, path), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    return {node.name for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def test_mutation_names_are_unique():
    names = [m.name for m in MUTATIONS]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.name)
def test_each_mutation_still_applies_and_names_real_tests(mutation):
    with open(os.path.join(REPO, mutation.path), encoding="utf-8") as f:
        text = f.read()
    assert text.count(mutation.old) == 1, (
        f"{mutation.name}: its text occurs {text.count(mutation.old)} times in "
        f"{mutation.path} (must be once); update the mutation with the code")
    assert text.replace(mutation.old, mutation.new) != text
    assert mutation.must_fail, f"{mutation.name} names no test"
    for node in mutation.must_fail:
        path, _, name = node.partition("::")
        name = name.split("[")[0]
        assert name in _test_names(path), f"{mutation.name}: no test {node}"
