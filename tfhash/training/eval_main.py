"""tfhash-eval: re-evaluate the latest checkpoint of a workdir.

  tfhash-eval --workdir=/tmp/run
"""

import sys

from absl import app, flags, logging

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None, "A tfhash-train workdir.")
flags.mark_flag_as_required("workdir")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    from tfhash.training import config_files

    try:
        config = config_files.load_workdir_config(FLAGS.workdir, configure_devices=True)
        from tfhash.training import evaluation, loop

        model, source, split, stats = loop.restore_for_eval(config, FLAGS.workdir)
        stats["images_per_second"] = evaluation.previous_training_rate(FLAGS.workdir)
        report = evaluation.evaluate(model, config, source, split, FLAGS.workdir, stats)
    except ValueError as e:
        logging.error("%s", e)
        print(f"tfhash-eval: error: {e}", file=sys.stderr)
        sys.exit(1)
    print(evaluation.format_table(report, config.eval.top_k, config.eval.radius))
    print(f"report: {FLAGS.workdir}/{evaluation.REPORT_FILE}")


def run():
    app.run(main)


if __name__ == "__main__":
    run()
