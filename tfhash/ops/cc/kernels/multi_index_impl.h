// The multi-index search loop, written once and compiled once per instruction set
// (the translation unit defines TFHASH_ISA_NS; each compiles __builtin_popcountll
// with its own flags: one popcnt per word on AVX2 and AVX-512 machines, portable
// bit arithmetic on the scalar path). See multi_index.h.

#include <algorithm>
#include <cstring>
#include <vector>

#include "multi_index.h"

namespace tfhash {
namespace mih {
namespace TFHASH_ISA_NS {

inline int CodeDistance(const uint8_t* a, const uint8_t* b, int64_t num_bytes) {
  int total = 0;
  int64_t i = 0;
  for (; i + 8 <= num_bytes; i += 8) {
    uint64_t x, y;
    std::memcpy(&x, a + i, 8);
    std::memcpy(&y, b + i, 8);
    total += __builtin_popcountll(x ^ y);
  }
  for (; i < num_bytes; ++i) total += __builtin_popcount(static_cast<unsigned>(a[i] ^ b[i]));
  return total;
}

// Keeps the k smallest (distance, index) pairs of candidates arriving in any order:
// every candidate at or below `threshold` is kept (the threshold falls once k
// candidates are strictly closer), and each distance's candidates are sorted by
// index when emitted, so ties go to the lower index as in the linear scan. With
// k == 0 it keeps everything at or below the fixed threshold (range search).
class Selector {
 public:
  Selector(int64_t k, int threshold)
      : k_(k), threshold_(threshold), buckets_(static_cast<size_t>(threshold) + 1) {}

  int threshold() const { return threshold_; }
  int64_t kept() const { return kept_; }

  void Add(int distance, int64_t index) {
    if (distance > threshold_) return;
    buckets_[distance].push_back(index);
    ++kept_;
    if (k_ == 0) return;
    while (threshold_ > 0 &&
           kept_ - static_cast<int64_t>(buckets_[threshold_].size()) >= k_) {
      kept_ -= static_cast<int64_t>(buckets_[threshold_].size());
      buckets_[threshold_].clear();
      --threshold_;
    }
  }

  // Writes min(limit, kept) results, nearest first, ties by lower index.
  int64_t Emit(int64_t limit, int32_t* distances, int64_t* indices) {
    int64_t out = 0;
    for (int d = 0; d <= threshold_ && out < limit; ++d) {
      std::vector<int64_t>& bucket = buckets_[d];
      std::sort(bucket.begin(), bucket.end());
      for (const int64_t index : bucket) {
        if (out == limit) break;
        distances[out] = d;
        indices[out] = index;
        ++out;
      }
    }
    return out;
  }

