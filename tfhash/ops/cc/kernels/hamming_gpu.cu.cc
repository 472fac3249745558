// CUDA packed-Hamming kernels with a C ABI (no TensorFlow dependency), so they can
// be built and tested with nvcc alone; the TF GPU kernels call the same entry points.
//
// Top-k in three launches, never materialising the [q, n] matrix:
//   1. histogram: the database is cut into slices; one block per (slice, query)
//      counts its codes by distance (distances are integers in [0, 8 * nbytes]);
//   2. scan: one block per query sums the histograms, finds the threshold T (the
//      smallest distance with at least k codes at or below it) and turns each
//      slice's counts for d <= T into output offsets: base[d] (codes closer than d
//      anywhere) + the count of distance-d codes in earlier slices;
//   3. select: one warp per (slice, query) walks its slice in index order; a code at
//      distance d <= T lands at offset[d] + (distance-d codes before it in the slice),
//      which is its rank in (distance, index) order, and is written when that rank
//      is below k. The result is already sorted: ties go to the lower index.
// Every slice of the database is read by many blocks at once, so one query uses
// the whole GPU.

#include <cstdint>

#include <cuda_runtime.h>

namespace {

constexpr int kSliceCodes = 16384;  // database codes per slice
constexpr int kHistThreads = 256;
constexpr int kMaxWords = 16;      // up to 1024-bit codes

__device__ __forceinline__ uint64_t LoadWord(const uint8_t* code, int w, int nbytes) {
  uint64_t word = 0;
  const int start = w * 8;
  const int len = min(8, nbytes - start);
  if (len == 8 && (reinterpret_cast<uintptr_t>(code + start) & 7) == 0) {
    return *reinterpret_cast<const uint64_t*>(code + start);
  }
  for (int b = 0; b < len; ++b) word |= static_cast<uint64_t>(code[start + b]) << (8 * b);
  return word;
}

__device__ __forceinline__ int Distance(const uint64_t* query, const uint8_t* code, int words,
                                        int nbytes) {
  int d = 0;
  for (int w = 0; w < words; ++w) d += __popcll(query[w] ^ LoadWord(code, w, nbytes));
  return d;
}

__device__ __forceinline__ void LoadQuery(const uint8_t* queries, int64_t q, int words, int nbytes,
                                          uint64_t* out) {
  for (int w = 0; w < words; ++w) out[w] = LoadWord(queries + q * nbytes, w, nbytes);
}

__global__ void DistanceKernel(const uint8_t* queries, const uint8_t* database, int64_t num_queries,
                               int64_t num_database, int nbytes, int32_t* distances) {
  const int words = (nbytes + 7) / 8;
  const int64_t q = blockIdx.y;
  uint64_t query[kMaxWords];
  LoadQuery(queries, q, words, nbytes, query);
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < num_database;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    distances[q * num_database + i] = Distance(query, database + i * nbytes, words, nbytes);
  }
}

// hist: [num_queries][num_slices][bins]
__global__ void HistogramKernel(const uint8_t* queries, const uint8_t* database,
                                int64_t num_database, int nbytes, int bins, int64_t num_slices,
                                int32_t* hist) {
  extern __shared__ int32_t local[];
  const int words = (nbytes + 7) / 8;
  const int64_t slice = blockIdx.x, q = blockIdx.y;
  for (int b = threadIdx.x; b < bins; b += blockDim.x) local[b] = 0;
  __syncthreads();
  uint64_t query[kMaxWords];
  LoadQuery(queries, q, words, nbytes, query);
  const int64_t begin = slice * kSliceCodes;
  const int64_t end = min(begin + kSliceCodes, num_database);
  // Every lane runs every iteration (blockDim is a multiple of 32) so that lanes with
  // equal distances can pool their counts: one shared atomic per distinct distance
  // in a warp instead of one per code (random codes crowd a few middle distances).
  const unsigned below_me = (1u << (threadIdx.x & 31)) - 1u;
  for (int64_t tile = begin; tile < end; tile += blockDim.x) {
    const int64_t i = tile + threadIdx.x;
    const int d = i < end ? Distance(query, database + i * nbytes, words, nbytes) : bins;
    const unsigned peers = __match_any_sync(0xffffffffu, d);
    if (d < bins && (peers & below_me) == 0) atomicAdd(&local[d], __popc(peers));
  }
  __syncthreads();
  int32_t* out = hist + (q * num_slices + slice) * bins;
  for (int b = threadIdx.x; b < bins; b += blockDim.x) out[b] = local[b];
}

// Turns hist into offsets in place for d <= T; threshold[q] = T.
__global__ void ScanKernel(int32_t* hist, int64_t num_slices, int bins, int64_t k,
                           int32_t* threshold) {
  extern __shared__ int64_t totals[];  // [bins]
  const int64_t q = blockIdx.x;
  int32_t* h = hist + q * num_slices * bins;
  for (int b = threadIdx.x; b < bins; b += blockDim.x) {
    int64_t sum = 0;
    for (int64_t s = 0; s < num_slices; ++s) sum += h[s * bins + b];
    totals[b] = sum;
  }
  __syncthreads();
  __shared__ int t_shared;
  if (threadIdx.x == 0) {
    int64_t cumulative = 0;
    int t = bins - 1;
    for (int b = 0; b < bins; ++b) {
      cumulative += totals[b];
      if (cumulative >= k) {
        t = b;
        break;
      }
    }
    // exclusive prefix: base[d] = codes strictly closer than d
    int64_t base = 0;
    for (int b = 0; b < bins; ++b) {
      const int64_t count = totals[b];
      totals[b] = base;
      base += count;
    }
    t_shared = t;
    threshold[q] = t;
  }
  __syncthreads();
  const int t = t_shared;
  for (int b = threadIdx.x; b <= t; b += blockDim.x) {
    int64_t running = totals[b];
    for (int64_t s = 0; s < num_slices; ++s) {
      const int32_t count = h[s * bins + b];
      // offsets beyond k are never used; clamp to keep them in int32
      h[s * bins + b] = static_cast<int32_t>(running < k ? running : k);
      running += count;
    }
  }
}

