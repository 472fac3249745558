"""Protocol splits (query / train / database), deterministic by seed, saved with a
checksum in the workdir and reused so that runs compare on exactly the same items.

Protocols:
- ``cifar10-1``: per class 100 queries and 500 training items drawn from all items;
  the database is everything but the queries (training items included);
- ``per_class``: the same rule with `query_per_class` / `train_per_class`;
- ``fixed``: `num_query` queries and `num_train` training items drawn at random from
  all items (the rule for multi-label lists such as NUS-WIDE, COCO, MIRFlickr);
- ``official``: the source's test split gives the queries, its train split the
  training items and the database.

Any protocol can hold out part of the training items as a validation draw
(`validation_per_class` on single-label data, `num_validation` on multi-label
data): they leave the training part, and settings are chosen on them (validation
items as queries against the remaining training items), never on the queries.
"""

import dataclasses
import hashlib
import json
import os
import time

import numpy as np
from absl import logging

from tfhash import atomic

PROTOCOLS = ("cifar10-1", "per_class", "fixed", "official")


@dataclasses.dataclass
class Split:
    """Item indices of the three parts of a protocol.

    Queries and training items are sorted; the database is in a seeded random order.
    Rankings break ties by database position, and sources usually list items class
    by class, so a sorted database would hand every tie to the first classes.
    """

    query: np.ndarray
    train: np.ndarray
    database: np.ndarray
    protocol: dict
    source: str
    source_fingerprint: str
    skipped: list = dataclasses.field(default_factory=list)  # unreadable item names
    # training items held out to choose settings on (sorted; not in `train`)
    validation: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))

    def checksum(self):
        digest = hashlib.sha256()
        digest.update(json.dumps(self._meta(), sort_keys=True).encode())
        parts = (self.query, self.train, self.database) + (
            (self.validation,) if len(self.validation) else ())
        for part in parts:
            digest.update(np.asarray(part, np.int64).tobytes())
        return digest.hexdigest()

    def _meta(self):
        return {
            "protocol": self.protocol,
            "source": self.source,
            "source_fingerprint": self.source_fingerprint,
            "skipped": self.skipped,
        }

    def summary(self):
        held_out = f", {len(self.validation)} validation" if len(self.validation) else ""
        return (
            f"{self.protocol['name']}: {len(self.query)} query, {len(self.train)} train"
            f"{held_out}, {len(self.database)} database items"
        )


def protocol_params(data_config):
    """The fields of the data config that define the split."""
    name = data_config.protocol
    if name not in PROTOCOLS:
        raise ValueError(f"unknown protocol {name!r}; expected one of {PROTOCOLS}")
    params = {"name": name, "seed": int(data_config.seed)}
    if name == "per_class":
        params.update(
            query_per_class=int(data_config.query_per_class),
            train_per_class=int(data_config.train_per_class),
        )
    elif name == "fixed":
        params.update(num_query=int(data_config.num_query), num_train=int(data_config.num_train))
    if name in ("per_class", "fixed"):
        params["train_in_database"] = bool(data_config.train_in_database)
    for key in ("validation_per_class", "num_validation"):
        value = data_config.get(key, 0)
        if isinstance(value, bool) or int(value) != value or value < 0:
            raise ValueError(f"data.{key} must be an integer >= 0, got {value!r}")
        if value:  # absent when 0, so splits drawn before the option existed still match
            params[key] = int(value)
    if "validation_per_class" in params and "num_validation" in params:
        raise ValueError("set data.validation_per_class (single-label data) or "
                         "data.num_validation (multi-label data), not both")
    return params


def _validation(source, train, params):
    """The validation draw out of the training items (a stream of its own, so the
    other parts do not depend on it)."""
    rng = np.random.default_rng([params["seed"], 2])
    multi = bool(np.any(source.labels.sum(axis=1) != 1))
    if "validation_per_class" in params:
        if multi:
            raise ValueError("data.validation_per_class needs single-label data; use "
                             "data.num_validation on multi-label data")
        per_class = params["validation_per_class"]
        classes = source.labels[train].argmax(axis=1)
        picked = []
        for c in range(source.num_classes):
            members = train[classes == c]
            if len(members) and len(members) <= per_class:
                raise ValueError(f"class {c} has {len(members)} training items, not more than "
                                 f"the {per_class} validation items asked for")
            picked.append(rng.permutation(members)[:per_class])
        return np.sort(np.concatenate(picked))
    count = params["num_validation"]
    if count >= len(train):
        raise ValueError(f"data.num_validation={count} must be smaller than the {len(train)} "
                         "training items")
    return np.sort(rng.permutation(train)[:count])


def _per_class(labels, rng, query_per_class, train_per_class):
    if np.any(labels.sum(axis=1) != 1):
        raise ValueError(
            "per-class protocols need single-label data; use protocol 'fixed' or "
            "'official' for multi-label data"
        )
    class_ids = labels.argmax(axis=1)
    query, train = [], []
    for c in range(labels.shape[1]):
        members = np.flatnonzero(class_ids == c)
        if len(members) < query_per_class + train_per_class:
            raise ValueError(
                f"class {c} has {len(members)} items, fewer than the "
                f"{query_per_class} query + {train_per_class} train the protocol asks for"
            )
        members = rng.permutation(members)
        query.append(members[:query_per_class])
        train.append(members[query_per_class : query_per_class + train_per_class])
    return np.concatenate(query), np.concatenate(train)


