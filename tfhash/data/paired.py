"""Paired image-text sources: `pairs:<file.npz>[@<image root>]`.

One `.npz` file describes the items; a pair (image + text) is one item:

- `labels`: `[n, C]` multi-hot labels (any numeric type; > 0 means present);
- `text` (or `tags`): `[n, V]` bag-of-words (counts or 0/1), read as float32;
- the images, one of:
  - `paths`: `[n]` strings, file paths relative to the image root (or absolute);
  - `ids`: `[n]` integers, the files `image_pattern.format(id=...)` under the image
    root; `image_pattern` is an optional scalar string in the file, default
    `images/im{id}.jpg` (the MIRFlickr layout);
  - `images`: uint8 `[n, H, W, 3]` pixels stored in the file itself;
- optional: `classes` (`[C]` label names), `vocabulary` (`[V]` words), `is_test`
  (`[n]` bool: an official test split).

The image root defaults to the `.npz` file's folder. The MIRFlickr cross-modal mini
in ../shared/data (`mir_cm_mini.npz` + `images/`) is read as it is.
"""

import os
import zipfile

import numpy as np

from tfhash.data import sources

DEFAULT_PATTERN = "images/im{id}.jpg"


class PairedSource(sources.FileSource):
    """Image files with a text bag-of-words per item; `vocabulary` may be None."""

    def __init__(self, name, paths, labels, class_names, text, is_test=None, vocabulary=None):
        super().__init__(name, paths, labels, class_names, is_test, text)
        self.vocabulary = None if vocabulary is None else [str(w) for w in vocabulary]


class PairedArraySource(sources.ArraySource):
    """Pixels stored in the `.npz` with a text bag-of-words per item."""

    def __init__(self, name, images, labels, class_names, text, is_test=None, vocabulary=None):
        super().__init__(name, images, labels, class_names, is_test, text)
        self.vocabulary = None if vocabulary is None else [str(w) for w in vocabulary]


def _array(data, key, path):
    try:
        return data[key]
    except (ValueError, OSError, zipfile.BadZipFile) as e:
        raise ValueError(f"{path}: cannot read {key!r} ({e})") from None


def load_pairs(spec):
    """Reads `file.npz[@image_root]` (see the module docstring)."""
    path, _, root = spec.partition("@")
    if not os.path.isfile(path):
        raise ValueError(f"paired data file {path!r} does not exist")
    root = root or os.path.dirname(os.path.abspath(path))
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise ValueError(f"{path} is not a readable .npz file ({e})") from None
    with data:
        keys = set(data.files)
        text_key = "text" if "text" in keys else "tags" if "tags" in keys else None
        image_keys = [k for k in ("paths", "ids", "images") if k in keys]
        if "labels" not in keys or text_key is None or len(image_keys) != 1:
            raise ValueError(
                f"{path}: a pairs file needs 'labels', 'text' (or 'tags') and exactly one of "
                f"'paths', 'ids' or 'images'; it has {sorted(keys)}")
        labels = _array(data, "labels", path)
        text = _array(data, text_key, path)
        if labels.ndim != 2 or text.ndim != 2 or len(labels) != len(text) or not len(labels):
            raise ValueError(
                f"{path}: labels {labels.shape} and {text_key} {text.shape} must be 2-D with the "
                "same number of rows (at least one)")
        n = len(labels)
        classes = (_array(data, "classes", path).tolist() if "classes" in keys
                   else [f"label{i}" for i in range(labels.shape[1])])
        if len(classes) != labels.shape[1]:
            raise ValueError(f"{path}: {len(classes)} class names for {labels.shape[1]} labels")
        vocabulary = _array(data, "vocabulary", path).tolist() if "vocabulary" in keys else None
        if vocabulary is not None and len(vocabulary) != text.shape[1]:
            raise ValueError(f"{path}: {len(vocabulary)} vocabulary words for {text.shape[1]} "
                             "text columns")
        is_test = _array(data, "is_test", path).astype(bool) if "is_test" in keys else None
        multi_hot = (labels > 0).astype(np.float32)
        kind = image_keys[0]
        if kind == "images":
            images = _array(data, "images", path)
            if len(images) != n:
                raise ValueError(f"{path}: {len(images)} images for {n} items")
            return PairedArraySource(f"pairs:{spec}", images, multi_hot, classes, text, is_test,
                                     vocabulary)
        if kind == "paths":
            relative = [str(p) for p in _array(data, "paths", path)]
        else:
            pattern = str(_array(data, "image_pattern", path)) if "image_pattern" in keys \
                else DEFAULT_PATTERN
            relative = [pattern.format(id=int(i)) for i in _array(data, "ids", path)]
        if len(relative) != n:
            raise ValueError(f"{path}: {len(relative)} images for {n} items")
    paths = [os.path.join(root, p) for p in relative]
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise ValueError(f"{path}: {len(missing)} image file(s) are missing under {root}: {shown}")
    return PairedSource(f"pairs:{spec}", paths, multi_hot, classes, text, is_test, vocabulary)
