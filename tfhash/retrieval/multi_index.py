"""Exact multi-index hashing tables over packed codes (Norouzi, Punjani and Fleet,
"Fast Search in Hamming Space with Multi-Index Hashing", CVPR 2012).

Each b-bit code is cut into m disjoint substrings of about log2(n) bits; table t
maps a substring value to the (ascending) positions holding it. A code within
distance r of a query matches it within floor(r / m) bits on some substring, so
searching the tables at substring radius 0, 1, 2, ... finds every code within
m * r + t after table t at radius r, and the search stops once the k-th result is
that close: the answer is exactly a linear scan's, ties by lower position.

The tables and the search are C++ (tfhash/ops/cc/kernels/multi_index*.{h,cc}, in
the op's library, called through ctypes on NumPy arrays, so memory-mapped tables
are searched in place). Layout per table: a directory of 2^s 16-bit offsets
relative to a 32-bit base per 256 values (32-bit offsets for the few blocks that
hold 65,536 positions or more), and the positions bit-packed to ceil(log2 n) bits;
s is the largest length that keeps a table within 4 bytes per code.
"""

import ctypes
import math
import os

import numpy as np

from tfhash import ops

BLOCK_SHIFT = 8
# With fewer queries than threads over at least this many codes, the threads search
# each query together (benchmarks/index_speed.py: below it one thread is as fast).
SHARE_FROM = 1 << 20
# ... once one thread has visited this many table entries without finishing: a
# cheaper query is over before a second thread would have started (docs/search_speed.md).
SHARE_AFTER = 1 << 12
# ... and only after a step whose buckets held fewer than this many entries on
# average: the threads share a step by its buckets, so a few crowded ones would
# keep one thread busy and the others waiting.
SHARE_CROWDING = 16
MAX_SUBSTRING_BITS = 32
_PAD = 8  # bytes after the packed positions (the C++ reads 8 bytes at a time)


class _Table(ctypes.Structure):
    _fields_ = [("lo", ctypes.c_int32), ("bits", ctypes.c_int32),
                ("block_base", ctypes.c_void_p), ("wide_slot", ctypes.c_void_p),
                ("rel16", ctypes.c_void_p), ("rel_wide", ctypes.c_void_p),
                ("positions", ctypes.c_void_p)]


class _Job(ctypes.Structure):
    _fields_ = [("codes", ctypes.c_void_p), ("num_codes", ctypes.c_int64),
                ("num_bytes", ctypes.c_int64), ("tables", ctypes.POINTER(_Table)),
                ("num_tables", ctypes.c_int32), ("position_bits", ctypes.c_int32),
                ("removed", ctypes.c_void_p), ("queries", ctypes.c_void_p),
                ("num_queries", ctypes.c_int64), ("k", ctypes.c_int64),
                ("radius", ctypes.c_int32), ("budget", ctypes.c_int64),
                ("capacity", ctypes.c_int64), ("distances", ctypes.c_void_p),
                ("indices", ctypes.c_void_p), ("counts", ctypes.c_void_p),
                ("visited", ctypes.c_void_p), ("share_from", ctypes.c_int64),
                ("share_after", ctypes.c_int64), ("share_crowding", ctypes.c_int64)]


_NATIVE = {}


def native():
    """The C functions (a ctypes.CDLL) or None when the op library is unavailable
    (then `HammingIndex` searches linearly: the same answers)."""
    if ops.load() is None:  # not built, or TFHASH_DISABLE_CUSTOM_OPS (read every call)
        return None
    if "lib" in _NATIVE:
        return _NATIVE["lib"]
    from tfhash.ops import build

    lib = ctypes.CDLL(build.build())
    lib.tfhash_mih_build.restype = ctypes.c_int64
    lib.tfhash_mih_build.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
                                     ctypes.c_int32, ctypes.c_int32, ctypes.c_int32,
                                     ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                                     ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p]
    lib.tfhash_mih_search.restype = None
    lib.tfhash_mih_search.argtypes = [ctypes.POINTER(_Job), ctypes.c_int32]
    lib.tfhash_mih_isa.restype = ctypes.c_char_p
    _NATIVE["lib"] = lib
    return lib


def position_bits(num_codes):
    """Bits per stored position: enough for 0 .. num_codes - 1 (at least 1)."""
    return max(1, int(num_codes - 1).bit_length())


