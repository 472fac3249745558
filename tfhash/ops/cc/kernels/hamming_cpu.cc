// CPU packed-Hamming kernels: 64-bit words (a code's last word zero padded), the
// database regrouped word-major in groups of 8 codes, query blocks x database chunks
// sized for cache, and a top-k that buckets candidates by their (small integer)
// distance. The instruction set is chosen at run time (AVX-512 VPOPCNTDQ, AVX2,
// portable; `TFHASH_CPU_ISA` forces one), so one build runs well on any x86-64 CPU.
// With few queries the database is split into shards whose top-k lists are merged,
// so one query uses every thread; each shard publishes the k-th distance it has
// reached, which the query's later shards use as a cap. No TensorFlow dependency.

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "hamming_cpu_isa.h"
#include "hamming_kernels.h"

namespace tfhash {
namespace cpu {
namespace {

enum class Isa { kScalar, kAvx2, kAvx512 };

bool Supported(Isa isa) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  switch (isa) {
    case Isa::kAvx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vpopcntdq");
    case Isa::kAvx2:
      return __builtin_cpu_supports("avx2");
    case Isa::kScalar:
      return true;
  }
  return false;
#else
  return isa == Isa::kScalar;
#endif
}

const char* Name(Isa isa) {
  switch (isa) {
    case Isa::kAvx512:
      return "avx512-vpopcntdq";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kScalar:
      return "scalar";
  }
  return "scalar";
}

// The best path of this CPU, unless TFHASH_CPU_ISA names a supported one; `note`
// says when a forced path is not supported here.
Isa Chosen(std::string* note = nullptr) {
  const Isa best = Supported(Isa::kAvx512) ? Isa::kAvx512
                   : Supported(Isa::kAvx2) ? Isa::kAvx2 : Isa::kScalar;
  const char* forced = std::getenv("TFHASH_CPU_ISA");
  if (forced == nullptr || *forced == '\0') return best;
  const std::string name(forced);
  Isa wanted = best;
  if (name == "avx512") {
    wanted = Isa::kAvx512;
  } else if (name == "avx2") {
    wanted = Isa::kAvx2;
  } else if (name == "scalar") {
    wanted = Isa::kScalar;
  } else {
    if (note) *note = " (TFHASH_CPU_ISA=" + name + " is not one of avx512, avx2, scalar)";
    return best;
  }
  if (!Supported(wanted)) {
    if (note) *note = " (TFHASH_CPU_ISA=" + name + ": not supported by this CPU)";
    return best;
  }
  if (note) *note = " (TFHASH_CPU_ISA)";
  return wanted;
}

inline uint64_t Word(const uint8_t* code, int64_t w, int64_t num_bytes) {
  uint64_t word = 0;
  const int64_t start = w * 8;
  std::memcpy(&word, code + start, static_cast<size_t>(std::min<int64_t>(8, num_bytes - start)));
  return word;
}

std::vector<uint64_t> QueryWords(const uint8_t* queries, int64_t num_queries, int64_t num_bytes) {
  const int64_t words = (num_bytes + 7) / 8;
  std::vector<uint64_t> out(static_cast<size_t>(num_queries * words));
  for (int64_t q = 0; q < num_queries; ++q) {
    for (int64_t w = 0; w < words; ++w) out[q * words + w] = Word(queries + q * num_bytes, w, num_bytes);
  }
  return out;
}

struct GroupCtx {
  const CodesView* codes;
  uint64_t* out;
  int64_t words;
};

void GroupRange(void* raw, int64_t begin, int64_t end) {
  const auto* ctx = static_cast<GroupCtx*>(raw);
  const CodesView& c = *ctx->codes;
  for (int64_t g = begin; g < end; ++g) {
    for (int64_t w = 0; w < ctx->words; ++w) {
      uint64_t* dst = ctx->out + (g * ctx->words + w) * kLanes;
      for (int64_t lane = 0; lane < kLanes; ++lane) {
        const int64_t i = g * kLanes + lane;
        dst[lane] = i < c.num_database ? Word(c.database + i * c.num_bytes, w, c.num_bytes) : 0;
      }
    }
  }
}

// The database in the kernel's layout, owned.
struct OwnedGroups {
  std::vector<uint64_t> words;
  Grouped view;
};

OwnedGroups Group(const CodesView& c, void* pool, ParallelFor parallel_for) {
  OwnedGroups g;
  const int64_t words = (c.num_bytes + 7) / 8;
  const int64_t groups = (c.num_database + kLanes - 1) / kLanes;
  g.words.resize(static_cast<size_t>(groups * words * kLanes));
  GroupCtx ctx{&c, g.words.data(), words};
  parallel_for(pool, groups, 40 * words, GroupRange, &ctx);
  g.view = Grouped{g.words.data(), groups, words, c.num_database};
  return g;
}

template <typename Job>
struct UnitsCtx {
  const Job* job;
  void (*units)(const Job&, int64_t, int64_t);
};

template <typename Job>
void RunUnits(void* raw, int64_t begin, int64_t end) {
  const auto* ctx = static_cast<UnitsCtx<Job>*>(raw);
  ctx->units(*ctx->job, begin, end);
}

}  // namespace

std::string CpuIsa() {
  std::string note;
  const Isa isa = Chosen(&note);
  return Name(isa) + note;
}

void Distance(const CodesView& codes, int32_t* distances, void* pool, ParallelFor parallel_for) {
  if (codes.num_queries == 0 || codes.num_database == 0) return;
  const OwnedGroups groups = Group(codes, pool, parallel_for);
  const std::vector<uint64_t> queries = QueryWords(codes.queries, codes.num_queries, codes.num_bytes);
  const DistanceJob job{groups.view, queries.data(), codes.num_queries, distances};
  const Isa isa = Chosen();
  UnitsCtx<DistanceJob> ctx{&job, isa == Isa::kAvx512 ? DistanceUnitsAvx512
                                  : isa == Isa::kAvx2 ? DistanceUnitsAvx2 : DistanceUnitsScalar};
  const int64_t blocks = (codes.num_queries + kQueryBlock - 1) / kQueryBlock;
  parallel_for(pool, blocks, kQueryBlock * codes.num_database * (2 + groups.view.words_per_code),
               RunUnits<DistanceJob>, &ctx);
}

void TopKGrouped(const Grouped& db, const uint8_t* queries, int64_t num_queries, int64_t num_bytes,
                 int64_t k, int32_t* distances, int64_t* indices, int num_threads, void* pool,
                 ParallelFor parallel_for) {
  if (num_queries == 0) return;
  const std::vector<uint64_t> query_words = QueryWords(queries, num_queries, num_bytes);
  const int64_t blocks = (num_queries + kQueryBlock - 1) / kQueryBlock;
  // Enough units for every thread: with few query blocks, split the database too.
  const int64_t wanted = std::max<int64_t>(1, (4 * std::max(1, num_threads) + blocks - 1) / blocks);
  const int64_t shards_max = std::max<int64_t>(1, db.groups / 64);  // >= 512 codes a shard
  const int64_t shard_groups = (db.groups + std::min(wanted, shards_max) - 1) /
                               std::min(wanted, shards_max);
  const int64_t shards = (db.groups + shard_groups - 1) / shard_groups;
  std::vector<int32_t> shard_distances;
  std::vector<int64_t> shard_indices;
  std::vector<int64_t> counts(static_cast<size_t>(num_queries * shards));
  if (shards > 1) {
    shard_distances.resize(static_cast<size_t>(num_queries * shards * k));
    shard_indices.resize(shard_distances.size());
  }
  std::unique_ptr<std::atomic<int32_t>[]> bounds;
  if (shards > 1) {
    bounds.reset(new std::atomic<int32_t>[static_cast<size_t>(num_queries * shards)]);
    for (int64_t i = 0; i < num_queries * shards; ++i) bounds[i].store(kNoBound);
  }
  const TopKJob job{db, query_words.data(), num_queries, k, shards, shard_groups,
                    shards > 1 ? shard_distances.data() : distances,
                    shards > 1 ? shard_indices.data() : indices, counts.data(), bounds.get()};
  const Isa isa = Chosen();
  UnitsCtx<TopKJob> ctx{&job, isa == Isa::kAvx512 ? TopKUnitsAvx512
                              : isa == Isa::kAvx2 ? TopKUnitsAvx2 : TopKUnitsScalar};
  const int64_t per_unit = std::min<int64_t>(kQueryBlock, num_queries) * shard_groups * kLanes;
  parallel_for(pool, blocks * shards, per_unit * (3 + db.words_per_code), RunUnits<TopKJob>, &ctx);
  if (shards == 1) return;
  // Shards cover increasing index ranges and list their candidates nearest first
  // with ties by lower index: a stable merge by distance keeps that order.
  std::vector<std::pair<int32_t, int64_t>> merged;
  for (int64_t q = 0; q < num_queries; ++q) {
    merged.clear();
    for (int64_t s = 0; s < shards; ++s) {
      const int64_t slot = q * shards + s;
      for (int64_t i = 0; i < counts[slot]; ++i) {
        merged.emplace_back(shard_distances[slot * k + i], shard_indices[slot * k + i]);
      }
    }
    std::partial_sort(merged.begin(), merged.begin() + k, merged.end());
    for (int64_t i = 0; i < k; ++i) {
      distances[q * k + i] = merged[i].first;
      indices[q * k + i] = merged[i].second;
    }
  }
}

void TopK(const CodesView& codes, int64_t k, int32_t* distances, int64_t* indices, int num_threads,
          void* pool, ParallelFor parallel_for) {
  if (codes.num_queries == 0) return;
  const OwnedGroups groups = Group(codes, pool, parallel_for);
  TopKGrouped(groups.view, codes.queries, codes.num_queries, codes.num_bytes, k, distances, indices,
              num_threads, pool, parallel_for);
}

}  // namespace cpu
}  // namespace tfhash
