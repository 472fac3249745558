"""tfhash-train: train, checkpoint, evaluate and report.

  tfhash-train --config=configs/dpsh_cifar10.py --workdir=/tmp/run [--config.bits=48]

Rerunning the same command resumes from the workdir's last checkpoint.
"""

import sys

from absl import app, flags, logging

from tfhash import cli
from tfhash.training import config_files

FLAGS = flags.FLAGS
PROGRAM = "tfhash-train"


def _define_flags():
    from ml_collections import config_flags

    config_flags.DEFINE_config_file("config", None, "Config file (configs/*.py).", lock_config=True)
    flags.DEFINE_string("workdir", None, "Directory for checkpoints, logs and the report.")
    flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    config = FLAGS.config
    # Logical CPU devices must exist before TensorFlow initialises, and the
    # multi-worker strategy before TensorFlow runs anything: the strategy is made
    # first, once, and passed down.
    from tfhash.training import strategy as strategy_lib

    with cli.one_line_errors(PROGRAM):
        if strategy_lib.num_workers() <= 1:
            strategy_lib.configure_cpu_replicas(config.num_cpu_replicas)
        strategy = strategy_lib.make_strategy(config.num_cpu_replicas)
    import tensorflow as tf

    from tfhash.training import loop, reporting
    from tfhash import ops

    if strategy_lib.is_chief(strategy):  # the chief evaluates: the op is ready by then
        ops.build_in_background()

    try:
        with cli.one_line_errors(PROGRAM, ValueError, OSError, loop.TrainingDiverged,
                                 loop.CheckpointWriteError):
            report = loop.train_and_evaluate(config, FLAGS.workdir, strategy=strategy)
    except tf.errors.OpError as e:
        if strategy_lib.num_workers() <= 1:
            raise
        # a peer died or became unreachable: the collectives abort on every worker
        first = str(e.message).strip().splitlines()[0][:300]
        cli.fail(PROGRAM, f"the multi-worker job stopped: another worker failed or became "
                          f"unreachable ({type(e).__name__}: {first}). The workdir keeps its last "
                          "checkpoint; start the same command on every worker again to resume "
                          "from it")
    if report is None:  # a multi-worker job's other workers: the chief reports
        print(f"{PROGRAM}: {strategy_lib.task_name(strategy)} done; the chief wrote "
              f"{FLAGS.workdir}/report.json")
        return
    print(reporting.format_table(report))
    print(f"report: {FLAGS.workdir}/report.json (plots and TensorBoard logs beside it)")


def _unknown_field(error):
    """The one-line error for a --config.<field> that names no field (ml_collections
    raises AttributeError), naming the new field of a renamed one."""
    from tfhash import methods

    field = str(error).strip("'\"")
    named = [a.split("=", 1)[0] for a in sys.argv[1:]
             if a.startswith("--config.") and field in a.split("=", 1)[0].split(".")]
    for flag in named:
        if flag[len("--config."):] in methods.RENAMED:
            return methods.renamed_message(flag[len("--config."):])
    return (f"{' '.join(named) or '--config.*'} names no config field ({field!r} is unknown); "
            "configs/default.py lists every field")


def run():
    config_files.add_config_package_to_path(sys.argv)
    _define_flags()
    try:
        app.run(main)
    except AttributeError as e:  # ml_collections: --config.<field> names no field
        logging.error("%s", e)
        print(f"{PROGRAM}: error: {_unknown_field(e)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    run()
