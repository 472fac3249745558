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
        self._live = None if removed is None else ~np.unpackbits(
            removed, bitorder="little")[: len(ids)].astype(bool)
        self.num_removed = 0 if removed is None else int(len(ids) - self._live.sum())
        self.tables = tables
        self.grouped = None
        self.timings = {}  # (k, batch) -> {path: moving seconds a query, "calls": n,
        #                    "visit": moving seconds per table entry visited}

    @property
    def size(self):
        return len(self.ids)

    @property
    def live(self):
        return self.size - self.num_removed

    def live_mask(self):
        """bool [size]: True for codes not removed (kept beside the packed marks, so a
        search over a segment with removals does not unpack them again)."""
        if self._live is None:
            return np.ones(self.size, bool)
        return self._live

    def mark(self, positions):
        if self._live is None:
            self._live = np.ones(self.size, bool)
        self._live[positions] = False
        self.removed = np.packbits(~self._live, bitorder="little")
        self.num_removed = int(self.size - self._live.sum())

    def compacted(self):
        keep = self.live_mask()
        return Segment(np.ascontiguousarray(self.codes[keep]), np.ascontiguousarray(self.ids[keep]))
