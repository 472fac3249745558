"""Encoding the protocol's queries and database with the model's encoders, metrics
per evaluation task, report.json, codes.npz and figures.

What is encoded and scored comes from the model (`encoders()`,
`evaluation_tasks()`, `figure_maps()`); nothing here names a method. The report
holds one block of metrics per task under "tasks"; the first task's metrics are
also at the top level, so tables written for image->image methods keep working.
"""

import json
import os
import time

import numpy as np
import tensorflow as tf
from absl import logging

from tfhash import atomic
from tfhash import data as data_lib
from tfhash import retrieval
from tfhash.training import config_files, figures

REPORT_FILE = "report.json"
CODES_FILE = "codes.npz"
VALIDATION_FILE = "validation.json"
PROGRESS_SECONDS = 10.0


def task_name(task):
    """("image", "text") -> "image->text"."""
    return f"{task[0]}->{task[1]}"


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


def _task_metrics(query_codes, db_codes, query_labels, db_labels, config, code_bits):
    args = (query_codes, db_codes, query_labels, db_labels)
    radius = retrieval.precision_at_radius(*args, radius=config.eval.radius)
    ks = np.asarray(config.eval.precision_ks)
    p_at_k = retrieval.precision_at_k(*args, ks)
    metrics = {
        "map_all": round(float(retrieval.mean_average_precision(*args)), 6),
        f"map_at_{config.eval.top_k}": round(float(retrieval.mean_average_precision(
            *args, top_k=config.eval.top_k)), 6),
        f"precision_at_radius_{config.eval.radius}": round(radius.precision, 6),
        f"empty_radius_{config.eval.radius}_fraction": round(radius.empty_fraction, 6),
        "precision_at_k": {int(k): round(float(v), 6) for k, v in zip(ks, p_at_k)},
        "chance_map_all": round(float(retrieval.chance_map(query_labels, db_labels, code_bits)), 6),
        "code_health": {k: (round(v, 6) if isinstance(v, float) else v)
                        for k, v in retrieval.code_health(db_codes, code_bits).items()},
    }
    curves = {"pr": retrieval.precision_recall_curve(*args), "pn": (ks, p_at_k)}
    return metrics, curves


def _plot(workdir, curves, bits, task, suffix):
    plt = figures._pyplot()
    radii, precision, recall = curves["pr"]
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.plot(recall, precision, marker="o", markersize=3)
    for r in range(min(3, len(radii))):
        ax.annotate(f"r={r}", (recall[r], precision[r]), fontsize=7)
    ax.set(xlabel="recall", ylabel="precision", title=f"{task}: PR by Hamming radius ({bits} bits)",
           xlim=(0, 1.02), ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(workdir, f"pr_curve{suffix}.png"), dpi=110)
    plt.close(fig)
    ks, values = curves["pn"]
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.plot(ks, values, marker="o", markersize=3)
    ax.set(xlabel="N (top-N returned)", ylabel="precision", title=f"{task}: P@N ({bits} bits)",
           xscale="log", ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(workdir, f"precision_at_n{suffix}.png"), dpi=110)
    plt.close(fig)


def _checked_tasks(model, encoders):
    tasks = [tuple(t) for t in model.evaluation_tasks()]
    if not tasks:
        raise ValueError(f"{type(model).__name__}.evaluation_tasks() is empty")
    for task in tasks:
        unknown = [name for name in task if name not in encoders]
        if len(task) != 2 or unknown:
            raise ValueError(f"evaluation task {task} names encoders {unknown} that "
                             f"{type(model).__name__} does not have ({sorted(encoders)})")
    return tasks


def validate(model, config, source, split):
    """mAP@all of the validation draw: validation items (encoded as the first task's
    queries) against the training items (its database)."""
    encoders = model.encoders()
    query, database = _checked_tasks(model, encoders)[0]
    query_codes, query_labels = encode_items({query: encoders[query]}, source, split.validation,
                                             config, "validation")
    db_codes, db_labels = encode_items({database: encoders[database]}, source, split.train,
                                       config, "training")
    return float(retrieval.mean_average_precision(query_codes[query], db_codes[database],
                                                  query_labels, db_labels))


