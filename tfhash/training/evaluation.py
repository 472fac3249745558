"""Encoding the protocol's queries and database, metrics, report.json and plots."""

import json
import os
import time

import numpy as np
import tensorflow as tf
from absl import logging

from tfhash import data as data_lib
from tfhash import retrieval
from tfhash.training import config_files, figures

REPORT_FILE = "report.json"
CODES_FILE = "codes.npz"


def encode_items(model, source, indices, config, description):
    """Packed uint8 codes and labels of `indices`, in that order.

    Items are read in increasing index order (sources such as TFDS stream in order)
    and the codes are put back in the order of `indices`.
    """

    @tf.function
    def encode(images):
        return retrieval.pack_codes(model.encode(images))

    indices = np.asarray(indices, np.int64)
    order = np.argsort(indices, kind="stable")
    dataset = data_lib.eval_dataset(source, indices[order], config.data.image_size,
                                    config.eval.batch_size)
    codes, labels, start = [], [], time.time()
    for batch in dataset:
        codes.append(encode(batch["image"]).numpy())
        labels.append(batch["label"].numpy())
    codes, labels = np.concatenate(codes), np.concatenate(labels)
    restored = np.empty_like(codes)
    restored[order] = codes
    restored_labels = np.empty_like(labels)
    restored_labels[order] = labels
    logging.info("Encoded %d %s images in %.1fs", len(indices), description, time.time() - start)
    return restored, restored_labels


def _write_json(path, record):
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(record, f, indent=1)
    os.replace(tmp, path)


def _plot(workdir, curves, bits):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    radii, precision, recall = curves["pr"]
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.plot(recall, precision, marker="o", markersize=3)
    for r in range(min(3, len(radii))):
        ax.annotate(f"r={r}", (recall[r], precision[r]), fontsize=7)
    ax.set(xlabel="recall", ylabel="precision", title=f"PR by Hamming radius ({bits} bits)",
           xlim=(0, 1.02), ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(workdir, "pr_curve.png"), dpi=110)
    plt.close(fig)
    ks, values = curves["pn"]
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.plot(ks, values, marker="o", markersize=3)
    ax.set(xlabel="N (top-N returned)", ylabel="precision", title=f"P@N ({bits} bits)",
           xscale="log", ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(workdir, "precision_at_n.png"), dpi=110)
    plt.close(fig)


def evaluate(model, config, source, split, workdir, train_stats=None):
    """Encodes queries and database, computes the metrics, writes the report.

    Returns the report as a dict; also writes report.json, codes.npz,
    pr_curve.png and precision_at_n.png in the workdir.
    """
    query_codes, query_labels = encode_items(model, source, split.query, config, "query")
    db_codes, db_labels = encode_items(model, source, split.database, config, "database")
    start = time.time()
    args = (query_codes, db_codes, query_labels, db_labels)
    map_all = retrieval.mean_average_precision(*args)
    map_k = retrieval.mean_average_precision(*args, top_k=config.eval.top_k)
    radius = retrieval.precision_at_radius(*args, radius=config.eval.radius)
    ks = np.asarray(config.eval.precision_ks)
    p_at_k = retrieval.precision_at_k(*args, ks)
    curves = {"pr": retrieval.precision_recall_curve(*args), "pn": (ks, p_at_k)}
    metrics_seconds = time.time() - start
    stats = dict(train_stats or {})
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
        "map_all": round(float(map_all), 6),
        f"map_at_{config.eval.top_k}": round(float(map_k), 6),
        f"precision_at_radius_{config.eval.radius}": round(radius.precision, 6),
        f"empty_radius_{config.eval.radius}_fraction": round(radius.empty_fraction, 6),
        "precision_at_k": {int(k): round(float(v), 6) for k, v in zip(ks, p_at_k)},
        "epochs": stats.get("epochs"),
        "train_seconds": stats.get("train_seconds"),
        "images_per_second": stats.get("images_per_second"),
        "metrics_seconds": round(metrics_seconds, 2),
        "config_hash": config_files.config_hash(config),
    }
    np.savez_compressed(os.path.join(workdir, CODES_FILE), query_codes=query_codes,
                        query_labels=query_labels, db_codes=db_codes, db_labels=db_labels,
                        query_items=split.query, db_items=split.database)
    _write_json(os.path.join(workdir, REPORT_FILE), report)
    _plot(workdir, curves, config.bits)
    figures.retrieval_figure(os.path.join(workdir, "retrieval.png"), source, split, query_codes, db_codes)
    if hasattr(model, "saliency"):
        figures.saliency_figure(os.path.join(workdir, "saliency.png"), model, source, split,
                                config.data.image_size)
    writer = tf.summary.create_file_writer(os.path.join(workdir, "tensorboard", "eval"))
    with writer.as_default():
        for key in ("map_all", f"map_at_{config.eval.top_k}", f"precision_at_radius_{config.eval.radius}"):
            tf.summary.scalar(key, report[key], step=int(stats.get("step", 0)))
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
    """The short table printed at the end of a run."""
    rows = [
        ("mAP@all", f"{report['map_all']:.4f}"),
        (f"mAP@{top_k}", f"{report[f'map_at_{top_k}']:.4f}"),
        (f"P@r{radius}", f"{report[f'precision_at_radius_{radius}']:.4f}  "
         f"({report[f'empty_radius_{radius}_fraction']:.1%} of queries found nothing)"),
    ]
    if report.get("train_seconds") is not None:
        rate = report.get("images_per_second")
        rows.append(("train time", f"{report['train_seconds']:.1f}s"
                     + (f" ({rate:.0f} images/s)" if rate else "")))
    width = max(len(name) for name, _ in rows)
    header = f"{report['method']} {report['bits']} bits on {report['dataset']} ({report['protocol']['name']})"
    return "\n".join([header] + [f"  {name:<{width}}  {value}" for name, value in rows])
