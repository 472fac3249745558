"""Hamming distance and top-k over packed codes.

`hamming_distance` and `hamming_topk` run the custom op (`tfhash.ops`) when it is
available and the inputs live on the CPU, and the stock-TF path below otherwise;
both give identical results. The stock path works in blocks so that no
intermediate grows past `_BLOCK_BYTES`, whatever the number of queries and codes.
"""

import numpy as np
import tensorflow as tf

from tfhash import ops
from tfhash.retrieval import codes as codes_lib

# Upper bound on the bytes of one (query block x database block) intermediate.
_BLOCK_BYTES = 64 * 1024 * 1024
# Database codes per top-k block: each block keeps its own top-k before the merge.
_DB_BLOCK = 1 << 16


def _check_pair(queries, database):
    queries = tf.convert_to_tensor(queries)
    database = tf.convert_to_tensor(database)
    for name, value in (("queries", queries), ("database", database)):
        if value.dtype != tf.uint8 or value.shape.rank != 2:
            raise ValueError(
                f"{name} must be packed uint8 codes of shape [n, nbytes] (see "
                f"pack_codes), got {value.dtype.name} of shape {value.shape}"
            )
    qb, db = queries.shape[1], database.shape[1]
    if qb is not None and db is not None and qb != db:
        raise ValueError(
            f"queries and database must have the same bytes per code, got {qb} and {db}"
        )
    if qb == 0:
        raise ValueError("codes must have at least one byte, got 0 bytes per code")
    return queries, database


def _check_k(k, num_database):
    if isinstance(k, bool) or not isinstance(k, int) or k <= 0:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if num_database is not None and k > num_database:
        raise ValueError(f"k must be at most the database size {num_database}, got {k}")


def _to_words(packed):
    """uint8 [n, nbytes] -> uint64 [n, ceil(nbytes / 8)], zero padded."""
    nbytes = packed.shape[1]
    pad = (-nbytes) % 8
    if pad:
        packed = tf.pad(packed, [[0, 0], [0, pad]])
    words = tf.reshape(packed, [tf.shape(packed)[0], -1, 8])
    return tf.bitcast(words, tf.uint64)  # (n, nwords)


def _distance_words(query_words, db_words):
    """int32 [q, n] distances between uint64 word arrays, one word at a time."""
    total = None
    for w in range(query_words.shape[1]):
        xor = tf.bitwise.bitwise_xor(query_words[:, w : w + 1], db_words[None, :, w])
        count = tf.cast(tf.raw_ops.PopulationCount(x=xor), tf.int32)  # (q, n)
        total = count if total is None else total + count
    return total


