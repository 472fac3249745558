"""tfhash-train: train, checkpoint, evaluate and report.

  tfhash-train --config=configs/dpsh_cifar10.py --workdir=/tmp/run [--config.bits=48]

Rerunning the same command resumes from the workdir's last checkpoint.
"""

import sys

from absl import app, flags, logging

from tfhash.training import config_files

FLAGS = flags.FLAGS


def _define_flags():
    from ml_collections import config_flags

    config_flags.DEFINE_config_file("config", None, "Config file (configs/*.py).", lock_config=True)
    flags.DEFINE_string("workdir", None, "Directory for checkpoints, logs and the report.")
    flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    config = FLAGS.config
    # Logical CPU devices must exist before TensorFlow initialises.
    from tfhash.training import strategy

    try:
        if strategy.num_workers() > 1:
            # MultiWorkerMirroredStrategy must exist before TensorFlow runs anything.
            strategy.make_strategy(config.num_cpu_replicas)
        else:
            strategy.configure_cpu_replicas(config.num_cpu_replicas)
    except ValueError as e:
        print(f"tfhash-train: error: {e}", file=sys.stderr)
        sys.exit(1)
    from tfhash.training import evaluation, loop

    import tensorflow as tf

    try:
        report = loop.train_and_evaluate(config, FLAGS.workdir)
    except (ValueError, OSError, loop.TrainingDiverged, loop.CheckpointWriteError) as e:
        logging.error("%s", e)
        print(f"tfhash-train: error: {e}", file=sys.stderr)
        sys.exit(1)
    except tf.errors.OpError as e:
        if strategy.num_workers() <= 1:
            raise
        # a peer died or became unreachable: the collectives abort on every worker
        first = str(e.message).strip().splitlines()[0][:300]
        message = (f"the multi-worker job stopped: another worker failed or became unreachable "
                   f"({type(e).__name__}: {first}). The workdir keeps its last checkpoint; start "
                   "the same command on every worker again to resume from it")
        logging.error("%s", message)
        print(f"tfhash-train: error: {message}", file=sys.stderr)
        sys.exit(1)
    if report is None:  # a multi-worker job's other workers: the chief reports
        print(f"tfhash-train: {strategy.task_name(strategy.make_strategy(config.num_cpu_replicas))} "
              f"done; the chief wrote {FLAGS.workdir}/{evaluation.REPORT_FILE}")
        return
    print(evaluation.format_table(report, config.eval.top_k, config.eval.radius))
    print(f"report: {FLAGS.workdir}/{evaluation.REPORT_FILE} (plots and TensorBoard logs beside it)")


def run():
    config_files.add_config_package_to_path(sys.argv)
    _define_flags()
    try:
        app.run(main)
    except AttributeError as e:  # ml_collections: --config.<field> names no field
        field = str(e).strip("'\"")
        named = [a.split("=", 1)[0] for a in sys.argv[1:]
                 if a.startswith("--config.") and field in a.split("=", 1)[0].split(".")]
        print(f"tfhash-train: error: {' '.join(named) or '--config.*'} names no config field "
              f"({field!r} is unknown); configs/default.py lists every field", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    run()