def validation_history(workdir):
    """[{"epoch", "map_all"}, ...] recorded in the workdir (empty when none)."""
    try:
        with open(os.path.join(workdir, VALIDATION_FILE)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return []


def record_validation(workdir, epoch, map_all):
    """Adds (or replaces) the validation mAP of `epoch` in the workdir's history."""
    history = [h for h in validation_history(workdir) if h["epoch"] != epoch]
    history.append({"epoch": int(epoch), "map_all": round(float(map_all), 6)})
    atomic.write_json(os.path.join(workdir, VALIDATION_FILE), sorted(history, key=lambda h: h["epoch"]),
                      indent=1)
    return history


def evaluate(model, config, source, split, workdir, train_stats=None):
    """Encodes queries and database, scores every task, writes the report.

    Returns the report as a dict; also writes report.json, codes.npz, the PR and
    P@N plots per task, retrieval.png and the method's own figures in the workdir.
    """
    encoders = model.encoders()
    tasks = _checked_tasks(model, encoders)
    query_codes, query_labels = encode_items(
        {q: encoders[q] for q in dict.fromkeys(q for q, _ in tasks)}, source, split.query,
        config, "query")
    db_codes, db_labels = encode_items(
        {d: encoders[d] for d in dict.fromkeys(d for _, d in tasks)}, source, split.database,
        config, "database")
    start = time.time()
    blocks, curves = {}, {}
    for task in tasks:
        name = task_name(task)
        blocks[name], curves[name] = _task_metrics(query_codes[task[0]], db_codes[task[1]],
                                                   query_labels, db_labels, config,
                                                   encoders[task[1]].code_bits)
        logging.info("%s: mAP@all %.4f", name, blocks[name]["map_all"])
    metrics_seconds = time.time() - start
    stats = dict(train_stats or {})
    first, first_name = tasks[0], task_name(tasks[0])
    report = {
        "method": config.method,
        "dataset": config.data.source,
        "protocol": split.protocol,
        "split_checksum": split.checksum()[:16],
        "bits": int(config.bits),
        "backbone": config.model.backbone,
        "image_size": int(config.data.image_size),
        "num_query": int(len(split.query)),
        "num_train": int(len(split.train)),
        "num_database": int(len(split.database)),
        "num_validation": int(len(split.validation)),
        **blocks[first_name],
        "tasks": blocks,
        "encoders": {name: {"modality": e.modality, "code_bits": int(e.code_bits),
                            "distance": e.distance} for name, e in encoders.items()},
        "epochs": stats.get("epochs"),
        "train_seconds": stats.get("train_seconds"),
        "images_per_second": stats.get("images_per_second"),
        "metrics_seconds": round(metrics_seconds, 2),
        "config_hash": config_files.config_hash(config),
        "validation": validation_history(workdir),
    }
    arrays = dict(query_codes=query_codes[first[0]], db_codes=db_codes[first[1]],
                  query_labels=query_labels, db_labels=db_labels,
                  query_items=split.query, db_items=split.database)
    arrays.update({f"query_{name}_codes": c for name, c in query_codes.items()})
    arrays.update({f"db_{name}_codes": c for name, c in db_codes.items()})
    with atomic.atomic_write(os.path.join(workdir, CODES_FILE), "wb") as f:
        np.savez_compressed(f, **arrays)
    atomic.write_json(os.path.join(workdir, REPORT_FILE), report, indent=1)
    for i, task in enumerate(tasks):
        suffix = "" if i == 0 else f"_{task[0]}-{task[1]}"
        _plot(workdir, curves[task_name(task)], config.bits, task_name(task), suffix)
    figures.retrieval_figure(os.path.join(workdir, "retrieval.png"), source, split,
                             query_codes[first[0]], db_codes[first[1]], first_name)
    picks = figures.query_picks(split, 8)
    images = figures.item_images(source, split.query[picks], config.data.image_size)
    for name, maps in model.figure_maps(images).items():
        figures.maps_figure(os.path.join(workdir, f"{name}.png"), images, maps)
    writer = tf.summary.create_file_writer(os.path.join(workdir, "tensorboard", "eval"))
    with writer.as_default():
        for name, block in blocks.items():
            prefix = "" if name == first_name else f"{name}/"
            for key in ("map_all", f"map_at_{config.eval.top_k}",
                        f"precision_at_radius_{config.eval.radius}"):
                tf.summary.scalar(prefix + key, block[key], step=int(stats.get("step", 0)))
    writer.close()
    return report


def previous_training_rate(workdir):
    """images/s of the training run recorded in the workdir's report, if any."""
    try:
        with open(os.path.join(workdir, REPORT_FILE)) as f:
            return json.load(f).get("images_per_second")
    except (OSError, ValueError):
        return None


def format_table(report, top_k, radius):
    """The short table printed at the end of a run: every task's metrics."""
    tasks = report.get("tasks") or {"image->image": report}
    rows = []
    for name, block in tasks.items():
        label = "" if len(tasks) == 1 else f" {name}"
        rows += [
            (f"mAP@all{label}", f"{block['map_all']:.4f}"),
            (f"mAP@{top_k}{label}", f"{block[f'map_at_{top_k}']:.4f}"),
            (f"P@r{radius}{label}", f"{block[f'precision_at_radius_{radius}']:.4f}  "
             f"({block[f'empty_radius_{radius}_fraction']:.1%} of queries found nothing)"),
        ]
        if "chance_map_all" in block:
            rows.append((f"chance{label}", f"{block['chance_map_all']:.4f}  (mAP@all of random codes)"))
        health = block.get("code_health")
        if health:
            correlation = health["mean_abs_bit_correlation"]
            rows.append((f"codes{label}", (
                f"balance {health['bit_balance']:.3f}, |corr| "
                + ("n/a" if correlation is None else f"{correlation:.3f}")
                + f", {health['constant_bits']} constant bits, {health['distinct_codes']:,} "
                f"distinct, largest bucket {health['largest_bucket_share']:.1%}")))
    if report.get("validation"):
        last = report["validation"][-1]
        rows.append(("validation", f"{last['map_all']:.4f}  (mAP@all after epoch {last['epoch']})"))
    if report.get("train_seconds") is not None:
        rate = report.get("images_per_second")
        rows.append(("train time", f"{report['train_seconds']:.1f}s"
                     + (f" ({rate:.0f} images/s)" if rate else "")))
    width = max(len(name) for name, _ in rows)
    header = f"{report['method']} {report['bits']} bits on {report['dataset']} ({report['protocol']['name']})"
    return "\n".join([header] + [f"  {name:<{width}}  {value}" for name, value in rows])