 private:
  const int64_t k_;
  int threshold_;
  int64_t kept_ = 0;
  std::vector<std::vector<int64_t>> buckets_;
};

constexpr int kBatch = 64;  // substring values looked up together

inline int64_t Start(const Table& t, uint64_t value) {
  return static_cast<int64_t>(t.block_base[value >> kBlockShift]) +
         (t.rel16 ? t.rel16[value] : t.rel32[value]);
}

// Searches one query; returns the results kept (or -1: over budget).
inline int64_t SearchOne(const Job& job, const uint8_t* query, int64_t* visited_out,
                         Selector* selector) {
  const int m = job.num_tables;
  std::vector<uint32_t> query_keys(static_cast<size_t>(m));
  int max_bits = 0;
  for (int t = 0; t < m; ++t) {
    query_keys[t] = Substring(query, job.num_bytes, job.tables[t].lo, job.tables[t].bits);
    max_bits = std::max(max_bits, static_cast<int>(job.tables[t].bits));
  }
  int64_t visited = 0;
  bool done = false;
  uint32_t values[kBatch];
  int64_t begins[kBatch], ends[kBatch];
  std::vector<int64_t> candidates;
  for (int r = 0; r <= max_bits && !done; ++r) {
    for (int t = 0; t < m && !done; ++t) {
      const Table& table = job.tables[t];
      if (r <= table.bits) {
        const uint64_t limit = 1ull << table.bits;
        // Every mask of `bits` bits with r set, in increasing order (Gosper's hack),
        // taken kBatch at a time so that the random reads of a batch (directory,
        // positions, codes) are issued together: memory latency overlaps.
        uint64_t mask = r == 0 ? 0 : (1ull << r) - 1;
        bool more = true;
        while (more) {
          int count = 0;
          while (more && count < kBatch) {
            values[count++] = query_keys[t] ^ static_cast<uint32_t>(mask);
            if (mask == 0) {
              more = false;
              break;
            }
            const uint64_t low = mask & (~mask + 1), ripple = mask + low;
            mask = (((ripple ^ mask) >> 2) / low) | ripple;
            more = mask < limit;
          }
          for (int i = 0; i < count; ++i) {
            __builtin_prefetch(table.block_base + (values[i] >> kBlockShift));
            if (table.rel16) {
              __builtin_prefetch(table.rel16 + values[i]);
            } else {
              __builtin_prefetch(table.rel32 + values[i]);
            }
          }
          for (int i = 0; i < count; ++i) {
            // a damaged table file may hold any numbers: never read past the codes
            begins[i] = std::min(Start(table, values[i]), job.num_codes);
            ends[i] = std::max(begins[i], std::min(Start(table, uint64_t{values[i]} + 1), job.num_codes));
            visited += 1 + (ends[i] - begins[i]);
            __builtin_prefetch(table.positions + ((static_cast<uint64_t>(begins[i]) *
                                                   static_cast<uint64_t>(job.position_bits)) >> 3));
          }
          if (visited > job.budget) {
            *visited_out = visited;
            return -1;
          }
          candidates.clear();
          for (int i = 0; i < count; ++i) {
            for (int64_t p = begins[i]; p < ends[i]; ++p) {
              const int64_t index = Unpack(table.positions, p, job.position_bits);
              if (index >= job.num_codes) continue;
              if (job.removed && (job.removed[index >> 3] >> (index & 7) & 1)) continue;
              __builtin_prefetch(job.codes + index * job.num_bytes);
              candidates.push_back(index);
            }
          }
          for (const int64_t index : candidates) {
            const uint8_t* code = job.codes + index * job.num_bytes;
            const int d = CodeDistance(code, query, job.num_bytes);
            if (d > selector->threshold()) continue;
            // found before? at radius r in an earlier table, or r - 1 in a later one
            bool seen = false;
            for (int u = 0; u < m && !seen; ++u) {
              if (u == t) continue;
              const int sub = __builtin_popcount(
                  Substring(code, job.num_bytes, job.tables[u].lo, job.tables[u].bits) ^
                  query_keys[u]);
              seen = u < t ? sub <= r : sub < r;
            }
            if (!seen) selector->Add(d, index);
          }
        }
        // Table t searched to radius r: every code is found once a table is whole.
        if (r == table.bits) done = true;
      }
      // Every code within m * r + t has been found now.
      const int64_t bound = static_cast<int64_t>(m) * r + t;
      if (job.k > 0) {
        if (selector->kept() >= job.k && selector->threshold() <= bound) done = true;
      } else if (bound >= job.radius) {
        done = true;
      }
    }
  }
  *visited_out = visited;
  return selector->kept();
}

inline void SearchUnits(const Job& job, int64_t begin, int64_t end) {
  const int max_distance = static_cast<int>(8 * job.num_bytes);
  for (int64_t q = begin; q < end; ++q) {
    Selector selector(job.k, job.k > 0 ? max_distance : std::min(job.radius, max_distance));
    int64_t visited = 0;
    const int64_t kept = SearchOne(job, job.queries + q * job.num_bytes, &visited, &selector);
    job.visited[q] = visited;
    if (kept < 0) {
      job.counts[q] = -1;
      continue;
    }
    const int64_t want = job.k > 0 ? std::min(kept, job.k) : kept;
    job.counts[q] = want;
    if (want <= job.capacity) {
      selector.Emit(want, job.distances + q * job.capacity, job.indices + q * job.capacity);
    }
  }
}

}  // namespace TFHASH_ISA_NS
}  // namespace mih
}  // namespace tfhash
