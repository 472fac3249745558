"""Data sources: where images (and texts) and labels come from, before any protocol split.

Every source describes N items with multi-hot labels `[N, C]`, optionally a text
bag-of-words `[N, V]` per item and an official train/test flag, and turns any
subset of item indices into a `tf.data` of raw images. The spec strings that name
sources are read by `tfhash.data.registry.load_source`.
"""

import hashlib
import os

import numpy as np
import tensorflow as tf

from tfhash.data import preprocess, tuning

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")


class Source:
    """Items of a data set: labels (and texts) for all of them, images on demand.

    Attributes:
      name: the spec string the source was made from.
      labels: float32 multi-hot `[N, C]`.
      class_names: list of C names.
      is_test: bool `[N]` (the source's official test split) or None.
      text: float32 bag-of-words `[N, V]` (paired image-text data) or None.
    """

    def __init__(self, name, labels, class_names, is_test=None, text=None):
        self.name = name
        self.labels = np.asarray(labels, np.float32)
        if self.labels.ndim != 2:
            raise ValueError(f"labels must be multi-hot [N, C], got shape {self.labels.shape}")
        self.class_names = list(class_names)
        self.is_test = None if is_test is None else np.asarray(is_test, bool)
        self.text = None
        if text is not None:
            text = np.asarray(text, np.float32)
            if text.ndim != 2 or text.shape[0] != self.labels.shape[0] or text.shape[1] == 0:
                raise ValueError(
                    f"text must be a bag-of-words [N={self.labels.shape[0]}, V>0], got shape "
                    f"{text.shape}")
            if not np.all(np.isfinite(text)):
                raise ValueError("text has NaN or infinite values")
            self.text = text

    def __len__(self):
        return self.labels.shape[0]

    @property
    def num_classes(self):
        return self.labels.shape[1]

    @property
    def multi_label(self):
        return bool(np.any(self.labels.sum(axis=1) != 1))

    @property
    def modalities(self):
        """("image",) or ("image", "text")."""
        return ("image",) if self.text is None else ("image", "text")

    @property
    def text_dim(self):
        """Vocabulary size of the texts (0 when there are none)."""
        return 0 if self.text is None else int(self.text.shape[1])

    def fingerprint(self):
        """A digest of what identifies the items: name, count, labels and texts."""
        digest = hashlib.sha256(self.name.encode())
        digest.update(np.ascontiguousarray(self.labels).tobytes())
        if self.is_test is not None:
            digest.update(self.is_test.tobytes())
        if self.text is not None:
            digest.update(np.ascontiguousarray(self.text).tobytes())
        return digest.hexdigest()[:16]

    def images(self, indices):
        """A `tf.data.Dataset` of uint8 `[H, W, 3]` images for `indices`, in order."""
        raise NotImplementedError(f"{type(self).__name__} must implement images()")

    def describe(self, index):
        """A human-readable name of item `index` (a file path where there is one)."""
        return f"{self.name}[{index}]"

    def unreadable(self, indices):
        """The items among `indices` whose image cannot be decoded (none here)."""
        del indices
        return []

    def decode_error(self, index):
        """Why item `index`'s image cannot be decoded (one line), or None if it can."""
        del index
        return None


class ArraySource(Source):
    """Items held in memory as uint8 `[N, H, W, 3]` (digits, generated test data)."""

    def __init__(self, name, images, labels, class_names, is_test=None, text=None):
        images = np.asarray(images)
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
            raise ValueError(
                f"images must be uint8 [N, H, W, 3], got {images.dtype} {images.shape}"
            )
        super().__init__(name, labels, class_names, is_test, text)
        if images.shape[0] != len(self):
            raise ValueError(f"{images.shape[0]} images but {len(self)} label rows")
        self.array = images

    def images(self, indices):
        return tf.data.Dataset.from_tensor_slices(self.array[np.asarray(indices, np.int64)])


