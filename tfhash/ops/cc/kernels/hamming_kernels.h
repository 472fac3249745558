// Packed-Hamming functors shared by the TensorFlow kernels (CPU, GPU) and the
// TF-free C ABI used to test the CUDA kernel on machines without TensorFlow.
#ifndef TFHASH_OPS_CC_KERNELS_HAMMING_KERNELS_H_
#define TFHASH_OPS_CC_KERNELS_HAMMING_KERNELS_H_

#include <cstdint>
#include <string>

#include "hamming_cpu_isa.h"

namespace tfhash {

// Inputs of one call: row-major packed codes.
struct CodesView {
  const uint8_t* queries;   // [num_queries, num_bytes]
  const uint8_t* database;  // [num_database, num_bytes]
  int64_t num_queries;
  int64_t num_database;
  int64_t num_bytes;
};

// Runs fn(begin, end) over [0, total) on a thread pool; `cost` is the work of one
// unit in cycles, used to size the shards.
using ParallelFor = void (*)(void* pool, int64_t total, int64_t cost,
                             void (*fn)(void* ctx, int64_t begin, int64_t end), void* ctx);

namespace cpu {

// distances: int32 [num_queries, num_database].
void Distance(const CodesView& codes, int32_t* distances, void* pool, ParallelFor parallel_for);

// distances: int32 [num_queries, k], indices: int64 [num_queries, k];
// 1 <= k <= num_database. `num_threads`: the pool's threads (with few queries the
// database is split so that every thread has work).
void TopK(const CodesView& codes, int64_t k, int32_t* distances, int64_t* indices, int num_threads,
          void* pool, ParallelFor parallel_for);

// TopK against a database already in the kernel's layout (`Grouped`, see
// hamming_cpu_isa.h): what an index that prepares its database once calls.
void TopKGrouped(const Grouped& db, const uint8_t* queries, int64_t num_queries, int64_t num_bytes,
                 int64_t k, int32_t* distances, int64_t* indices, int num_threads, void* pool,
                 ParallelFor parallel_for);

// The instruction set the kernels use now: "avx512-vpopcntdq", "avx2" or "scalar",
// chosen from the CPU's features unless TFHASH_CPU_ISA=avx512|avx2|scalar forces a
// supported one (a note in parentheses says so, or why a forced one was not used).
std::string CpuIsa();

}  // namespace cpu
}  // namespace tfhash

#endif  // TFHASH_OPS_CC_KERNELS_HAMMING_KERNELS_H_
