"""tfhash-eval: re-evaluate the latest checkpoint of a workdir.

  tfhash-eval --workdir=/tmp/run
"""

from absl import app, flags

from tfhash import cli

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None, "A tfhash-train workdir.")
flags.mark_flag_as_required("workdir")
PROGRAM = "tfhash-eval"


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    from tfhash.training import config_files

    with cli.one_line_errors(PROGRAM):
        config = config_files.load_workdir_config(FLAGS.workdir, configure_devices=True)
        from tfhash.training import evaluation, reporting
        from tfhash.training import strategy as strategy_lib
        from tfhash.training import workdir as workdir_lib

        folder = workdir_lib.Workdir(FLAGS.workdir)
        strategy = strategy_lib.make_strategy(config.num_cpu_replicas)
        model, source, split, stats = workdir_lib.restore(folder, strategy, config)
        stats["images_per_second"] = reporting.previous_training_rate(folder)
        from tfhash.training import trunks

        inputs = trunks.map_source(model, config, source, split)
        result = evaluation.evaluate(model, config, inputs, split, stats)
        report = reporting.write(folder, result, model, config, source, split, stats["step"])
    print(reporting.format_table(report))
    print(f"report: {FLAGS.workdir}/report.json")


def run():
    app.run(main)


if __name__ == "__main__":
    run()
