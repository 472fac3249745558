"""Writes that are all or nothing: a file or folder appears under its final name only
once it is complete, so a crash, a kill or a full disk leaves the previous good
version in place (readers never see half a file).
"""

import contextlib
import json
import os
import shutil


@contextlib.contextmanager
def atomic_write(path, mode="w"):
    """Opens a temporary file beside `path`; on a clean exit it is flushed, synced and
    renamed over `path`; on an exception it is removed and `path` is untouched.

        with atomic_write("report.json") as f:
            json.dump(report, f)
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, mode) as f:
            yield f
            try:
                f.flush()
                os.fsync(f.fileno())
            except OSError as e:
                raise _write_error(e, path) from e
        try:
            os.replace(tmp, path)
        except OSError as e:
            raise _write_error(e, path) from e
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _write_error(error, path):
    kept = "the previous version is kept" if os.path.exists(path) else "nothing was written"
    return OSError(error.errno, f"{error.strerror or error}: could not write {path}; {kept}")


def write_json(path, record, **dump_args):
    """`record` as JSON at `path`, atomically."""
    with atomic_write(path) as f:
        try:
            json.dump(record, f, **dump_args)
        except OSError as e:
            raise _write_error(e, path) from e


@contextlib.contextmanager
def atomic_directory(target):
    """Yields a temporary folder beside `target` to fill; renamed to `target` on a
    clean exit, deleted otherwise. `target` must not exist (versions are never
    overwritten)."""
    if os.path.exists(target):
        raise ValueError(f"{target} already exists")
    parent = os.path.dirname(os.path.abspath(target))
    os.makedirs(parent, exist_ok=True)
    tmp = os.path.join(parent, f".tmp-{os.path.basename(target)}-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    try:
        yield tmp
        try:
            os.replace(tmp, target)
        except OSError as e:
            raise _write_error(e, target) from e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
