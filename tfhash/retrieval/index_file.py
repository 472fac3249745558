"""The file of a HammingIndex: one file, written atomically, that opens memory-mapped.

Layout (`tfhash.HammingIndex/2`): the magic bytes `TFHASHIX`, the length of a JSON
header (uint64), the header (bits, next default id, and per segment the arrays of
its codes, ids, removal marks and multi-index tables), padding to 64 bytes, then
every array's raw bytes at a 64-byte-aligned offset. `read` maps each array instead
of reading it, so an index of any size opens at once and a multi-index query faults
in only the pages it touches. (Telling the kernel to expect random reads,
MADV_RANDOM, is not done: on 10M 64-bit codes from the page cache the first query
touched the same 198 MiB with it and was not faster, 22.3 and 26.5 ms against 9.1
and 19.6 ms without, two tries each on 2 shared cores.) The first format
(`tfhash.HammingIndex/1`, an `np.savez` of bits, codes and ids) is still read.
"""

import json
import mmap
import os
import zipfile

import numpy as np

from tfhash import atomic
from tfhash.retrieval import multi_index

FORMAT_V1 = "tfhash.HammingIndex/1"
FORMAT = "tfhash.HammingIndex/2"
MAGIC = b"TFHASHIX"
ALIGN = 64


def write(path, bits, next_id, segments):
    """`segments`: `(codes, ids, removed or None, multi_index.Tables or None)` each."""
    arrays, entries = [], []
    for codes, ids, removed, tables in segments:
        entry = {"codes": len(arrays), "ids": len(arrays) + 1}
        arrays += [np.ascontiguousarray(codes), np.ascontiguousarray(ids)]
        if removed is not None:
            entry["removed"] = len(arrays)
            arrays.append(removed)
        if tables is not None:
            entry["tables"] = {}
            for name, array in tables.arrays().items():
                entry["tables"][name] = len(arrays)
                arrays.append(np.ascontiguousarray(array))
        entries.append(entry)
    specs, offset = [], 0  # offsets from the end of the header block
    for array in arrays:
        specs.append({"dtype": array.dtype.str, "shape": list(array.shape), "offset": offset})
        offset += -(-array.nbytes // ALIGN) * ALIGN
    blob = json.dumps({"format": FORMAT, "bits": bits, "next_id": next_id, "segments": entries,
                       "arrays": specs}).encode()
    head = len(MAGIC) + 8 + len(blob)
    start = -(-head // ALIGN) * ALIGN
    with atomic.atomic_write(path, "wb") as f:
        f.write(MAGIC + np.uint64(len(blob)).tobytes() + blob + b"\0" * (start - head))
        for array in arrays:
            data = memoryview(array.reshape(-1).view(np.uint8)) if array.size else b""
            f.write(data)
            f.write(b"\0" * ((-len(data)) % ALIGN))


def read(path, mapped=True):
    """`(bits, next_id, segments)` as `write` takes them; a damaged file is a clear
    ValueError."""
    try:
        with open(path, "rb") as f:
            if f.read(len(MAGIC)) != MAGIC:
                return _read_v1(path)
            size = int(np.frombuffer(f.read(8), np.uint64)[0])
            if size > os.path.getsize(path):
                raise ValueError("header longer than the file")
            header = json.loads(f.read(size))
        if header.get("format") != FORMAT:
            raise ValueError(f"unknown format {header.get('format')!r}")
        arrays = _arrays(path, header["arrays"], -(-(len(MAGIC) + 8 + size) // ALIGN) * ALIGN, mapped)
        bits = int(header["bits"])
        segments = [_segment(entry, arrays, bits) for entry in header["segments"]]
        return bits, int(header["next_id"]), segments
    except (OSError, EOFError, KeyError, IndexError, TypeError, ValueError) as e:
        raise ValueError(f"{path} is not a readable tfhash HammingIndex (truncated or damaged?): {e}") from e


def _arrays(path, specs, start, mapped):
    total = os.path.getsize(path)
    arrays = []
    for spec in specs:
        dtype, shape = np.dtype(spec["dtype"]), tuple(int(x) for x in spec["shape"])
        nbytes = int(np.prod(shape)) * dtype.itemsize
        begin = start + int(spec["offset"])
        if begin + nbytes > total:
            raise ValueError(f"truncated: an array ends at byte {begin + nbytes} of {total}")
        if not nbytes:
            arrays.append(np.zeros(shape, dtype))
        elif mapped:
            arrays.append(np.memmap(path, dtype, "r", begin, shape))
        else:
            with open(path, "rb") as f:
                f.seek(begin)
                arrays.append(np.frombuffer(f.read(nbytes), dtype).reshape(shape))
    return arrays


def _segment(entry, arrays, bits):
    codes, ids = arrays[entry["codes"]], arrays[entry["ids"]]
    if codes.dtype != np.uint8 or codes.ndim != 2 or codes.shape[1] != (bits + 7) // 8:
        raise ValueError(f"codes of {codes.dtype} {codes.shape} in a {bits}-bit index")
    if ids.dtype != np.int64 or ids.shape != (codes.shape[0],):
        raise ValueError(f"{ids.shape} ids for {codes.shape[0]} codes")
    removed = arrays[entry["removed"]] if "removed" in entry else None
    if removed is not None:
        if removed.dtype != np.uint8 or removed.shape != (-(-len(ids) // 8),):
            raise ValueError(f"removal marks of shape {removed.shape} for {len(ids)} codes")
        removed = np.array(removed)  # marks change in memory, never in the file
    tables = None
    if "tables" in entry:
        tables = multi_index.Tables.from_arrays({name: arrays[i] for name, i in entry["tables"].items()})
        if tables.num_codes != len(ids) or tables.bits != bits:
            raise ValueError("tables do not match their segment")
    return codes, ids, removed, tables


def _read_v1(path):
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["format"]) != FORMAT_V1:
                raise ValueError(f"unknown format {data['format']}")
            codes, ids = np.array(data["codes"]), np.array(data["ids"]).astype(np.int64)
            bits = int(data["bits"])
    except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile) as e:
        raise ValueError(f"{path} is not a readable tfhash HammingIndex (truncated or damaged?): {e}") from e
    return bits, int(ids.max()) + 1 if len(ids) else 0, [(codes, ids, None, None)] if len(ids) else []


def advise(array, advice):
    """madvise() on a memory-mapped array (nothing for arrays in memory)."""
    handle = getattr(array, "_mmap", None)
    if handle is not None and hasattr(mmap, advice):
        handle.madvise(getattr(mmap, advice))
    return array
