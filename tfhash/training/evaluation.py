"""Scoring: the protocol's queries and database encoded with the model's encoders,
and the metrics of every evaluation task. Nothing is written here (that is
`training.reporting`), and nothing names a method: what is encoded and scored comes
from the model (`encoders()`, `evaluation_tasks()`).
"""

import dataclasses
import time

import numpy as np
import tensorflow as tf
from absl import logging

from tfhash import data as data_lib
from tfhash import retrieval
from tfhash.training import config_files
from tfhash.training.scores import Report, TaskScores, task_name

PROGRESS_SECONDS = 10.0


@dataclasses.dataclass
class Evaluation:
    """What `evaluate` returns.

    Attributes:
      report: the typed report (`scores.Report`).
      query_codes, db_codes: encoder name -> packed uint8 codes of the queries and of
        the database, in split order.
      query_labels, db_labels: their multi-hot labels.
      curves: task name -> {"pr": (radii, precision, recall), "pn": (ks, precision)}.
      tasks: the (query encoder, database encoder) pairs, the headline first.
    """

    report: Report
    query_codes: dict
    db_codes: dict
    query_labels: np.ndarray
    db_labels: np.ndarray
    curves: dict
    tasks: list


def encode_items(encoders, source, indices, config, description):
    """Packed uint8 codes of `indices` by each encoder, and their labels, in order.

    Args:
      encoders: name -> `contract.Encoder`.

    Returns:
      `(codes, labels)`: name -> uint8 `[n, ceil(code_bits / 8)]`, and `[n, C]`.

    Items are read in increasing index order (sources such as TFDS stream in order)
    and the codes are put back in the order of `indices`.
    """
    functions = {name: tf.function(lambda x, e=encoder: retrieval.pack_codes(e.encode(x)),
                                   reduce_retracing=True)
                 for name, encoder in encoders.items()}
    modalities = sorted({encoder.modality for encoder in encoders.values()})
    indices = np.asarray(indices, np.int64)
    order = np.argsort(indices, kind="stable")
    dataset = data_lib.eval_dataset(source, indices[order], config.data.image_size,
                                    config.eval.batch_size, modalities)
    parts = {name: [] for name in encoders}
    labels, start, last, done = [], time.time(), time.time(), 0
    for batch in dataset:
        for name, encoder in encoders.items():
            parts[name].append(functions[name](batch[encoder.modality]).numpy())
        labels.append(batch["label"].numpy())
        done += len(labels[-1])
        if time.time() - last > PROGRESS_SECONDS:
            last = time.time()
            logging.info("Encoding %s: %d/%d items (%.0f items/s)", description, done,
                         len(indices), done / (last - start))
    codes = {}
    for name, chunks in parts.items():
        codes[name] = np.empty_like(np.concatenate(chunks))
        codes[name][order] = np.concatenate(chunks)
    restored_labels = np.empty_like(np.concatenate(labels))
    restored_labels[order] = np.concatenate(labels)
    logging.info("Encoded %d %s items (%s) in %.1fs", len(indices), description,
                 ", ".join(encoders), time.time() - start)
    return codes, restored_labels


def score_task(query_codes, db_codes, query_labels, db_labels, eval_config, code_bits):
    """`(TaskScores, curves)` of one task's codes."""
    args = (query_codes, db_codes, query_labels, db_labels)
    radius = retrieval.precision_at_radius(*args, radius=eval_config.radius)
    ks = np.asarray(eval_config.precision_ks)
    p_at_k = retrieval.precision_at_k(*args, ks)
    scores = TaskScores(
        map_all=round(float(retrieval.mean_average_precision(*args)), 6),
        map_at_k=round(float(retrieval.mean_average_precision(*args, top_k=eval_config.top_k)), 6),
        top_k=int(eval_config.top_k),
        precision_at_radius=round(radius.precision, 6), radius=int(eval_config.radius),
        empty_radius_fraction=round(radius.empty_fraction, 6),
        precision_at_k={int(k): round(float(v), 6) for k, v in zip(ks, p_at_k)},
        chance_map_all=round(float(retrieval.chance_map(query_labels, db_labels, code_bits)), 6),
        code_health={k: (round(v, 6) if isinstance(v, float) else v)
                     for k, v in retrieval.code_health(db_codes, code_bits).items()})
    curves = {"pr": retrieval.precision_recall_curve(*args), "pn": (ks, p_at_k)}
    return scores, curves


