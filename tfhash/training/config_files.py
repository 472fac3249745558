"""Config files: loading them, writing the resolved config into a run folder,
checking a rerun's config against it, and reading it back (in today's field names,
whichever tfhash wrote it)."""

import hashlib
import importlib.util
import json
import os
import sys

import ml_collections

from tfhash import atomic

CONFIG_FILE = "config.json"
# Fields a rerun in the same workdir may change without invalidating its checkpoints.
RESUMABLE_CHANGES = ("train.epochs", "train.log_every", "eval.", "data.max_pixels",
                     "data.trunk_cache", "data.trunk_batch_size")


def add_config_package_to_path(argv):
    """Makes `from configs import default` work in config files given by path.

    Config files live in the repository's `configs/` package; console scripts do
    not have the repository on `sys.path`, so the parent of the config's folder
    is added for every `--config=<file>` argument.
    """
    for arg in argv:
        if arg.startswith("--config="):
            path = arg.split("=", 1)[1].split(":", 1)[0]
            root = os.path.dirname(os.path.dirname(os.path.abspath(path)))
            if root not in sys.path:
                sys.path.insert(0, root)


def load_config_file(path):
    """`get_config()` of the config file at `path` (for tests and scripts)."""
    add_config_package_to_path([f"--config={path}"])
    spec = importlib.util.spec_from_file_location("tfhash_config", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config()


def flat_config(config, prefix=""):
    """The config as one level of `section.field` keys (config.json's form)."""
    items = {}
    for key, value in config.items():
        if isinstance(value, (dict, ml_collections.ConfigDict)):
            items.update(flat_config(value, f"{prefix}{key}."))
        else:
            items[f"{prefix}{key}"] = list(value) if isinstance(value, tuple) else value
    return items


def config_hash(config):
    """Short digest of every field, for the report."""
    text = json.dumps(flat_config(config), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def check_config(config, workdir):
    """In a workdir that has a config.json, refuses a config that differs in
    anything but RESUMABLE_CHANGES (the checkpoints would not fit)."""
    from tfhash import methods

    path = os.path.join(workdir, CONFIG_FILE)
    current = flat_config(config)
    if os.path.exists(path):
        with open(path) as f:
            saved = methods.migrate_flat(json.load(f))
        changed = sorted(
            k for k in set(saved) | set(current)
            if saved.get(k) != current.get(k) and not k.startswith(RESUMABLE_CHANGES)
        )
        if changed:
            details = "; ".join(f"{k}: {saved.get(k)!r} -> {current.get(k)!r}" for k in changed)
            raise ValueError(
                f"workdir {workdir} was made with a different config ({details}). "
                "Use a new workdir, or the original settings to resume"
            )


def save_config(config, workdir):
    """Writes the resolved config as config.json (atomically)."""
    atomic.write_json(os.path.join(workdir, CONFIG_FILE), flat_config(config), indent=1,
                      sort_keys=True, default=str)


def load_workdir_config(workdir, configure_devices=False):
    """The config a workdir was trained with, as a ConfigDict.

    With `configure_devices`, also sets up the logical CPU devices the run used
    (which must happen before TensorFlow initialises its devices)."""
    if configure_devices:
        config = load_workdir_config(workdir)
        from tfhash.training import strategy

        strategy.configure_cpu_replicas(config.num_cpu_replicas)
        return config
    from tfhash import methods

    path = os.path.join(workdir, CONFIG_FILE)
    if not os.path.exists(path):
        raise ValueError(f"{workdir} has no {CONFIG_FILE}: it is not a tfhash-train workdir")
    with open(path) as f:
        flat = methods.migrate_flat(json.load(f))
    nested = {}
    for key, value in flat.items():
        node = nested
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = tuple(value) if isinstance(value, list) else value
    return ml_collections.ConfigDict(nested)
