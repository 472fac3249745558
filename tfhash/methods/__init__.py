"""Methods by name, and the builders that turn a run config into a model.

`config.method` names a builder (one module per method beside `registry`); the
builder reads the config, makes the networks and hands them to the model's
constructor: models (`tfhash.models`) never read a run config. `validate` checks a
config once before a run starts; `build_model` makes the model for a `DataSpec`.
"""

from tfhash.methods import dagh, dcmh, doh, dpsh, dsah, dsh, hashgan  # noqa: F401 (they register)
from tfhash.methods.registry import METHOD_FIELDS, Method, get, names, register
from tfhash.methods.settings import RENAMED, migrate_flat, renamed_message, resolve, validate


def build_model(config, spec):
    """The (unbuilt) model `config.method` names, for data `spec`;
    `model.build_from_spec(spec)` creates its weights."""
    resolved = resolve(config)
    return get(resolved.method).build(resolved, spec)


__all__ = ["METHOD_FIELDS", "Method", "RENAMED", "build_model", "get", "migrate_flat", "names",
           "register", "renamed_message", "resolve", "validate"]
