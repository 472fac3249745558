"""Methods by name: each model file registers its class, which builds itself from a
run config (`from_run_config`), so adding a method touches no other module."""

_METHODS = {}


def register(name):
    """Class decorator: `config.method = name` makes this model."""

    def decorate(cls):
        if _METHODS.get(name, cls) is not cls:
            raise ValueError(f"method {name!r} is already registered by {_METHODS[name].__name__}")
        _METHODS[name] = cls
        cls.method_name = name
        return cls

    return decorate


def names():
    """The registered method names."""
    return tuple(_METHODS)


def get(name):
    """The model class registered as `name`."""
    if name not in _METHODS:
        raise ValueError(f"unknown method {name!r}; expected one of {names()}")
    return _METHODS[name]


def make_model(config, spec):
    """The model named by `config.method`, built from the config for data `spec`
    (`model.build_from_spec(spec)` creates its weights)."""
    return get(config.method).from_run_config(config, spec)
