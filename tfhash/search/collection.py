"""A collection of encoded items on disk: packed codes, ids and the items' paths or
keys, written batch by batch so an interrupted run loses at most one batch and a
rerun encodes only what is missing."""

import glob
import json
import os

import numpy as np

from tfhash import atomic
from tfhash.retrieval import HammingIndex

META = "collection.json"


class LocalCollection:
    """A folder: `collection.json` (bits, the encoder, what was skipped) and
    `part-NNNNNN.npz` files (codes, ids, keys), each written atomically.

    Args:
      path: the folder.
    """

    def __init__(self, path):
        self.path = path
        meta_path = os.path.join(path, META)
        if not os.path.exists(meta_path):
            raise ValueError(f"{path} is not a tfhash collection (no {META}); make one with "
                             "tfhash-index")
        try:
            with open(meta_path) as f:
                self.meta = json.load(f)
            self.bits = int(self.meta["bits"])
        except (OSError, ValueError, KeyError) as e:
            raise ValueError(f"{meta_path} cannot be read ({e})") from None

    @classmethod
    def create(cls, path, bits, encoder):
        """A new collection, or the existing one at `path` if it matches."""
        meta_path = os.path.join(path, META)
        if os.path.exists(meta_path):
            existing = cls(path)
            if existing.bits != bits or existing.meta.get("encoder") != encoder:
                raise ValueError(
                    f"{path} was made with another encoder or code length ({existing.meta}); "
                    "use a new --index")
            return existing
        if os.path.exists(path) and not os.path.isdir(path):
            raise ValueError(f"--index {path} is a file, not a folder")
        os.makedirs(path, exist_ok=True)
        atomic.write_json(meta_path, {"format": "tfhash.collection/1", "bits": int(bits),
                                      "encoder": encoder, "skipped": []}, indent=1)
        return cls(path)

    def _parts(self):
        return sorted(glob.glob(os.path.join(self.path, "part-*.npz")))

    def load(self):
        """`(codes uint8 [n, nbytes], ids int64 [n], keys [n])` of every part."""
        codes, ids, keys = [], [], []
        for part in self._parts():
            with np.load(part, allow_pickle=False) as data:
                codes.append(data["codes"])
                ids.append(data["ids"])
                keys += [str(k) for k in data["keys"]]
        if not codes:
            return np.zeros((0, (self.bits + 7) // 8), np.uint8), np.zeros(0, np.int64), []
        return np.concatenate(codes), np.concatenate(ids), keys

    def keys(self):
        return set(self.load()[2])

    def next_id(self):
        ids = self.load()[1]
        return int(ids.max()) + 1 if len(ids) else 0

    def append(self, codes, ids, keys):
        """Adds one batch as a new part file (atomically)."""
        number = len(self._parts()) + 1
        with atomic.atomic_write(os.path.join(self.path, f"part-{number:06d}.npz"), "wb") as f:
            np.savez(f, codes=codes, ids=np.asarray(ids, np.int64), keys=np.asarray(keys, dtype=str))

    def record_skipped(self, keys):
        if keys:
            self.meta["skipped"] = sorted(set(self.meta.get("skipped", [])) | set(keys))
            atomic.write_json(os.path.join(self.path, META), self.meta, indent=1)

    def index(self, mode="auto"):
        """A HammingIndex over the collection (`mode`: HammingIndex's) and the key of
        every id."""
        codes, ids, keys = self.load()
        if not len(ids):
            raise ValueError(f"the collection {self.path} is empty")
        index = HammingIndex(self.bits, mode=mode)
        index.add(codes, ids)
        return index, dict(zip(ids.tolist(), keys))
