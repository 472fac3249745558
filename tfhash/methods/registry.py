"""Methods by name: `config.method = name` picks a builder that turns the run config
into a model, with the settings the method needs to work as its defaults.

A method is registered once, beside its builder (`tfhash/methods/<method>.py`):

    @registry.register("dpsh", defaults={"model.head_activation": "tanh", ...},
                       checks=(...), reads=("dpsh", "loss"))
    def build(config, spec):
        return models.DPSH(...)

`defaults` fill the method-dependent fields that a config leaves unset (None, the
placeholders of configs/default.py); `checks` validate the method's own fields;
`reads` names the config sections the builder reads (the others are the other
methods' and are ignored).
"""

import dataclasses
from typing import Callable, Mapping, Optional, Tuple

_METHODS = {}

# Method-dependent fields: unset (None) in configs/default.py, filled by each method's
# defaults; a method that does not use one refuses a value for it.
METHOD_FIELDS = ("model.head_activation", "model.head_batch_norm", "model.hidden_units")


@dataclasses.dataclass(frozen=True)
class Method:
    """A registered method.

    Attributes:
      name: `config.method`.
      build: `build(config, spec)` -> an unbuilt model (`build_from_spec` makes its
        weights); `config` is resolved (no method-dependent field left unset).
      defaults: field -> value for the method-dependent fields it uses.
      checks: `(field, test, requirement)` triples for its own fields, e.g.
        `("dsh.alpha", lambda v: v >= 0, "must be >= 0")`.
      reads: the config sections it reads besides the common ones.
      resolve: optional `resolve(config)`, filling the method's own derived settings
        into a (copied, unlocked) config, e.g. DAgH's stage split in epochs.
    """

    name: str
    build: Callable
    defaults: Mapping = dataclasses.field(default_factory=dict)
    checks: Tuple = ()
    reads: Tuple = ()
    resolve: Optional[Callable] = None


def register(name, defaults=None, checks=(), reads=(), resolve=None):
    """Decorator of a builder: `config.method = name` uses it."""

    def decorate(build):
        if name in _METHODS and _METHODS[name].build is not build:
            raise ValueError(f"method {name!r} is already registered by "
                             f"{_METHODS[name].build.__module__}")
        unknown = sorted(set(defaults or {}) - set(METHOD_FIELDS))
        if unknown:
            raise ValueError(f"defaults of {name!r} name fields that are not method-dependent: "
                             f"{unknown} (those are {METHOD_FIELDS})")
        _METHODS[name] = Method(name, build, dict(defaults or {}), tuple(checks), tuple(reads),
                                resolve)
        return build

    return decorate


def names():
    """The registered method names."""
    return tuple(_METHODS)


def get(name):
    """The `Method` registered as `name`."""
    if name not in _METHODS:
        raise ValueError(f"unknown method {name!r}; expected one of {names()}")
    return _METHODS[name]
