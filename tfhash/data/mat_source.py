"""`mat:<file.mat>[,<file.mat>...]`: the DCMH-style MATLAB files cross-modal hashing
users have for MIRFlickr-25K, NUS-WIDE and IAPR TC-12: images `IAll`, tag
bag-of-words `YAll` and labels `LAll` (one file, or one file per variable).

Both MATLAB v5 files (read with scipy) and v7.3 files (HDF5, read with h5py; images
are then read item by item, so a 20,000 x 224 x 224 x 3 stack is never loaded whole)
are read. Arrays are taken in MATLAB's axis order (h5py shows them reversed); the
items' axis is the one whose size is the number of label rows, and the image
stack's colour axis the one of size 3, so `[224, 224, 3, N]`, `[N, 3, 224, 224]` and
`[N, 224, 224, 3]` all work.
"""

import os

import numpy as np
import tensorflow as tf

from tfhash.data import sources

IMAGE_KEYS = ("IAll", "images", "I")
TEXT_KEYS = ("YAll", "tags", "text", "T")
LABEL_KEYS = ("LAll", "labels", "L")


class _Hdf5Array:
    """A v7.3 variable in MATLAB's axis order, read lazily."""

    def __init__(self, dataset):
        self.dataset = dataset
        self.shape = tuple(reversed(dataset.shape))
        self.ndim = len(self.shape)
        self.dtype = dataset.dtype

    def __array__(self, dtype=None, copy=None):
        values = np.asarray(self.dataset[()]).transpose()
        return values if dtype is None else values.astype(dtype)

    def item(self, axis, index):
        """The slice at `index` along MATLAB axis `axis`, in MATLAB order."""
        where = [slice(None)] * self.ndim
        where[self.ndim - 1 - axis] = index
        return np.asarray(self.dataset[tuple(where)]).transpose()


def _open(path):
    """name -> array of one .mat file (v5 via scipy, v7.3 via h5py), and a closer."""
    if not os.path.isfile(path):
        raise ValueError(f"MAT file {path!r} does not exist")
    import h5py

    if h5py.is_hdf5(path):
        handle = h5py.File(path, "r")
        return {k: _Hdf5Array(v) for k, v in handle.items() if isinstance(v, h5py.Dataset)}, handle
    from scipy import io

    try:
        return {k: v for k, v in io.loadmat(path).items() if not k.startswith("__")}, None
    except (ValueError, NotImplementedError, OSError, IndexError, TypeError) as e:
        raise ValueError(f"{path} is not a readable MATLAB file ({type(e).__name__}: {e})") from None


def _find(variables, keys, what, paths):
    for key in keys:
        if key in variables:
            return variables[key]
    raise ValueError(f"no {what} variable ({' or '.join(keys)}) in {', '.join(paths)}; "
                     f"found {sorted(variables)}")


def _items_first(array, count, what):
    """A 2-D variable as `[count, d]` (MATLAB files hold either orientation)."""
    array = np.asarray(array)
    if array.ndim != 2 or count not in array.shape:
        raise ValueError(f"{what} has shape {array.shape}; expected [{count}, d]")
    return array if array.shape[0] == count else array.T


class MatSource(sources.Source):
    """Images from a MATLAB image stack (in memory, or read item by item from HDF5)."""

    def __init__(self, name, stack, item_axis, colour_axis, labels, class_names, text,
                 handles=()):
        super().__init__(name, labels, class_names, text=text)
        self._handles = [h for h in handles if h is not None]  # keep HDF5 files open
        self._stack, self._item_axis, self._colour_axis = stack, item_axis, colour_axis
        spatial = [a for a in range(4) if a not in (item_axis, colour_axis)]
        self._order = spatial + [colour_axis]  # of one item's axes, MATLAB order minus items
        shape = [stack.shape[a] for a in spatial]
        self._image_shape = (shape[0], shape[1], 3)

    def _image(self, index):
        if isinstance(self._stack, _Hdf5Array):
            item = self._stack.item(self._item_axis, int(index))  # 3 axes, MATLAB order
        else:
            item = np.take(self._stack, int(index), axis=self._item_axis)
        rest = [a for a in range(4) if a != self._item_axis]
        return np.transpose(item, [rest.index(a) for a in self._order]).astype(np.uint8)

    def images(self, indices):
        indices = [int(i) for i in np.asarray(indices, np.int64)]
        return tf.data.Dataset.from_generator(
            lambda: (self._image(i) for i in indices),
            output_signature=tf.TensorSpec(self._image_shape, tf.uint8))


def load_mat(spec):
    """`file.mat[,file.mat...]`: images, tags and labels (see the module docstring)."""
    paths = [p for p in spec.split(",") if p]
    variables, handles = {}, []
    for path in paths:
        found, handle = _open(path)
        variables.update(found)
        handles.append(handle)
    labels = np.asarray(_find(variables, LABEL_KEYS, "label", paths))
    if labels.ndim != 2:
        raise ValueError(f"labels have shape {labels.shape}; expected [N, C]")
    count = max(labels.shape)
    labels = (_items_first(labels, count, "labels") > 0).astype(np.float32)
    text = _items_first(_find(variables, TEXT_KEYS, "text", paths), count, "text").astype(np.float32)
    stack = _find(variables, IMAGE_KEYS, "image", paths)
    if stack.ndim != 4:
        raise ValueError(f"the images have shape {stack.shape}: tfhash's image networks need a "
                         "pixel stack [N, H, W, 3] (in any axis order), not features")
    item_axes = [a for a in range(4) if stack.shape[a] == count]
    colour_axes = [a for a in range(4) if stack.shape[a] == 3 and a not in item_axes[-1:]]
    if not item_axes or not colour_axes:
        raise ValueError(f"the images have shape {stack.shape}: no axis of {count} items and one "
                         "of 3 colours")
    if not isinstance(stack, _Hdf5Array):
        stack = np.asarray(stack)
    names = [f"label{i}" for i in range(labels.shape[1])]
    return MatSource(f"mat:{spec}", stack, item_axes[-1], colour_axes[0], labels, names, text,
                     handles)