def substring_bits(num_codes):
    """The longest substring whose table stays within 4 bytes per code: positions
    (position_bits / 8 bytes a code, 8 bytes of padding) plus a directory of 2 bytes
    per value and a 4-byte base and a 4-byte slot per 256 values (the 32-bit
    offsets of crowded blocks, 1 KiB per 65,536 codes at most, come on top)."""
    per_value = 2.0 + 8.0 / (1 << BLOCK_SHIFT)
    spare = (num_codes * (4.0 - position_bits(num_codes) / 8.0) - 16) / per_value
    return int(min(MAX_SUBSTRING_BITS, max(1, math.floor(math.log2(max(spare, 2.0))))))


def layout(bits, num_codes):
    """`[(lo, length), ...]`: the substrings of a b-bit code for a table of
    `num_codes` codes, m = ceil(b / s) of near-equal length."""
    s = substring_bits(num_codes)
    m = max(1, -(-bits // s))
    lengths = [bits // m + (1 if t < bits % m else 0) for t in range(m)]
    starts = np.cumsum([0] + lengths[:-1])
    return [(int(lo), int(n)) for lo, n in zip(starts, lengths)]


def _ptr(array):
    return None if array is None else array.ctypes.data


class Tables:
    """The substring tables of one block of codes (a `HammingIndex` segment).

    `arrays()` / `from_arrays()` give the NumPy arrays that are saved with an index
    and read back memory-mapped.
    """

    def __init__(self, bits, num_codes, substrings, pbits, block_base, wide_slot, rel16, rel_wide,
                 positions):
        self.bits = bits
        self.num_codes = num_codes
        self.substrings = substrings
        self.position_bits = pbits
        self.block_base, self.wide_slot, self.rel16 = block_base, wide_slot, rel16
        self.rel_wide, self.positions = rel_wide, positions
        self._check()
        tables = (_Table * len(substrings))()
        for t, (lo, length) in enumerate(substrings):
            tables[t] = _Table(lo, length, _ptr(block_base[t]), _ptr(wide_slot[t]), _ptr(rel16[t]),
                               _ptr(rel_wide[t]) if rel_wide[t].size else None, _ptr(positions[t]))
        self._tables = tables

    def _check(self):
        # The C++ reads these arrays unchecked: their sizes must be what it expects.
        covered = 0
        for t, (lo, length) in enumerate(self.substrings):
            if lo != covered or not 1 <= length <= MAX_SUBSTRING_BITS:
                raise ValueError(f"table {t}: substring ({lo}, {length}) does not follow on bit {covered}")
            covered += length
            blocks = ((1 << length) >> BLOCK_SHIFT) + 1
            slots = self.wide_slot[t]
            wide = int(slots.max()) + 1 if slots.size else 0
            want = {"directory base": (self.block_base[t], np.uint32, blocks),
                    "directory slots": (slots, np.int32, blocks),
                    "directory": (self.rel16[t], np.uint16, (1 << length) + 1),
                    "wide directory": (self.rel_wide[t], np.uint32, wide << BLOCK_SHIFT),
                    "positions": (self.positions[t], np.uint8,
                                  -(-self.num_codes * self.position_bits // 8) + _PAD)}
            for name, (array, dtype, size) in want.items():
                if not array.flags.c_contiguous:
                    raise ValueError(f"table {t}: {name} is not contiguous")
                if array.ndim != 1 or array.shape[0] != size or array.dtype != dtype:
                    raise ValueError(f"table {t}: {name} is {array.dtype} {array.shape}, expected {size} values")
            if slots.size and slots.min() < -1:
                raise ValueError(f"table {t}: directory slots below -1")
        if covered != self.bits:
            raise ValueError(f"the tables cover {covered} bits of {self.bits}-bit codes")
        if not 1 <= self.position_bits <= 32 or (self.num_codes - 1) >> self.position_bits:
            raise ValueError(f"{self.position_bits}-bit positions cannot hold {self.num_codes} codes")

    @classmethod
    def build(cls, codes, bits):
        """Tables over packed codes `[n, nbytes]` (C-contiguous uint8), n >= 1."""
        lib = native()
        if lib is None:
            raise RuntimeError("multi-index tables need the custom op (tfhash.ops.backend() says why)")
        codes = np.ascontiguousarray(codes)
        n, nbytes = codes.shape
        substrings, pbits = layout(bits, n), position_bits(n)
        out = {name: [] for name in ("base", "slot", "rel16", "wide", "pos")}
        capacity = (n >> 16) + 1  # a wide block holds at least 65,536 positions
        for lo, length in substrings:
            blocks = ((1 << length) >> BLOCK_SHIFT) + 1
            base = np.zeros(blocks, np.uint32)
            slot = np.zeros(blocks, np.int32)
            rel16 = np.zeros((1 << length) + 1, np.uint16)
            wide = np.zeros(capacity << BLOCK_SHIFT, np.uint32)
            packed = np.zeros(-(-n * pbits // 8) + _PAD, np.uint8)
            count = lib.tfhash_mih_build(_ptr(codes), n, nbytes, lo, length, pbits, _ptr(base),
                                         _ptr(slot), _ptr(rel16), _ptr(wide), capacity, _ptr(packed))
            if count > capacity:
                raise RuntimeError(f"{count} crowded directory blocks, room for {capacity}")
            for name, array in zip(out, (base, slot, rel16, wide[: count << BLOCK_SHIFT].copy(), packed)):
                out[name].append(array)
        return cls(bits, n, substrings, pbits, out["base"], out["slot"], out["rel16"], out["wide"],
                   out["pos"])

    @property
    def nbytes(self):
        """Bytes the tables hold (directories and positions)."""
        return sum(a.nbytes for a in self.block_base + self.wide_slot + self.rel16 + self.rel_wide
                   + self.positions)

    def arrays(self):
        """`{name: array}` to save; `from_arrays` reads them back."""
        out = {"layout": np.array([[lo, n] for lo, n in self.substrings], np.int64).reshape(-1, 2),
               "meta": np.array([self.bits, self.num_codes, self.position_bits], np.int64)}
        for t in range(len(self.substrings)):
            out[f"base{t}"], out[f"slot{t}"], out[f"rel{t}"], out[f"wide{t}"], out[f"pos{t}"] = (
                self.block_base[t], self.wide_slot[t], self.rel16[t], self.rel_wide[t],
                self.positions[t])
        return out

    @classmethod
    def from_arrays(cls, arrays):
        bits, num_codes, pbits = (int(v) for v in arrays["meta"])
        substrings = [(int(lo), int(n)) for lo, n in arrays["layout"]]
        m = len(substrings)
        return cls(bits, num_codes, substrings, pbits,
                   *([arrays[f"{name}{t}"] for t in range(m)]
                     for name in ("base", "slot", "rel", "wide", "pos")))

    def search(self, codes, queries, k=0, radius=0, removed=None, budget=None, capacity=None,
               threads=None):
        """Runs the C++ search. `k > 0`: the k nearest live codes (k at most their
        number); else every code within `radius`. Returns `(distances [nq, cap],
        positions [nq, cap], counts [nq], visited [nq])`; a count of -1 means the
        query visited more than `budget` table entries and was given up; a range
        count above `capacity` means its results were not written."""
        lib = native()
        queries = np.ascontiguousarray(queries, np.uint8)
        nq = queries.shape[0]
        capacity = int(k if k > 0 else (capacity or 64))
        distances = np.zeros((nq, capacity), np.int32)
        positions = np.zeros((nq, capacity), np.int64)
        counts = np.zeros(nq, np.int64)
        visited = np.zeros(nq, np.int64)
        job = _Job(_ptr(codes), self.num_codes, codes.shape[1], self._tables, len(self.substrings),
                   self.position_bits, _ptr(removed), _ptr(queries), nq, int(k), int(radius),
                   int(budget if budget is not None else 1 << 62), capacity, _ptr(distances),
                   _ptr(positions), _ptr(counts), _ptr(visited), SHARE_FROM, SHARE_AFTER,
                   SHARE_CROWDING)
        lib.tfhash_mih_search(ctypes.byref(job), int(threads or os.cpu_count() or 1))
        return distances, positions, counts, visited


def isa():
    """The instruction set the multi-index search uses (as the op's kernels)."""
    lib = native()
    return None if lib is None else lib.tfhash_mih_isa().decode()
