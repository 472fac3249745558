// The work units of the CPU kernels, one implementation per instruction set:
// hamming_cpu_avx512.cc (AVX-512 VPOPCNTDQ), hamming_cpu_avx2.cc (AVX2: nibble-lookup
// popcount with vpshufb) and hamming_cpu_scalar.cc (portable C++), each compiled with
// its own flags and chosen at run time by hamming_cpu.cc. Only plain data crosses this
// header, so no code compiled for one instruction set is shared with another.
#ifndef TFHASH_OPS_CC_KERNELS_HAMMING_CPU_ISA_H_
#define TFHASH_OPS_CC_KERNELS_HAMMING_CPU_ISA_H_

#include <atomic>
#include <cstdint>

namespace tfhash {
namespace cpu {

constexpr int64_t kLanes = 8;          // codes per word-major group
constexpr int64_t kChunkGroups = 256;  // 2,048 codes per database chunk (query blocks)
constexpr int64_t kQueryBlock = 16;    // queries sharing one chunk while it is in cache

// A database in the kernel's layout: [groups][words][kLanes] 64-bit words, the last
// word of a code and the codes past num_database zero.
struct Grouped {
  const uint64_t* words;
  int64_t groups;
  int64_t words_per_code;
  int64_t num_database;
};

// All distances of query blocks [begin, end): distances [num_queries, num_database].
struct DistanceJob {
  Grouped db;
  const uint64_t* queries;  // [num_queries][words_per_code]
  int64_t num_queries;
  int32_t* distances;
};

// Top-k candidates of (query block, database shard) units: unit u covers query
// block u / shards and the groups [shard * shard_groups, ...) of shard u % shards.
// Each query writes its shard's candidates, nearest first, ties by lower index, to
// distances/indices [num_queries][shards][k], and their number to counts.
struct TopKJob {
  Grouped db;
  const uint64_t* queries;
  int64_t num_queries;
  int64_t k;
  int64_t shards;
  int64_t shard_groups;
  int32_t* distances;
  int64_t* indices;
  int64_t* counts;  // [num_queries][shards]
  // [num_queries][shards], null with one shard: the k-th distance each shard has
  // reached so far (kNoBound until it holds k candidates). It only falls, and it
  // bounds the later shards: k codes at or below it, with lower indices, exist, so a
  // later code as far or further cannot be in the query's top-k.
  std::atomic<int32_t>* bounds;
};

constexpr int32_t kNoBound = 1 << 30;

void DistanceUnitsAvx512(const DistanceJob& job, int64_t begin, int64_t end);
void DistanceUnitsAvx2(const DistanceJob& job, int64_t begin, int64_t end);
void DistanceUnitsScalar(const DistanceJob& job, int64_t begin, int64_t end);
void TopKUnitsAvx512(const TopKJob& job, int64_t begin, int64_t end);
void TopKUnitsAvx2(const TopKJob& job, int64_t begin, int64_t end);
void TopKUnitsScalar(const TopKJob& job, int64_t begin, int64_t end);

}  // namespace cpu
}  // namespace tfhash

#endif  // TFHASH_OPS_CC_KERNELS_HAMMING_CPU_ISA_H_
