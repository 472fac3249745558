"""Sources by name: the spec strings of `config.data.source`.

- ``digits``: scikit-learn's bundled handwritten digits (the embedded default),
- ``digits_pairs``: the same digits, each with a noisy bag of tags (the embedded
  cross-modal demo; tfhash.data.paired.load_digits_pairs),
- ``folder:<path>``: one subfolder per class, with ``train/`` and ``test/`` kept,
- ``list:<file>[@<image_root>]``: ``relative/path.jpg 0 1 0 ...`` per line, or a
  ``.csv`` file with a header and columns ``file,label[,class_name]``,
- ``tfds:<name>``: a TensorFlow Datasets image set (all its splits),
- ``pairs:<file.npz>[@<image_root>]``: paired image-text items (tfhash.data.paired),
- ``mat:<file.mat>[,<file.mat>...]``: DCMH-style MATLAB files with images, tags and
  labels (IAll / YAll / LAll; v5 or v7.3; tfhash.data.mat_source),
- ``patches``: synthetic noise images whose class is a coloured square,
- ``patch_pairs``: the same images with a noisy bag-of-words text per item
  (tfhash.data.synthetic; checks attention and cross-modal plumbing).
"""

from tfhash.data import sources

SPECS = ("digits", "digits_pairs", "patches", "patch_pairs", "folder:<path>", "list:<file>[@<image_root>]",
         "tfds:<name>", "pairs:<file.npz>[@<image_root>]", "mat:<file.mat>[,<file.mat>...]")


def load_source(spec, digits_size=32):
    """Makes the Source named by `spec` (see the module docstring)."""
    if spec == "digits":
        return sources.load_digits(digits_size)
    if spec == "digits_pairs":
        from tfhash.data import paired

        return paired.load_digits_pairs(digits_size)
    if spec in ("patches", "patch_pairs"):
        from tfhash.data import synthetic

        make = synthetic.colour_patches if spec == "patches" else synthetic.colour_patch_pairs
        return make()[0]
    kind, sep, rest = str(spec).partition(":")
    if sep and rest:
        if kind == "folder":
            return sources.load_folder(rest)
        if kind == "list":
            return sources.load_list(rest)
        if kind == "mat":
            from tfhash.data import mat_source

            return mat_source.load_mat(rest)
        if kind == "pairs":
            from tfhash.data import paired

            return paired.load_pairs(rest)
        if kind == "tfds":
            from tfhash.data import tfds_source

            return tfds_source.load_tfds(rest)
    raise ValueError(f"unknown data source {spec!r}; expected one of {', '.join(SPECS)}")
