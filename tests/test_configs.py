import glob
import os

import pytest

from tests.conftest import REPO
from tfhash.training import config_files

CONFIGS = sorted(p for p in glob.glob(os.path.join(REPO, "configs", "*.py")) if not p.endswith("__init__.py"))


def flat_keys(config, prefix=""):
    keys = set()
    for key, value in config.items():
        if hasattr(value, "items"):
            keys |= flat_keys(value, f"{prefix}{key}.")
        else:
            keys.add(f"{prefix}{key}")
    return keys


@pytest.mark.parametrize("path", CONFIGS, ids=os.path.basename)
def test_config_loads_with_the_default_fields(path):
    config = config_files.load_config_file(path)
    default = config_files.load_config_file(os.path.join(REPO, "configs", "default.py"))
    assert flat_keys(config) == flat_keys(default)


@pytest.mark.parametrize("path", [p for p in CONFIGS if "_" in os.path.basename(p) or "demo" in p],
                         ids=os.path.basename)
def test_runnable_configs_start_with_command_and_expectation(path):
    with open(path) as f:
        text = f.read()
    assert "COMMAND:" in text and "EXPECTED:" in text


def test_workdir_config_round_trip(tmp_path):
    config = config_files.load_config_file(os.path.join(REPO, "configs", "dpsh_cifar10.py"))
    config_files.save_config(config, str(tmp_path))
    loaded = config_files.load_workdir_config(str(tmp_path))
    assert config_files.config_hash(loaded) == config_files.config_hash(config)
    assert loaded.model.widths == (32, 64, 128)