def make_split(source, params):
    """Draws the split described by `params` (from `protocol_params`) over `source`."""
    n = len(source)
    rng = np.random.default_rng(params["seed"])
    name = params["name"]
    if name == "official":
        if source.is_test is None:
            raise ValueError(
                f"protocol 'official' needs a source with train and test splits; "
                f"{source.name} has none"
            )
        query = np.flatnonzero(source.is_test)
        train = database = np.flatnonzero(~source.is_test)
    else:
        if name == "fixed":
            nq, nt = params["num_query"], params["num_train"]
            if nq <= 0 or nt <= 0 or nq + nt >= n:
                raise ValueError(
                    f"num_query={nq} and num_train={nt} must be positive and leave a "
                    f"database out of the {n} items"
                )
            order = rng.permutation(n)
            query, train = order[:nq], order[nq : nq + nt]
        else:
            per_query, per_train = (100, 500) if name == "cifar10-1" else (
                params["query_per_class"], params["train_per_class"])
            query, train = _per_class(source.labels, rng, per_query, per_train)
        rest = np.setdiff1d(np.arange(n), query)
        if not params.get("train_in_database", True):
            rest = np.setdiff1d(rest, train)
        database = rest
    # A separate stream for the database order keeps the query and train draws
    # independent of it.
    database = np.random.default_rng([params["seed"], 1]).permutation(np.sort(database))
    train = np.sort(train).astype(np.int64)
    validation = np.zeros(0, np.int64)
    if "validation_per_class" in params or "num_validation" in params:
        validation = _validation(source, train, params).astype(np.int64)
        train = np.setdiff1d(train, validation)
    return Split(
        query=np.sort(query).astype(np.int64),
        train=train,
        database=database.astype(np.int64),
        protocol=dict(params),
        source=source.name,
        source_fingerprint=source.fingerprint(),
        validation=validation,
    )


def drop_items(split, bad_indices, names):
    """A copy of `split` without `bad_indices`; their names are kept in `skipped`."""
    bad = np.asarray(sorted(bad_indices), np.int64)
    keep = lambda part: part[~np.isin(part, bad)].astype(np.int64)  # noqa: E731  (keeps order)
    return dataclasses.replace(
        split, query=keep(split.query), train=keep(split.train),
        database=keep(split.database), validation=keep(split.validation),
        skipped=sorted(split.skipped + list(names)),
    )


def save_split(split, path):
    """Writes the split as JSON with its checksum, atomically (temp file + rename)."""
    record = dict(split._meta())
    record.update(
        query=split.query.tolist(), train=split.train.tolist(),
        database=split.database.tolist(), checksum=split.checksum(),
    )
    if len(split.validation):
        record["validation"] = split.validation.tolist()
    atomic.write_json(path, record)


def load_split(path):
    """Reads a split file, checking that its content matches its checksum."""
    try:
        with open(path) as f:
            record = json.load(f)
        split = Split(
            query=np.asarray(record["query"], np.int64),
            train=np.asarray(record["train"], np.int64),
            database=np.asarray(record["database"], np.int64),
            protocol=record["protocol"], source=record["source"],
            source_fingerprint=record["source_fingerprint"], skipped=record["skipped"],
            validation=np.asarray(record.get("validation", []), np.int64),
        )
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ValueError(f"split file {path} cannot be read ({e}); delete it to redraw") from e
    if split.checksum() != record.get("checksum"):
        raise ValueError(f"split file {path} does not match its checksum: it was modified or damaged")
    return split


def check_split_matches(split, source, params, path):
    """Raises when a saved split was drawn from other data or by another protocol."""
    if split.source_fingerprint != source.fingerprint():
        raise ValueError(
            f"{path} was drawn from other data ({split.source}, fingerprint "
            f"{split.source_fingerprint}) than {source.name} (fingerprint {source.fingerprint()})"
        )
    if split.protocol != params:
        raise ValueError(
            f"{path} was drawn with protocol {split.protocol}, but the config asks for "
            f"{params}; use a new workdir or the same data settings"
        )


def resolve_split(source, data_config, path=None, write=True):
    """The split for this run: reloaded from `path` (a run folder's split.json) when it
    exists, or drawn, checked and saved there (saved only when `write`: a
    multi-worker job's other workers draw the same split and leave the folder to the
    chief).

    Unreadable images are found before training starts: with
    `data_config.skip_corrupt` they are dropped and counted in the log, otherwise
    the error names them. Nothing is written to the workdir on error.
    """
    params = protocol_params(data_config)
    if path and os.path.exists(path):
        split = load_split(path)
        check_split_matches(split, source, params, path)
        logging.info("Reusing split from %s: %s", path, split.summary())
        return split
    if data_config.get("split_file"):
        split = load_split(data_config.split_file)
        check_split_matches(split, source, params, data_config.split_file)
    else:
        split = make_split(source, params)
        items = np.union1d(np.union1d(split.query, split.train), split.database)
        start = time.time()
        bad = source.unreadable(items)
        logging.info("Checked %d images in %.1fs: %d unreadable", len(items),
                     time.time() - start, len(bad))
        if bad:
            names = [source.describe(i) for i in bad]
            if not data_config.skip_corrupt:
                shown = ", ".join(f"{name} ({source.decode_error(i) or 'unreadable'})"
                                  for name, i in zip(names[:5], bad[:5]))
                shown += f" and {len(names) - 5} more" if len(names) > 5 else ""
                raise ValueError(
                    f"{len(names)} image(s) cannot be decoded: {shown}. Fix or remove them, "
                    "or set --config.data.skip_corrupt=True to leave them out"
                )
            logging.warning("Skipping %d unreadable image(s): %s", len(names), names[:20])
            split = drop_items(split, bad, names)
    if path and write:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        save_split(split, path)
    logging.info("Split %s (checksum %s)", split.summary(), split.checksum()[:12])
    return split
