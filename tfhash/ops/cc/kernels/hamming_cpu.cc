// CPU packed-Hamming kernels: 64-bit words (a code's last word zero padded), the
// database regrouped word-major in groups of 8 codes so that one AVX-512
// VPOPCNTDQ instruction scores 8 codes, query blocks x database chunks sized for
// cache, and a top-k that buckets candidates by their (small integer) distance.
// No TensorFlow dependency: the TF kernels and tests share it.

#include <algorithm>
#include <cstring>
#include <vector>

#if defined(__AVX512F__) && defined(__AVX512VPOPCNTDQ__)
#include <immintrin.h>
#define TFHASH_AVX512_POPCNT 1
#endif

#include "hamming_kernels.h"

namespace tfhash {
namespace cpu {
namespace {

constexpr int64_t kLanes = 8;           // codes per word-major group
constexpr int64_t kChunkGroups = 256;   // 2,048 codes per database chunk
constexpr int64_t kQueryBlock = 16;     // queries sharing one chunk while it is in cache

// One word of a packed code, zero padded past num_bytes.
inline uint64_t Word(const uint8_t* code, int64_t w, int64_t num_bytes) {
  uint64_t word = 0;
  const int64_t start = w * 8;
  std::memcpy(&word, code + start, static_cast<size_t>(std::min<int64_t>(8, num_bytes - start)));
  return word;
}

struct Prepared {
  int64_t words = 0;
  int64_t groups = 0;
  std::vector<uint64_t> database;  // [groups][words][kLanes]
  std::vector<uint64_t> queries;   // [num_queries][words]
};

struct PrepareCtx {
  const CodesView* codes;
  Prepared* out;
};

void PrepareGroups(void* raw, int64_t begin, int64_t end) {
  auto* ctx = static_cast<PrepareCtx*>(raw);
  const CodesView& c = *ctx->codes;
  Prepared& p = *ctx->out;
  for (int64_t g = begin; g < end; ++g) {
    for (int64_t w = 0; w < p.words; ++w) {
      uint64_t* dst = &p.database[(g * p.words + w) * kLanes];
      for (int64_t lane = 0; lane < kLanes; ++lane) {
        const int64_t i = g * kLanes + lane;
        dst[lane] = i < c.num_database ? Word(c.database + i * c.num_bytes, w, c.num_bytes) : 0;
      }
    }
  }
}

Prepared Prepare(const CodesView& c, void* pool, ParallelFor parallel_for) {
  Prepared p;
  p.words = (c.num_bytes + 7) / 8;
  p.groups = (c.num_database + kLanes - 1) / kLanes;
  p.database.resize(static_cast<size_t>(p.groups * p.words * kLanes));
  p.queries.resize(static_cast<size_t>(c.num_queries * p.words));
  for (int64_t q = 0; q < c.num_queries; ++q) {
    for (int64_t w = 0; w < p.words; ++w) {
      p.queries[q * p.words + w] = Word(c.queries + q * c.num_bytes, w, c.num_bytes);
    }
  }
  PrepareCtx ctx{&c, &p};
  parallel_for(pool, p.groups, 40 * p.words, PrepareGroups, &ctx);
  return p;
}

#ifdef TFHASH_AVX512_POPCNT
// Distances from one query to the 8 codes of one group, as 8 x int64 lanes.
inline __m512i GroupDistancesVector(const uint64_t* group, const uint64_t* query, int64_t words) {
  __m512i acc = _mm512_setzero_si512();
  for (int64_t w = 0; w < words; ++w) {
    const __m512i x = _mm512_xor_si512(_mm512_loadu_si512(group + w * kLanes),
                                       _mm512_set1_epi64(static_cast<long long>(query[w])));
    acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(x));
  }
  return acc;
}
#endif

// Distances from one query to the 8 codes of one group.
inline void GroupDistances(const uint64_t* group, const uint64_t* query, int64_t words,
                           int32_t out[kLanes]) {
#ifdef TFHASH_AVX512_POPCNT
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out),
                      _mm512_cvtepi64_epi32(GroupDistancesVector(group, query, words)));
#else
  for (int64_t lane = 0; lane < kLanes; ++lane) out[lane] = 0;
  for (int64_t w = 0; w < words; ++w) {
    for (int64_t lane = 0; lane < kLanes; ++lane) {
      out[lane] += __builtin_popcountll(group[w * kLanes + lane] ^ query[w]);
    }
  }
#endif
}

struct DistanceCtx {
  const CodesView* codes;
  const Prepared* prepared;
  int32_t* distances;
};

void DistanceBlocks(void* raw, int64_t begin, int64_t end) {
  auto* ctx = static_cast<DistanceCtx*>(raw);
  const CodesView& c = *ctx->codes;
  const Prepared& p = *ctx->prepared;
  int32_t lanes[kLanes];
  const int64_t q_end = std::min(end * kQueryBlock, c.num_queries);
  for (int64_t chunk = 0; chunk < p.groups; chunk += kChunkGroups) {
    const int64_t chunk_end = std::min(chunk + kChunkGroups, p.groups);
    for (int64_t q = begin * kQueryBlock; q < q_end; ++q) {
      const uint64_t* query = &p.queries[q * p.words];
      int32_t* row = ctx->distances + q * c.num_database;
      for (int64_t g = chunk; g < chunk_end; ++g) {
        GroupDistances(&p.database[g * p.words * kLanes], query, p.words, lanes);
        const int64_t base = g * kLanes;
        const int64_t valid = std::min<int64_t>(kLanes, c.num_database - base);
        std::memcpy(row + base, lanes, static_cast<size_t>(valid) * sizeof(int32_t));
      }
    }
  }
}