def _query_block(num_db):
    return max(1, _BLOCK_BYTES // (8 * max(1, num_db)))


def stock_hamming_distance(queries, database):
    """All pairwise Hamming distances between packed codes (stock TF ops).

    Args:
      queries: uint8 `[nq, nbytes]` packed codes.
      database: uint8 `[nd, nbytes]` packed codes.

    Returns:
      int32 `tf.Tensor` `[nq, nd]`.
    """
    queries, database = _check_pair(queries, database)
    query_words, db_words = _to_words(queries), _to_words(database)
    nq, nd = queries.shape[0], database.shape[0]
    if nq is None or nd is None:  # dynamic shapes (inside tf.function): one block
        return _distance_words(query_words, db_words)
    if nq == 0 or nd == 0:
        return tf.zeros([nq, nd], tf.int32)
    block = _query_block(nd)
    parts = [
        _distance_words(query_words[start : start + block], db_words)
        for start in range(0, nq, block)
    ]
    return parts[0] if len(parts) == 1 else tf.concat(parts, axis=0)


def stock_hamming_topk(queries, database, k):
    """The k nearest database codes of each query by Hamming distance (stock TF ops).

    Ties are broken by lower database index, so results are deterministic.

    Args:
      queries: uint8 `[nq, nbytes]` packed codes.
      database: uint8 `[nd, nbytes]` packed codes.
      k: number of neighbours, 1 <= k <= nd.

    Returns:
      `(distances, indices)`: int32 `[nq, k]` and int64 `[nq, k]`, nearest first.
    """
    queries, database = _check_pair(queries, database)
    nd = database.shape[0]
    _check_k(k, nd)
    query_words, db_words = _to_words(queries), _to_words(database)
    nq = queries.shape[0]
    if nq == 0:
        return tf.zeros([0, k], tf.int32), tf.zeros([0, k], tf.int64)
    # Database blocks sized so that a (query block x database block) fits the budget;
    # each block keeps its own top-k, and the merge keeps the best k overall.
    db_block = max(k, min(nd, _DB_BLOCK))
    q_block = _query_block(db_block)
    out_d, out_i = [], []
    for qs in range(0, nq, q_block):
        qw = query_words[qs : qs + q_block]
        cand_d, cand_i = [], []
        for ds in range(0, nd, db_block):
            dist = _distance_words(qw, db_words[ds : ds + db_block])
            kk = min(k, dist.shape[1])
            # top_k puts the lower index first among equal values: ties by index.
            neg, idx = tf.math.top_k(-dist, k=kk, sorted=True)
            cand_d.append(-neg)
            cand_i.append(tf.cast(idx, tf.int64) + ds)
        if len(cand_d) == 1:
            out_d.append(cand_d[0])
            out_i.append(cand_i[0])
            continue
        # Candidates are concatenated in database order, so the stable top_k keeps
        # lower database indices first among equal distances.
        all_d, all_i = tf.concat(cand_d, axis=1), tf.concat(cand_i, axis=1)
        neg, pos = tf.math.top_k(-all_d, k=k, sorted=True)
        out_d.append(-neg)
        out_i.append(tf.gather(all_i, pos, batch_dims=1))
    if len(out_d) == 1:
        return out_d[0], out_i[0]
    return tf.concat(out_d, axis=0), tf.concat(out_i, axis=0)



LANES = 8  # codes per group of the custom op's database layout


def group_database(packed):
    """Packed codes uint8 `[n, nbytes]` in the custom op's layout: uint64
    `[ceil(n / 8), ceil(nbytes / 8), 8]`, word-major groups of 8 codes (a code's last
    word and the codes past n zero). `HammingIndex` prepares its database this way
    once, so a search does not regroup it."""
    packed = codes_lib.as_packed_numpy(packed, "database")
    n, nbytes = packed.shape
    words, groups = (nbytes + 7) // 8, (n + LANES - 1) // LANES
    padded = np.zeros((groups * LANES, words * 8), np.uint8)
    padded[:n, :nbytes] = packed
    as_words = padded.view("<u8")  # (groups * 8, words), little-endian like the kernel
    return np.ascontiguousarray(as_words.reshape(groups, LANES, words).transpose(0, 2, 1))


def hamming_topk_grouped(queries, grouped, num_database, k):
    """`hamming_topk` against a database already in the custom op's layout
    (`group_database`; a tf.Tensor, so repeated searches do not copy it). Needs the
    custom op (`tfhash.ops.load()`)."""
    queries = tf.convert_to_tensor(queries)
    if queries.dtype != tf.uint8 or queries.shape.rank != 2:
        raise ValueError(f"queries must be packed uint8 codes of shape [n, nbytes], got "
                         f"{queries.dtype.name} of shape {queries.shape}")
    _check_k(k, num_database)
    module = ops.load()
    if module is None:
        raise ValueError("the custom op is not available (tfhash.ops.backend() says why)")
    return module.packed_hamming_top_k_grouped(queries, grouped, tf.constant(num_database, tf.int64),
                                               tf.constant(k, tf.int32))


def hamming_distance(queries, database):
    """All pairwise Hamming distances: int32 `[nq, nd]` (see `stock_hamming_distance`)."""
    queries, database = _check_pair(queries, database)
    module = ops.load()
    if module is None:
        return stock_hamming_distance(queries, database)
    return module.packed_hamming_distance(queries, database)


def hamming_topk(queries, database, k):
    """`(distances int32 [nq, k], indices int64 [nq, k])`, nearest first, ties by lower
    database index (see `stock_hamming_topk`)."""
    queries, database = _check_pair(queries, database)
    nd = database.shape[0]
    _check_k(k, nd)
    module = ops.load()
    if module is None:
        return stock_hamming_topk(queries, database, k)
    return module.packed_hamming_top_k(queries, database, tf.constant(k, tf.int32))
