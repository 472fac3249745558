"""Writing an evaluation into the run folder (report.json, codes.npz, TensorBoard,
the figures) and the short table printed at the end of a run."""

import os

import numpy as np
import tensorflow as tf

from tfhash import atomic
from tfhash import data as data_lib
from tfhash.training import figures, scores
from tfhash.training import workdir as workdir_lib


def write_codes(path, evaluation, split):
    """codes.npz: the first task's query and database codes (`query_codes`,
    `db_codes`), every encoder's (`query_<name>_codes`, `db_<name>_codes`), the
    labels and the items' source indices, atomically."""
    query, database = evaluation.tasks[0]
    arrays = dict(query_codes=evaluation.query_codes[query], db_codes=evaluation.db_codes[database],
                  query_labels=evaluation.query_labels, db_labels=evaluation.db_labels,
                  query_items=split.query, db_items=split.database)
    arrays.update({f"query_{name}_codes": c for name, c in evaluation.query_codes.items()})
    arrays.update({f"db_{name}_codes": c for name, c in evaluation.db_codes.items()})
    with atomic.atomic_write(path, "wb") as f:
        np.savez_compressed(f, **arrays)


def write_tensorboard(folder, report, step):
    """The headline metrics of every task as TensorBoard scalars (`eval` logs)."""
    writer = tf.summary.create_file_writer(folder)
    first = next(iter(report.tasks))
    with writer.as_default():
        for name, task in report.tasks.items():
            prefix = "" if name == first else f"{name}/"
            for key, value in (("map_all", task.map_all), (f"map_at_{task.top_k}", task.map_at_k),
                               (f"precision_at_radius_{task.radius}", task.precision_at_radius)):
                tf.summary.scalar(prefix + key, value, step=step)
    writer.close()


def write(workdir, evaluation, model, config, source, split, step=None):
    """Everything an evaluation leaves in the run folder; returns report.json's content.

    Writes codes.npz, report.json (with the folder's validation history), the PR and
    P@N plots of every task, retrieval.png and the method's own figures
    (`figure_maps`), and the TensorBoard scalars."""
    report = evaluation.report
    report.validation = workdir.validation_history()
    write_codes(workdir.file(workdir_lib.CODES_FILE), evaluation, split)
    record = report.to_json()
    atomic.write_json(workdir.file(workdir_lib.REPORT_FILE), record, indent=1)
    for i, task in enumerate(evaluation.tasks):
        name = scores.task_name(task)
        suffix = "" if i == 0 else f"_{task[0]}-{task[1]}"
        figures.curves_figures(workdir.path, evaluation.curves[name], config.bits, name, suffix)
    query, database = evaluation.tasks[0]
    figures.retrieval_figure(workdir.file("retrieval.png"), source, split,
                             evaluation.query_codes[query], evaluation.db_codes[database],
                             scores.task_name(evaluation.tasks[0]))
    images = data_lib.item_images(source, split.query[figures.query_picks(split, 8)],
                                  config.data.image_size)
    for name, maps in model.figure_maps(images).items():
        figures.maps_figure(workdir.file(f"{name}.png"), images, maps)
    if step is None:
        step = (report.epochs or 0) * (len(split.train) // config.train.batch_size)
    write_tensorboard(workdir.tensorboard("eval"), report, step)
    return record


def previous_training_rate(workdir):
    """images/s of the training run recorded in the folder's report, if any."""
    path = workdir.file(workdir_lib.REPORT_FILE)
    try:
        return scores.load_report(path).images_per_second if os.path.exists(path) else None
    except (OSError, ValueError, KeyError, StopIteration):
        return None


def format_table(report):
    """The short table printed at the end of a run: every task's metrics (`report` a
    `scores.Report` or report.json's content)."""
    if isinstance(report, dict):
        report = scores.Report.from_json(report)
    rows = []
    for name, task in report.tasks.items():
        label = "" if len(report.tasks) == 1 else f" {name}"
        rows += [
            (f"mAP@all{label}", f"{task.map_all:.4f}"),
            (f"mAP@{task.top_k}{label}", f"{task.map_at_k:.4f}"),
            (f"P@r{task.radius}{label}", f"{task.precision_at_radius:.4f}  "
             f"({task.empty_radius_fraction:.1%} of queries found nothing)"),
        ]
        if task.chance_map_all is not None:
            rows.append((f"chance{label}", f"{task.chance_map_all:.4f}  (mAP@all of random codes)"))
        health = task.code_health
        if health:
            correlation = health["mean_abs_bit_correlation"]
            rows.append((f"codes{label}", (
                f"balance {health['bit_balance']:.3f}, |corr| "
                + ("n/a" if correlation is None else f"{correlation:.3f}")
                + f", {health['constant_bits']} constant bits, {health['distinct_codes']:,} "
                f"distinct, largest bucket {health['largest_bucket_share']:.1%}")))
    if report.validation:
        last = report.validation[-1]
        each = "".join(f", {name} {value:.4f}" for name, value in last.get("tasks", {}).items())
        rows.append(("validation", f"{last['map_all']:.4f}  (mAP@all after epoch {last['epoch']}"
                     + (f": the mean of{each[1:]}" if each else "") + ")"))
    if report.train_seconds is not None:
        rate = report.images_per_second
        rows.append(("train time", f"{report.train_seconds:.1f}s"
                     + (f" ({rate:.0f} images/s)" if rate else "")))
    width = max(len(name) for name, _ in rows)
    header = f"{report.method} {report.bits} bits on {report.dataset} ({report.protocol['name']})"
    return "\n".join([header] + [f"  {name:<{width}}  {value}" for name, value in rows])