def checked_tasks(model, encoders, tasks=None):
    """The model's evaluation tasks (or `tasks`), each naming two of its encoders."""
    tasks = [tuple(t) for t in (model.evaluation_tasks() if tasks is None else tasks)]
    if not tasks:
        raise ValueError(f"{type(model).__name__} names no tasks to score")
    for task in tasks:
        unknown = [name for name in task if name not in encoders]
        if len(task) != 2 or unknown:
            raise ValueError(f"evaluation task {task} names encoders {unknown} that "
                             f"{type(model).__name__} does not have ({sorted(encoders)})")
    return tasks


def encode_sides(encoders, tasks, source, config, queries, database):
    """`(query codes, labels), (database codes, labels)`: the `queries` items
    (`(indices, description)`) by every task's query encoder and the `database` items by
    every task's database encoder (`encode_items`, each encoder once)."""
    return tuple(encode_items({name: encoders[name] for name in dict.fromkeys(t[side] for t in tasks)},
                              source, items, config, description)
                 for side, (items, description) in enumerate((queries, database)))


def validation_scores(model, config, source, split):
    """mAP@all of the validation draw for every validation task of the model
    (`validation_tasks()`: the headline task, both directions of a cross-modal
    model): validation items (encoded as the task's queries) against the training
    items (its database); `{task name: mAP@all}` in the model's order."""
    encoders = model.encoders()
    tasks = checked_tasks(model, encoders, model.validation_tasks())
    (query_codes, query_labels), (db_codes, db_labels) = encode_sides(
        encoders, tasks, source, config, (split.validation, "validation"),
        (split.train, "training"))
    return {task_name(task): float(retrieval.mean_average_precision(
        query_codes[task[0]], db_codes[task[1]], query_labels, db_labels)) for task in tasks}


def validate(model, config, source, split):
    """The validation draw's score: the mean of `validation_scores` (one task: its
    mAP@all; a cross-modal model: the mean of image->text and text->image, so that a
    setting chosen on it cannot trade one direction away for the other)."""
    return mean_score(validation_scores(model, config, source, split))


def mean_score(scores):
    """The mean of `{task name: mAP@all}` (the validation score of a run)."""
    return float(sum(scores.values()) / len(scores))


def evaluate(model, config, source, split, train_stats=None, validation=()):
    """Encodes queries and database, scores every task; returns an `Evaluation`.

    Args:
      train_stats: the training run's `{"epochs", "train_seconds",
        "images_per_second"}` for the report.
      validation: the run's validation history, for the report.
    """
    encoders = model.encoders()
    tasks = checked_tasks(model, encoders)
    (query_codes, query_labels), (db_codes, db_labels) = encode_sides(
        encoders, tasks, source, config, (split.query, "query"), (split.database, "database"))
    start = time.time()
    blocks, curves = {}, {}
    for task in tasks:
        name = task_name(task)
        blocks[name], curves[name] = score_task(query_codes[task[0]], db_codes[task[1]],
                                                query_labels, db_labels, config.eval,
                                                encoders[task[1]].code_bits)
        logging.info("%s: mAP@all %.4f", name, blocks[name].map_all)
    stats = dict(train_stats or {})
    report = Report(
        method=config.method, dataset=config.data.source, protocol=split.protocol,
        split_checksum=split.checksum()[:16], bits=int(config.bits),
        backbone=config.model.backbone, image_size=int(config.data.image_size),
        num_query=int(len(split.query)), num_train=int(len(split.train)),
        num_database=int(len(split.database)), num_validation=int(len(split.validation)),
        tasks=blocks,
        encoders={name: {"modality": e.modality, "code_bits": int(e.code_bits),
                         "distance": e.distance} for name, e in encoders.items()},
        epochs=stats.get("epochs"), train_seconds=stats.get("train_seconds"),
        images_per_second=stats.get("images_per_second"),
        metrics_seconds=round(time.time() - start, 2), config_hash=config_files.config_hash(config),
        validation=list(validation))
    return Evaluation(report, query_codes, db_codes, query_labels, db_labels, curves, tasks)
