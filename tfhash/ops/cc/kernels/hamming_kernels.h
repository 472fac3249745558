// Packed-Hamming functors shared by the TensorFlow kernels (CPU, GPU) and the
// TF-free C ABI used to test the CUDA kernel on machines without TensorFlow.
#ifndef TFHASH_OPS_CC_KERNELS_HAMMING_KERNELS_H_
#define TFHASH_OPS_CC_KERNELS_HAMMING_KERNELS_H_

#include <cstdint>

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
// 1 <= k <= num_database.
void TopK(const CodesView& codes, int64_t k, int32_t* distances, int64_t* indices, void* pool,
          ParallelFor parallel_for);

// Which popcount path this build uses: "avx512-vpopcntdq" or "popcnt" or "portable".
const char* PopcountPath();

}  // namespace cpu
}  // namespace tfhash

#endif  // TFHASH_OPS_CC_KERNELS_HAMMING_KERNELS_H_