// Keeps the k smallest (distance, index) pairs of a stream seen in index order.
// Candidates are bucketed by distance; `threshold_` only falls, once k candidates
// are strictly closer, so most of the database is rejected by one comparison.
class Selector {
 public:
  Selector(int64_t k, int max_distance)
      : k_(k), threshold_(max_distance), buckets_(static_cast<size_t>(max_distance) + 1) {}

  inline void Add(int distance, int64_t index) {
    if (distance > threshold_) return;
    std::vector<int64_t>& bucket = buckets_[distance];
    if (distance == threshold_) {
      // equal distances: the earlier (lower) indices win, later ones are not needed
      if (below_ + static_cast<int64_t>(bucket.size()) < k_) bucket.push_back(index);
      return;
    }
    bucket.push_back(index);
    ++below_;
    while (below_ >= k_) {
      buckets_[threshold_].clear();
      --threshold_;
      below_ -= static_cast<int64_t>(buckets_[threshold_].size());
    }
  }

  int threshold() const { return threshold_; }

  void Emit(int32_t* distances, int64_t* indices) const {
    int64_t out = 0;
    for (int d = 0; d <= threshold_ && out < k_; ++d) {
      for (const int64_t index : buckets_[d]) {
        if (out == k_) break;
        distances[out] = d;
        indices[out] = index;
        ++out;
      }
    }
  }

 private:
  const int64_t k_;
  int threshold_;
  int64_t below_ = 0;  // candidates strictly below threshold_
  std::vector<std::vector<int64_t>> buckets_;
};

struct TopKCtx {
  const CodesView* codes;
  const Prepared* prepared;
  int64_t k;
  int32_t* distances;
  int64_t* indices;
};

void TopKBlocks(void* raw, int64_t begin, int64_t end) {
  auto* ctx = static_cast<TopKCtx*>(raw);
  const CodesView& c = *ctx->codes;
  const Prepared& p = *ctx->prepared;
  const int max_distance = static_cast<int>(8 * p.words * 8);
  [[maybe_unused]] int32_t lanes[kLanes];
  for (int64_t block = begin; block < end; ++block) {
    const int64_t q_begin = block * kQueryBlock;
    const int64_t q_end = std::min(q_begin + kQueryBlock, c.num_queries);
    std::vector<Selector> selectors;
    selectors.reserve(static_cast<size_t>(q_end - q_begin));
    for (int64_t q = q_begin; q < q_end; ++q) selectors.emplace_back(ctx->k, max_distance);
    for (int64_t chunk = 0; chunk < p.groups; chunk += kChunkGroups) {
      const int64_t chunk_end = std::min(chunk + kChunkGroups, p.groups);
      for (int64_t q = q_begin; q < q_end; ++q) {
        const uint64_t* query = &p.queries[q * p.words];
        Selector& selector = selectors[static_cast<size_t>(q - q_begin)];
        for (int64_t g = chunk; g < chunk_end; ++g) {
          const int64_t base = g * kLanes;
          const int64_t valid = std::min<int64_t>(kLanes, c.num_database - base);
#ifdef TFHASH_AVX512_POPCNT
          // Most groups have no code at or below the threshold once it has settled:
          // one compare rejects all 8, and only surviving lanes reach the selector.
          const __m512i d = GroupDistancesVector(&p.database[g * p.words * kLanes], query, p.words);
          unsigned mask = _mm512_cmple_epi64_mask(d, _mm512_set1_epi64(selector.threshold()));
          if (valid < kLanes) mask &= (1u << valid) - 1u;
          if (mask == 0) continue;
          alignas(64) int64_t values[kLanes];
          _mm512_store_si512(values, d);
          while (mask) {
            const int lane = __builtin_ctz(mask);
            mask &= mask - 1;
            selector.Add(static_cast<int>(values[lane]), base + lane);
          }
#else
          GroupDistances(&p.database[g * p.words * kLanes], query, p.words, lanes);
          for (int64_t lane = 0; lane < valid; ++lane) selector.Add(lanes[lane], base + lane);
#endif
        }
      }
    }
    for (int64_t q = q_begin; q < q_end; ++q) {
      selectors[static_cast<size_t>(q - q_begin)].Emit(ctx->distances + q * ctx->k,
                                                       ctx->indices + q * ctx->k);
    }
  }
}

}  // namespace

void Distance(const CodesView& codes, int32_t* distances, void* pool, ParallelFor parallel_for) {
  if (codes.num_queries == 0 || codes.num_database == 0) return;
  const Prepared prepared = Prepare(codes, pool, parallel_for);
  DistanceCtx ctx{&codes, &prepared, distances};
  const int64_t blocks = (codes.num_queries + kQueryBlock - 1) / kQueryBlock;
  parallel_for(pool, blocks, kQueryBlock * codes.num_database * (2 + prepared.words),
               DistanceBlocks, &ctx);
}

void TopK(const CodesView& codes, int64_t k, int32_t* distances, int64_t* indices, void* pool,
          ParallelFor parallel_for) {
  if (codes.num_queries == 0) return;
  const Prepared prepared = Prepare(codes, pool, parallel_for);
  TopKCtx ctx{&codes, &prepared, k, distances, indices};
  const int64_t blocks = (codes.num_queries + kQueryBlock - 1) / kQueryBlock;
  parallel_for(pool, blocks, kQueryBlock * codes.num_database * (3 + prepared.words),
               TopKBlocks, &ctx);
}

const char* PopcountPath() {
#ifdef TFHASH_AVX512_POPCNT
  return "avx512-vpopcntdq";
#elif defined(__POPCNT__)
  return "popcnt";
#else
  return "portable";
#endif
}

}  // namespace cpu
}  // namespace tfhash
