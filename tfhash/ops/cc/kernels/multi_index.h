// Exact multi-index hashing (Norouzi, Punjani and Fleet, CVPR 2012): each code is
// cut into m disjoint substrings, each with a table from substring value to the
// positions holding it. A code within distance r of a query matches it within
// floor(r / m) bits on some substring, so searching every table at substring radius
// 0, 1, 2, ... finds, after table t at radius r, every code within m * r + t: the
// search stops once k codes are that close. Results equal a linear scan's
// (ties by lower position). Only plain data crosses this header; the search loop is
// compiled once per instruction set (multi_index_impl.h). No TensorFlow dependency.
#ifndef TFHASH_OPS_CC_KERNELS_MULTI_INDEX_H_
#define TFHASH_OPS_CC_KERNELS_MULTI_INDEX_H_

#include <cstdint>

namespace tfhash {
namespace mih {

constexpr int kBlockShift = 8;  // directory blocks of 256 substring values
constexpr int kMaxThreads = 64;  // threads sharing one query

// One substring table over `num_codes` codes. The positions holding value v are
// positions[start(v) .. start(v + 1)), ascending, where, with b = v >> kBlockShift,
// start(v) = block_base[b] + (wide_slot[b] < 0 ? rel16[v]
//                             : rel_wide[wide_slot[b] << kBlockShift | v & 255]):
// offsets relative to their block of 256 values in 16 bits, and in 32 bits for the
// few blocks that hold 65,536 positions or more (crowded values of clustered
// codes); positions are bit-packed, `position_bits` each (8 bytes of padding).
struct Table {
  int32_t lo;    // first bit of the substring (bit j of a code: byte j / 8, bit j % 8)
  int32_t bits;  // its length, 1..32
  const uint32_t* block_base;  // [(2^bits >> kBlockShift) + 1]
  const int32_t* wide_slot;    // [(2^bits >> kBlockShift) + 1]: -1, or a block of rel_wide
  const uint16_t* rel16;       // [2^bits + 1]
  const uint32_t* rel_wide;    // [wide blocks << kBlockShift]
  const uint8_t* positions;
};

struct Job {
  const uint8_t* codes;    // [num_codes, num_bytes] row-major
  int64_t num_codes;
  int64_t num_bytes;
  const Table* tables;
  int32_t num_tables;
  int32_t position_bits;
  const uint8_t* removed;  // bit i (byte i / 8, bit i % 8) set: code i is removed; or null
  const uint8_t* queries;  // [num_queries, num_bytes]
  int64_t num_queries;
  // top-k when k > 0 (k <= the live codes); else every code within `radius`
  int64_t k;
  int32_t radius;
  int64_t budget;          // table entries + lookups one query may visit before giving up
  int64_t capacity;        // results room per query: k, or the range search's buffer
  int32_t* distances;      // [num_queries, capacity]
  int64_t* indices;        // [num_queries, capacity]
  int64_t* counts;         // [num_queries]: results (a range search's may exceed capacity:
                           // then nothing is written), or -1 when the budget ran out
  int64_t* visited;        // [num_queries]: table entries visited (for the cost log)
  // with fewer queries than threads and at least this many codes, the threads
  // search each query together
  int64_t share_from;
  // and a query's search is shared only once one thread has visited this many
  // entries without finishing
  int64_t share_after;
  // ... after a step whose buckets held fewer than this many entries on average
  int64_t share_crowding;
};

void SearchUnitsAvx512(const Job& job, int64_t begin, int64_t end);
void SearchUnitsAvx2(const Job& job, int64_t begin, int64_t end);
void SearchUnitsScalar(const Job& job, int64_t begin, int64_t end);
// Query q searched by `threads` threads together (few queries, many codes).
void SearchQueryAvx512(const Job& job, int64_t q, int threads);
void SearchQueryAvx2(const Job& job, int64_t q, int threads);
void SearchQueryScalar(const Job& job, int64_t q, int threads);

// The substring value of a code: bits [lo, lo + bits) as an integer (bit lo lowest).
inline uint32_t Substring(const uint8_t* code, int64_t num_bytes, int32_t lo, int32_t bits) {
  const int64_t first = lo >> 3;
  uint64_t word = 0;
  const int64_t avail = num_bytes - first;
  const int64_t take = avail < 8 ? avail : 8;
  for (int64_t b = 0; b < take; ++b) word |= static_cast<uint64_t>(code[first + b]) << (8 * b);
  word >>= (lo & 7);
  return static_cast<uint32_t>(bits == 32 ? word & 0xffffffffull : word & ((1ull << bits) - 1));
}

// The i-th of `bits`-bit packed values (bit-packed little-endian, padded by 8 bytes).
inline uint32_t Unpack(const uint8_t* packed, int64_t i, int32_t bits) {
  const uint64_t bit = static_cast<uint64_t>(i) * static_cast<uint64_t>(bits);
  uint64_t word;
  __builtin_memcpy(&word, packed + (bit >> 3), 8);
  word >>= (bit & 7);
  return static_cast<uint32_t>(bits == 32 ? word & 0xffffffffull : word & ((1ull << bits) - 1));
}

}  // namespace mih
}  // namespace tfhash

#endif  // TFHASH_OPS_CC_KERNELS_MULTI_INDEX_H_