// One warp per (slice, query).
__global__ void SelectKernel(const uint8_t* queries, const uint8_t* database, int64_t num_database,
                             int nbytes, int bins, int64_t num_slices, const int32_t* offsets,
                             const int32_t* threshold, int64_t k, int32_t* out_distances,
                             int64_t* out_indices) {
  extern __shared__ int32_t seen[];  // [bins]: distance-d codes met so far in this slice
  const int words = (nbytes + 7) / 8;
  const int64_t slice = blockIdx.x, q = blockIdx.y;
  const int lane = threadIdx.x;
  const int t = threshold[q];
  for (int b = lane; b <= t; b += 32) seen[b] = 0;
  __syncwarp();
  uint64_t query[kMaxWords];
  LoadQuery(queries, q, words, nbytes, query);
  const int32_t* offset = offsets + (q * num_slices + slice) * bins;
  const int64_t begin = slice * kSliceCodes;
  const int64_t end = min(begin + kSliceCodes, num_database);
  const unsigned below_me = (1u << lane) - 1u;
  for (int64_t tile = begin; tile < end; tile += 32) {
    const int64_t i = tile + lane;
    int d = bins;  // sentinel: out of range or above the threshold
    if (i < end) {
      d = Distance(query, database + i * nbytes, words, nbytes);
      if (d > t) d = bins;
    }
    const unsigned peers = __match_any_sync(0xffffffffu, d);
    if (d < bins) {
      const int64_t rank = static_cast<int64_t>(offset[d]) + seen[d] + __popc(peers & below_me);
      if (rank < k) {
        out_distances[q * k + rank] = d;
        out_indices[q * k + rank] = i;
      }
    }
    __syncwarp();
    // the lowest lane of each group of equal distances advances its counter
    if (d < bins && (peers & below_me) == 0) seen[d] += __popc(peers);
    __syncwarp();
  }
}

int64_t NumSlices(int64_t num_database) { return (num_database + kSliceCodes - 1) / kSliceCodes; }

}  // namespace

extern "C" {

// Bytes of device workspace tfhash_gpu_topk needs.
int64_t tfhash_gpu_topk_workspace_bytes(int64_t num_queries, int64_t num_database,
                                        int64_t num_bytes) {
  const int64_t bins = 8 * num_bytes + 1;
  return num_queries * NumSlices(num_database) * bins * 4 + num_queries * 4 + 256;
}

// Returns 0 on success, else a cudaError_t (or -1 for unsupported sizes).
int tfhash_gpu_distance(const uint8_t* queries, const uint8_t* database, int64_t num_queries,
                        int64_t num_database, int64_t num_bytes, int32_t* distances,
                        void* stream) {
  if (num_bytes <= 0 || num_bytes > 8 * kMaxWords || num_queries > 65535) return -1;
  if (num_queries == 0 || num_database == 0) return 0;
  const int threads = 256;
  const int64_t wanted = (num_database + threads - 1) / threads;
  const int64_t blocks = wanted < 4096 ? wanted : 4096;
  DistanceKernel<<<dim3(static_cast<unsigned>(blocks), static_cast<unsigned>(num_queries)), threads,
                   0, static_cast<cudaStream_t>(stream)>>>(
      queries, database, num_queries, num_database, static_cast<int>(num_bytes), distances);
  return static_cast<int>(cudaGetLastError());
}

int tfhash_gpu_topk(const uint8_t* queries, const uint8_t* database, int64_t num_queries,
                    int64_t num_database, int64_t num_bytes, int64_t k, int32_t* distances,
                    int64_t* indices, void* workspace, void* stream) {
  if (num_bytes <= 0 || num_bytes > 8 * kMaxWords || num_queries > 65535 || k <= 0 ||
      k > num_database || k > INT32_MAX) {
    return -1;
  }
  if (num_queries == 0) return 0;
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  const int bins = static_cast<int>(8 * num_bytes + 1);
  const int64_t slices = NumSlices(num_database);
  if (slices > 2147483647) return -1;
  int32_t* hist = static_cast<int32_t*>(workspace);
  int32_t* threshold = hist + num_queries * slices * bins;
  const dim3 grid(static_cast<unsigned>(slices), static_cast<unsigned>(num_queries));
  HistogramKernel<<<grid, kHistThreads, bins * sizeof(int32_t), s>>>(
      queries, database, num_database, static_cast<int>(num_bytes), bins, slices, hist);
  ScanKernel<<<static_cast<unsigned>(num_queries), 256, bins * sizeof(int64_t), s>>>(
      hist, slices, bins, k, threshold);
  SelectKernel<<<grid, 32, bins * sizeof(int32_t), s>>>(
      queries, database, num_database, static_cast<int>(num_bytes), bins, slices, hist, threshold,
      k, distances, indices);
  return static_cast<int>(cudaGetLastError());
}

}  // extern "C"
