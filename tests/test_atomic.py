"""All-or-nothing writes: a failure while writing leaves the previous file in place."""

import json
import os

import pytest

from tfhash import atomic


def test_atomic_write_replaces_only_on_success(tmp_path):
    path = tmp_path / "report.json"
    atomic.write_json(str(path), {"v": 1})
    with pytest.raises(OSError, match="No space left"):
        with atomic.atomic_write(str(path)) as f:
            f.write('{"v": 2, "trunc')
            raise OSError(28, "No space left on device")
    assert json.loads(path.read_text()) == {"v": 1}
    assert os.listdir(tmp_path) == ["report.json"]  # no temporary file left
    atomic.write_json(str(path), {"v": 3})
    assert json.loads(path.read_text()) == {"v": 3}
    with pytest.raises(ValueError, match="mode"):
        with atomic.atomic_write(str(path), "a"):
            pass


def test_atomic_directory_appears_complete_or_not_at_all(tmp_path):
    target = tmp_path / "export" / "1"
    with pytest.raises(RuntimeError):
        with atomic.atomic_directory(str(target)) as tmp:
            open(os.path.join(tmp, "half"), "w").close()
            raise RuntimeError("interrupted")
    assert not target.exists() and os.listdir(tmp_path / "export") == []
    with atomic.atomic_directory(str(target)) as tmp:
        open(os.path.join(tmp, "saved_model.pb"), "w").close()
    assert os.listdir(target) == ["saved_model.pb"]
    with pytest.raises(ValueError, match="already exists"):
        with atomic.atomic_directory(str(target)):
            pass