class FileSource(Source):
    """Items stored as image files (folders, list files, paired files)."""

    def __init__(self, name, paths, labels, class_names, is_test=None, text=None):
        super().__init__(name, labels, class_names, is_test, text)
        self.paths = np.asarray(paths, dtype=object)
        if self.paths.shape != (len(self),):
            raise ValueError(f"{self.paths.shape[0]} image paths but {len(self)} label rows")

    def images(self, indices):
        paths = tf.constant([str(p) for p in self.paths[np.asarray(indices, np.int64)]])
        return tf.data.Dataset.from_tensor_slices(paths).map(
            preprocess.read_file, num_parallel_calls=tuning.PARALLEL_CALLS, deterministic=True
        )

    def describe(self, index):
        return str(self.paths[index])

    def unreadable(self, indices):
        """Decodes every image once (in parallel) and returns the indices that fail."""
        indices = np.asarray(indices, np.int64)
        paths = tf.constant([str(p) for p in self.paths[indices]])
        readable = (
            tf.data.Dataset.from_tensor_slices((indices, paths))
            .map(lambda i, p: (i, tf.shape(preprocess.read_file(p))),
                 num_parallel_calls=tuning.PARALLEL_CALLS)
            .ignore_errors()
            .map(lambda i, shape: i)
            .batch(4096)
        )
        ok = np.concatenate([b.numpy() for b in readable] or [np.zeros(0, np.int64)])
        return np.setdiff1d(indices, ok).tolist()

    def decode_error(self, index):
        try:
            preprocess.read_file(tf.constant(str(self.paths[index])))
        except (tf.errors.OpError, ValueError) as e:
            message = getattr(e, "message", str(e))
            # TensorFlow prefixes its messages with the op that failed: keep the reason
            lines = [line.split("}}", 1)[-1].split("[Op:", 1)[0].strip()
                     for line in message.splitlines() if line.strip()]
            return next((line for line in lines if line), type(e).__name__)
        return None


def _one_hot(class_ids, num_classes):
    labels = np.zeros((len(class_ids), num_classes), np.float32)
    labels[np.arange(len(class_ids)), class_ids] = 1.0
    return labels


def load_digits(size=32):
    """scikit-learn's 1,797 8x8 digits, upsampled to `size` px grey-as-RGB uint8."""
    from sklearn import datasets

    digits = datasets.load_digits()
    small = (digits.images.astype(np.float32) * (255.0 / 16.0))[..., None]  # (N, 8, 8, 1)
    big = tf.image.resize(small, [size, size], method="bilinear").numpy()
    images = np.repeat(np.clip(np.round(big), 0, 255).astype(np.uint8), 3, axis=-1)
    return ArraySource("digits", images, _one_hot(digits.target, 10), [str(i) for i in range(10)])


def _list_class_dirs(root):
    return sorted(e.name for e in os.scandir(root) if e.is_dir() and not e.name.startswith("."))


def _image_files(directory):
    files = []
    for dirpath, _, names in os.walk(directory):
        files.extend(
            os.path.join(dirpath, n) for n in names if n.lower().endswith(IMAGE_EXTENSIONS)
        )
    return sorted(files)


def load_folder(path):
    """`path/<class>/*.jpg`, or `path/train/<class>/...` + `path/test/<class>/...`."""
    if not os.path.isdir(path):
        raise ValueError(f"folder source {path!r} is not a directory")
    splits = [s for s in ("train", "test") if os.path.isdir(os.path.join(path, s))]
    if splits and set(splits) != {"train", "test"}:
        raise ValueError(f"{path!r} has a {splits[0]}/ folder but not the other of train/test")
    roots = [os.path.join(path, s) for s in splits] if splits else [path]
    class_names = sorted(set().union(*(_list_class_dirs(r) for r in roots)))
    if not class_names:
        raise ValueError(f"{path!r} has no class subfolders")
    paths, ids, is_test = [], [], []
    for root in roots:
        for c, name in enumerate(class_names):
            class_dir = os.path.join(root, name)
            found = _image_files(class_dir) if os.path.isdir(class_dir) else []
            paths.extend(found)
            ids.extend([c] * len(found))
            is_test.extend([root.endswith(os.sep + "test")] * len(found))
    if not paths:
        raise ValueError(f"{path!r} has class folders but no image files {IMAGE_EXTENSIONS}")
    used = set(ids)
    empty = [name for c, name in enumerate(class_names) if c not in used]
    if empty:
        raise ValueError(f"{path!r}: class folder(s) {empty} hold no image files "
                         f"{IMAGE_EXTENSIONS}; remove them or add images")
    test_flags = np.array(is_test) if splits else None
    return FileSource(f"folder:{path}", paths, _one_hot(ids, len(class_names)), class_names, test_flags)


def _inside_root(root, relative, where, spec_hint):
    """The path of a list entry under the image root; an absolute path or one that
    climbs out with `..` is refused unless the root is given as `/`."""
    root = os.path.abspath(root)
    full = os.path.normpath(os.path.join(root, relative))
    if os.path.commonpath([root, full]) != root:
        raise ValueError(
            f"{where}: {relative!r} is outside the image root {root} (an absolute path or one "
            f"that climbs out with '..'); to allow paths anywhere, give the root explicitly: "
            f"{spec_hint}@/")
    return full


