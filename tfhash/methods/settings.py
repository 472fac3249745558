"""The run config as one place checks it: method-dependent fields resolved from the
method's defaults, every field checked once (with one-line errors that name the
field), renamed fields refused with their new names, and the config of a workdir
written by an older tfhash brought to today's names."""

import copy

import ml_collections

from tfhash import backbones
from tfhash.methods import checks, registry
from tfhash.retrieval import codes as codes_lib

# old name -> new name (fields several methods share moved to `loss`)
RENAMED = {"dpsh.quant_weight": "loss.quant_weight", "dpsh.max_logit": "loss.max_logit"}


def _get(config, field):
    node = config
    for part in field.split("."):
        node = node[part]
    return node


def _set(config, field, value):
    *parents, leaf = field.split(".")
    node = config
    for part in parents:
        node = node[part]
    node[leaf] = value


def _has(config, field):
    node = config
    for part in field.split("."):
        if not isinstance(node, (dict, ml_collections.ConfigDict)) or part not in node:
            return False
        node = node[part]
    return True


def renamed_message(old):
    """The error for a field that was renamed."""
    return (f"{old} was renamed {RENAMED[old]} (it is shared by DPSH, DSaH, DAgH and DCMH); "
            f"set --config.{RENAMED[old]} instead")


def resolve(config):
    """A copy of `config` whose method-dependent fields that are unset (None) hold
    the method's defaults, and where the fields the method does not use are None.
    Raises a clear error for a value given to a field the method does not use."""
    method = registry.get(config.method)
    resolved = copy.deepcopy(config)
    with resolved.unlocked():
        for field in registry.METHOD_FIELDS:
            value = _get(resolved, field)
            if field in method.defaults:
                if value is None:
                    _set(resolved, field, method.defaults[field])
            elif value is not None:
                raise ValueError(f"{field}={value!r} does nothing for {config.method}, which has "
                                 f"no such setting; leave it unset (the fields "
                                 f"{config.method} uses: {sorted(method.defaults) or 'none'})")
        if method.resolve is not None:
            method.resolve(resolved)
    return resolved


_COMMON_CHECKS = (
    ("seed", *checks.NON_NEGATIVE_INT),
    ("num_cpu_replicas", *checks.NON_NEGATIVE_INT),
    ("data.image_size", lambda v: checks.integer(v) and v >= 8, "be at least 8 pixels"),
    ("model.backbone", *checks.choice(*backbones.BACKBONES)),
    ("model.widths", *checks.POSITIVE_INTS),
    ("model.convs_per_stage", *checks.POSITIVE_INT),
    ("model.weights", lambda v: v in ("none", "imagenet") or (isinstance(v, str) and v.endswith(
        ".h5")), "be 'none', 'imagenet' or a Keras weights file (.h5)"),
    ("model.output_stride", *checks.choice(16, 32)),
    ("model.train_from", lambda v: isinstance(v, str), "be a stage name or empty"),
    ("model.head_activation", lambda v: v in (None, "linear", "tanh"), "be 'linear' or 'tanh'"),
    ("model.head_batch_norm", lambda v: v is None or checks.boolean(v), "be True or False"),
    ("model.hidden_units", lambda v: v is None or checks.non_negative_int(v),
     "be an integer >= 0"),
    ("loss.similarity", lambda v: v in ("shared", "jaccard"), "be 'shared' or 'jaccard'"),
    ("loss.balance_weight", *checks.NON_NEGATIVE),
    ("loss.quant_weight", *checks.NON_NEGATIVE),
    ("loss.max_logit", *checks.NON_NEGATIVE),
    ("train.epochs", *checks.POSITIVE),
    ("train.optimizer", *checks.choice("adam", "sgd")),
    ("train.learning_rate", *checks.POSITIVE),
    ("train.lr_schedule", lambda v: v in ("cosine", "constant"), "be 'cosine' or 'constant'"),
    ("train.weight_decay", *checks.NON_NEGATIVE),
    ("train.log_every", *checks.POSITIVE_INT),
    ("train.keep_checkpoints", *checks.POSITIVE_INT),
    ("eval.batch_size", *checks.POSITIVE),
    ("eval.top_k", *checks.POSITIVE_INT),
    ("eval.radius", *checks.NON_NEGATIVE_INT),
    ("eval.precision_ks", *checks.POSITIVE_INTS),
    ("eval.validate_every", *checks.NON_NEGATIVE_INT),
)


def _check(config, entry):
    if callable(entry):
        return entry(config)
    field, test, requirement = entry
    if not _has(config, field):
        return None  # an older config without the field: its default applies
    value = _get(config, field)
    return None if test(value) else f"{field} must {requirement}, got {value!r}"


def validate(config, num_replicas=1):
    """Checks every field of a run config once, before anything is read or written;
    the first bad field is a `ValueError` whose one line names it. Returns the
    resolved config (`resolve`)."""
    for old in RENAMED:
        if _has(config, old):
            raise ValueError(renamed_message(old))
    codes_lib.check_bits(config.bits)
    method = registry.get(config.method)
    batch = config.train.batch_size
    if not checks.positive_int(batch) or batch % num_replicas:
        raise ValueError(f"train.batch_size={batch} must be a positive multiple of the "
                         f"{num_replicas} replicas")
    for entry in _COMMON_CHECKS + method.checks:
        problem = _check(config, entry)
        if problem:
            raise ValueError(problem)
    return resolve(config)


def migrate_flat(flat):
    """A workdir's flat config.json (field -> value) in today's names: renamed fields
    moved, method-dependent fields the method does not use set to None. Values the
    older tfhash gave the renamed or now-unset fields are kept as they were, so the
    migrated config describes the same run."""
    flat = dict(flat)
    for old, new in RENAMED.items():
        if old in flat:
            flat.setdefault(new, flat.pop(old))
    method = flat.get("method")
    if method in registry.names():
        used = registry.get(method).defaults
        for field in registry.METHOD_FIELDS:
            if field not in used:
                flat[field] = None
    # runs from before these switches: pixel masks, a learned attention
    flat.setdefault("dsah.mask_level", "pixels")
    flat.setdefault("dsah.mask", "learned")
    flat.setdefault("dsah.mask_floor", 0.0)
    flat.setdefault("dsah.hash_inputs", "salient")
    flat.setdefault("doh.attention", "learned")
    flat.setdefault("doh.streams", "both")
    flat.setdefault("hashgan.train_attention", True)
    flat.setdefault("hashgan.adversarial_warmup", 0)
    flat.setdefault("hashgan.attention_learning_rate", 1.0)
    flat.setdefault("dagh.attention", "learned")
    flat.setdefault("dpsh.backbones", 1)
    flat.setdefault("dagh.plain_bn", "inference")
    flat.setdefault("dagh.stage2_weights", "none")
    if method == "dagh":  # stage1_epochs was always explicit; the share came later
        flat.setdefault("dagh.stage1_share", 2 / 3)
        flat.setdefault("dagh.reestimate_bn", False)  # runs before it had the switch
    if method == "hashgan":  # runs from before these switches: the paper's threshold,
        # the straight-through gradient in the hash step, weight 1
        flat.setdefault("hashgan.adversarial_weight", 1.0)
        flat.setdefault("hashgan.attended_share", 0.0)
        flat.setdefault("hashgan.hash_step_mask_gradient", True)
    return flat
