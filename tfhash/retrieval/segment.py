"""A segment of a HammingIndex: a run of codes added together, with its ids, removal
marks, and the multi-index tables and linear-scan layout built when first needed."""

import numpy as np


class Segment:
    """A run of codes added together (merged with its neighbours as the index grows,
    so an index of n codes has O(log n) segments): codes, ids, removal marks, and the
    multi-index tables and linear-scan layout built when first needed."""

    def __init__(self, codes, ids, removed=None, tables=None):
        self.codes, self.ids = codes, ids
        self.removed = removed  # bit-packed (little) marks, or None: nothing removed
        self.num_removed = 0 if removed is None else int(np.unpackbits(
            removed, bitorder="little")[: len(ids)].sum())
        self.tables = tables
        self.grouped = None
        self.timings = {}  # (k, batch) -> {path: moving seconds a query, "calls": n}

    @property
    def size(self):
        return len(self.ids)

    @property
    def live(self):
        return self.size - self.num_removed

    def live_mask(self):
        if self.removed is None:
            return np.ones(self.size, bool)
        return ~np.unpackbits(self.removed, bitorder="little")[: self.size].astype(bool)

    def mark(self, positions):
        if self.removed is None:
            self.removed = np.zeros(-(-self.size // 8), np.uint8)
        bits = np.unpackbits(self.removed, bitorder="little")[: self.size]
        bits[positions] = 1
        self.removed = np.packbits(bits, bitorder="little")
        self.num_removed = int(bits.sum())

    def compacted(self):
        keep = self.live_mask()
        return Segment(np.ascontiguousarray(self.codes[keep]), np.ascontiguousarray(self.ids[keep]))