def _check_duplicates(paths, lines, list_file):
    first = {}
    for path, line in zip(paths, lines):
        if path in first:
            raise ValueError(f"{list_file}:{line}: {path!r} is listed again (first at line "
                             f"{first[path]}); every image must appear once")
        first[path] = line


def _read_label_csv(list_file, root):
    """`file,label[,class_name]` rows (header first): single-label items."""
    import csv

    with open(list_file, newline="") as f:
        reader = csv.DictReader(f)
        missing = {"file", "label"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(
                f"{list_file}: a CSV list needs the columns file,label[,class_name]; "
                f"missing {sorted(missing)} in header {reader.fieldnames}")
        paths, ids, names, lines = [], [], {}, []
        for number, row in enumerate(reader, start=2):
            if not row.get("file") and not row.get("label"):
                continue  # a blank line
            if None in row:
                raise ValueError(f"{list_file}:{number}: more columns than the header "
                                 f"{reader.fieldnames}: {row[None]!r}")
            try:
                class_id = int(row["label"])
            except (TypeError, ValueError):
                raise ValueError(
                    f"{list_file}:{number}: label must be a class id, got {row['label']!r}") from None
            if class_id < 0:
                raise ValueError(f"{list_file}:{number}: negative class id {class_id}")
            name = row.get("class_name") or str(class_id)
            if names.setdefault(class_id, name) != name:
                raise ValueError(f"{list_file}:{number}: class {class_id} is named both "
                                 f"{names[class_id]!r} and {name!r}")
            paths.append(_inside_root(root, row["file"], f"{list_file}:{number}", f"list:{list_file}"))
            ids.append(class_id)
            lines.append(number)
    if not paths:
        raise ValueError(f"list file {list_file!r} has no items")
    _check_duplicates(paths, lines, list_file)
    num_classes = max(ids) + 1
    missing = sorted(set(range(num_classes)) - set(ids))
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        raise ValueError(
            f"{list_file}: class ids must run from 0 to the number of classes - 1; the largest "
            f"is {num_classes - 1} but no item has class {shown} (an id out of range?)")
    class_names = [names.get(c, str(c)) for c in range(num_classes)]
    return paths, _one_hot(ids, num_classes), class_names


def load_list(spec):
    """`file[@image_root]`: lines `relative/path.jpg 0 1 0 ...` (multi-hot labels), or
    a `.csv` with columns `file,label[,class_name]` (class ids).

    The image root defaults to the list file's directory; paths must stay inside it
    (give `@/` to allow any path). In the plain format blank lines and lines starting
    with `#` are skipped, and a line with a tab is split on tabs, so that paths may
    hold spaces (`path<TAB>0 1 0`). Windows line endings are fine in both formats.
    """
    list_file, _, root = spec.partition("@")
    if not os.path.isfile(list_file):
        raise ValueError(f"list file {list_file!r} does not exist")
    root = root or os.path.dirname(os.path.abspath(list_file))
    if list_file.lower().endswith(".csv"):
        paths, labels, names = _read_label_csv(list_file, root)
        return FileSource(f"list:{spec}", paths, labels, names)
    paths, rows, lines = [], [], []
    with open(list_file) as f:
        for number, line in enumerate(f, start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if "\t" in line:
                name, _, rest = line.rstrip("\r\n").partition("\t")
                parts = [name] + rest.split()
            else:
                parts = line.split()
            try:
                values = [float(v) for v in parts[1:]]
            except ValueError:
                raise ValueError(
                    f"{list_file}:{number}: labels must be numbers, got {' '.join(parts[1:])!r}"
                ) from None
            if rows and len(values) != len(rows[0]):
                raise ValueError(
                    f"{list_file}:{number}: {len(values)} labels, earlier lines have {len(rows[0])}"
                )
            if not values:
                raise ValueError(f"{list_file}:{number}: no labels after the path")
            paths.append(_inside_root(root, parts[0], f"{list_file}:{number}", f"list:{list_file}"))
            rows.append(values)
            lines.append(number)
    if not paths:
        raise ValueError(f"list file {list_file!r} has no items")
    _check_duplicates(paths, lines, list_file)
    labels = (np.array(rows) > 0).astype(np.float32)
    names = [f"label{i}" for i in range(labels.shape[1])]
    return FileSource(f"list:{spec}", paths, labels, names)
