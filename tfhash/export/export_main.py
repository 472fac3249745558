"""tfhash-export: write a SavedModel version of a trained workdir for TF Serving.

  tfhash-export --workdir=RUN [--export_dir=DIR] [--version=N] [--with_index]

DIR defaults to RUN/export; N to the next free version. --with_index stores the
run's database codes (RUN/codes.npz, written by tfhash-train / tfhash-eval) for the
`search` signature, with the source item numbers as ids.
"""

import os
import sys

from absl import app, flags, logging

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None, "A tfhash-train workdir.")
flags.DEFINE_string("export_dir", None, "Model base path (default: WORKDIR/export).")
flags.DEFINE_integer("version", None, "Version number (default: the next free one).")
flags.DEFINE_bool("with_index", False, "Add the `search` signature over the database codes.")
flags.mark_flag_as_required("workdir")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    from tfhash.training import config_files

    try:
        config = config_files.load_workdir_config(FLAGS.workdir, configure_devices=True)
        import numpy as np

        from tfhash import export
        from tfhash.training import evaluation, loop

        database = None
        if FLAGS.with_index:
            path = os.path.join(FLAGS.workdir, evaluation.CODES_FILE)
            if not os.path.exists(path):
                raise ValueError(f"--with_index needs {path}; run tfhash-eval first")
            with np.load(path) as codes:
                database = (codes["db_codes"], codes["db_items"])
        model, source, split, _ = loop.restore_for_eval(config, FLAGS.workdir)
        from tfhash.data import pipeline

        size = config.data.image_size
        warmup = np.stack([pipeline.resize(image, size).numpy()
                           for image in source.images(np.sort(split.query[:3]))])
        target = export.export(model, config.data.image_size,
                               FLAGS.export_dir or os.path.join(FLAGS.workdir, "export"),
                               FLAGS.version, database, warmup_images=warmup)
    except ValueError as e:
        logging.error("%s", e)
        print(f"tfhash-export: error: {e}", file=sys.stderr)
        sys.exit(1)
    print(f"exported {target}")


def run():
    app.run(main)


if __name__ == "__main__":
    run()
