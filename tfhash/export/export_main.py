"""tfhash-export: write a SavedModel version of a trained workdir for TF Serving.

  tfhash-export --workdir=RUN [--export_dir=DIR] [--version=N] [--with_index]

DIR defaults to RUN/export; N to the next free version. --with_index stores the
run's database codes (RUN/codes.npz, written by tfhash-train / tfhash-eval) for the
search signatures, with the source item numbers as ids.
"""

import os

from absl import app, flags

from tfhash import cli

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None, "A tfhash-train workdir.")
flags.DEFINE_string("export_dir", None, "Model base path (default: WORKDIR/export).")
flags.DEFINE_integer("version", None, "Version number (default: the next free one).")
flags.DEFINE_bool("with_index", False, "Add search signatures over the database codes.")
flags.DEFINE_string("image_encoder", "image",
                    "The model's encoder to serve as the image signatures (e.g. DAgH's "
                    "image_stream1).")
flags.mark_flag_as_required("workdir")


def stored_databases(workdir, encoder_names):
    """Database encoder name -> (packed codes, item ids) from the workdir's codes.npz."""
    import numpy as np

    from tfhash.training import workdir as workdir_lib

    path = workdir_lib.Workdir(workdir).file(workdir_lib.CODES_FILE)
    if not os.path.exists(path):
        raise ValueError(f"--with_index needs {path}; run tfhash-eval first")
    with np.load(path) as codes:
        found = {name: (codes[f"db_{name}_codes"], codes["db_items"])
                 for name in encoder_names if f"db_{name}_codes" in codes.files}
    if not found:
        raise ValueError(f"{path} holds no database codes of the encoders {sorted(encoder_names)} "
                         "(written by an older tfhash?); run tfhash-eval to rewrite it")
    return found


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    from tfhash.training import config_files

    with cli.one_line_errors("tfhash-export"):
        config = config_files.load_workdir_config(FLAGS.workdir, configure_devices=True)
        from tfhash import data, export
        from tfhash.training import strategy as strategy_lib
        from tfhash.training import workdir as workdir_lib

        strategy = strategy_lib.make_strategy(config.num_cpu_replicas)
        model, source, split, _ = workdir_lib.restore(FLAGS.workdir, strategy, config)
        databases = stored_databases(FLAGS.workdir, model.encoders()) if FLAGS.with_index else None
        warmup = data.item_images(source, split.query[:3], config.data.image_size)
        target = export.export(
            model, FLAGS.export_dir or os.path.join(FLAGS.workdir, workdir_lib.EXPORT_DIR),
            FLAGS.version, databases, warmup_images=warmup, image_encoder=FLAGS.image_encoder,
            vocabulary=getattr(source, "vocabulary", None))
    print(f"exported {target}")


def run():
    app.run(main)


if __name__ == "__main__":
    run()
