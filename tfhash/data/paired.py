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


# The words a digit's tags are drawn from: its name, and what it looks like or is.
_DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_DIGIT_TRAITS = {
    "even": (0, 2, 4, 6, 8), "odd": (1, 3, 5, 7, 9), "prime": (2, 3, 5, 7),
    "small": (0, 1, 2, 3, 4), "large": (5, 6, 7, 8, 9), "loop": (0, 6, 8, 9),
    "straight": (1, 4, 7), "curve": (2, 3, 5), "handwritten": tuple(range(10)),
}
_FILLER = ("ink", "paper", "scan", "pen", "sample", "note", "mark", "blot", "grey", "square")


def load_digits_pairs(size=32, seed=0):
    """scikit-learn's digits (`sources.load_digits`) paired with a text per item: an
    embedded image-text set for the cross-modal demo, with no download.

    Each digit's tags are drawn, like the noisy tags of a photo-sharing site: its name
    with probability 0.6, each true trait (even/odd, prime, small/large, loop,
    straight, curve) with probability 0.5, two filler words that say nothing about
    the digit, and with probability 0.1 a wrong name. The vocabulary (29 words) is
    kept, so `encode_tags` serves text queries by word.
    """
    digits = sources.load_digits(size)
    classes = digits.labels.argmax(axis=1)
    vocabulary = list(_DIGIT_WORDS) + list(_DIGIT_TRAITS) + list(_FILLER)
    column = {word: i for i, word in enumerate(vocabulary)}
    rng = np.random.default_rng([seed, 17])
    text = np.zeros((len(classes), len(vocabulary)), np.float32)
    for row, digit in enumerate(classes):
        if rng.random() < 0.6:
            text[row, digit] = 1
        for trait, members in _DIGIT_TRAITS.items():
            if digit in members and trait != "handwritten" and rng.random() < 0.5:
                text[row, column[trait]] = 1
        text[row, column["handwritten"]] = 1
        for word in rng.choice(_FILLER, 2, replace=False):
            text[row, column[word]] = 1
        if rng.random() < 0.1:
            text[row, int(rng.integers(0, 10))] = 1
    return PairedArraySource("digits_pairs", digits.array, digits.labels, digits.class_names, text,
                             vocabulary=vocabulary)
