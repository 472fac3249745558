// The loops of the CPU kernels, written once and compiled once per instruction set.
//
// Include this from a translation unit that has defined TFHASH_ISA_NS (a namespace
// name) and, inside tfhash::cpu::TFHASH_ISA_NS, the two primitives:
//
//   // distances from one query to the kLanes codes of one group
//   void GroupDistances(const uint64_t* group, const uint64_t* query, int64_t words,
//                       int32_t out[kLanes]);
//   // the same, and the bit mask of the lanes whose distance is <= threshold (out
//   // must hold those lanes' distances; others may be anything)
//   unsigned GroupFilter(const uint64_t* group, const uint64_t* query, int64_t words,
//                        int threshold, int32_t out[kLanes]);
//
// Everything here lives in that namespace, so no function compiled with one
// instruction set's flags can be merged with (and called in place of) another's.

#include <algorithm>
#include <cstring>
#include <vector>

#include "hamming_cpu_isa.h"

namespace tfhash {
namespace cpu {
namespace TFHASH_ISA_NS {

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

  // The k-th smallest distance seen so far, or kNoBound before k candidates.
  int bound() const {
    return below_ + static_cast<int64_t>(buckets_[threshold_].size()) >= k_ ? threshold_ : kNoBound;
  }

  // Writes up to k candidates, nearest first; returns how many.
  int64_t Emit(int32_t* distances, int64_t* indices) const {
    int64_t out = 0;
    for (int d = 0; d <= threshold_ && out < k_; ++d) {
      for (const int64_t index : buckets_[d]) {
        if (out == k_) break;
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
  int64_t below_ = 0;  // candidates strictly below threshold_
  std::vector<std::vector<int64_t>> buckets_;
};

inline void DistanceUnits(const DistanceJob& job, int64_t begin, int64_t end) {
  const Grouped& db = job.db;
  const int64_t words = db.words_per_code;
  int32_t lanes[kLanes];
  const int64_t q_end = std::min(end * kQueryBlock, job.num_queries);
  for (int64_t chunk = 0; chunk < db.groups; chunk += kChunkGroups) {
    const int64_t chunk_end = std::min(chunk + kChunkGroups, db.groups);
    for (int64_t q = begin * kQueryBlock; q < q_end; ++q) {
      const uint64_t* query = job.queries + q * words;
      int32_t* row = job.distances + q * db.num_database;
      for (int64_t g = chunk; g < chunk_end; ++g) {
        GroupDistances(db.words + g * words * kLanes, query, words, lanes);
        const int64_t base = g * kLanes;
        const int64_t valid = std::min<int64_t>(kLanes, db.num_database - base);
        std::memcpy(row + base, lanes, static_cast<size_t>(valid) * sizeof(int32_t));
      }
    }
  }
}

constexpr int kUnroll = 8;  // groups a step of the scan with a known word count (4 and 8 measured)

// Offers groups [g_begin, g_end) of the database to one query's selector, codes
// further than `cap` excepted. kWords is the code's word count when known at compile
// time (0: `words`), so that the word loop unrolls and the query's words stay in
// registers across the groups.
template <int64_t kWords>
inline void ScanGroups(const Grouped& db, const uint64_t* query, int64_t words, int64_t g_begin,
                       int64_t g_end, int cap, Selector* selector) {
  uint64_t own[kWords ? kWords : 1];  // a local copy: the selector's stores cannot alias it
  if (kWords) {
    words = kWords;
    for (int64_t w = 0; w < kWords; ++w) own[w] = query[w];
    query = own;
  }
  int32_t lanes[kLanes];
  int limit = std::min(selector->threshold(), cap);
  int64_t g = g_begin;
  if (kWords) {
    // kUnroll groups a step with one branch on their masks together. A group's
    // lanes pass the filter at the limit of the step's start; the selector rejects
    // those a lower threshold, set by an earlier group of the step, rules out. Only
    // full groups here: the database's last group may be partial.
    int32_t more[kUnroll][kLanes];
    const int64_t full_end = std::min(g_end, db.num_database / kLanes);
    for (; g + kUnroll <= full_end; g += kUnroll) {
      unsigned masks[kUnroll], any = 0;
      for (int u = 0; u < kUnroll; ++u) {
        masks[u] = GroupFilter(db.words + (g + u) * words * kLanes, query, words, limit, more[u]);
        any |= masks[u];
      }
      if (!any) continue;
      for (int u = 0; u < kUnroll; ++u) {
        for (unsigned mask = masks[u]; mask; mask &= mask - 1) {
          const int lane = __builtin_ctz(mask);
          selector->Add(more[u][lane], (g + u) * kLanes + lane);
        }
      }
      limit = std::min(selector->threshold(), cap);
    }
  }
  for (; g < g_end; ++g) {
    const int64_t base = g * kLanes;
    // Most groups have no code at or below the threshold once it has settled:
    // one vector compare rejects all 8, only surviving lanes reach the selector.
    unsigned mask = GroupFilter(db.words + g * words * kLanes, query, words, limit, lanes);
    const int64_t valid = db.num_database - base;
    if (valid < kLanes) mask &= (1u << valid) - 1u;
    if (!mask) continue;
    do {
      const int lane = __builtin_ctz(mask);
      mask &= mask - 1;
      selector->Add(lanes[lane], base + lane);
    } while (mask);
    limit = std::min(selector->threshold(), cap);
  }
}

inline void TopKUnits(const TopKJob& job, int64_t begin, int64_t end) {
  const Grouped& db = job.db;
  const int64_t words = db.words_per_code;
  const int max_distance = static_cast<int>(64 * words);
  for (int64_t unit = begin; unit < end; ++unit) {
    const int64_t block = unit / job.shards, shard = unit % job.shards;
    const int64_t q_begin = block * kQueryBlock;
    const int64_t q_end = std::min(q_begin + kQueryBlock, job.num_queries);
    const int64_t g_begin = shard * job.shard_groups;
    const int64_t g_end = std::min(g_begin + job.shard_groups, db.groups);
    std::vector<Selector> selectors;
    selectors.reserve(static_cast<size_t>(q_end - q_begin));
    for (int64_t q = q_begin; q < q_end; ++q) selectors.emplace_back(job.k, max_distance);
    for (int64_t chunk = g_begin; chunk < g_end; chunk += kChunkGroups) {
      const int64_t chunk_end = std::min(chunk + kChunkGroups, g_end);
      for (int64_t q = q_begin; q < q_end; ++q) {
        const uint64_t* query = job.queries + q * words;
        Selector& selector = selectors[static_cast<size_t>(q - q_begin)];
        std::atomic<int32_t>* bounds = job.bounds ? job.bounds + q * job.shards : nullptr;
        // What the earlier shards' k-th distances rule out: they hold k codes at or
        // below it, all with lower indices, which win ties with this shard's.
        int cap = kNoBound;
        for (int64_t s = 0; bounds && s < shard; ++s) {
          cap = std::min(cap, bounds[s].load(std::memory_order_relaxed) - 1);
        }
        switch (words) {  // the common lengths with their word count known here
          case 1: ScanGroups<1>(db, query, words, chunk, chunk_end, cap, &selector); break;
          case 2: ScanGroups<2>(db, query, words, chunk, chunk_end, cap, &selector); break;
          case 4: ScanGroups<4>(db, query, words, chunk, chunk_end, cap, &selector); break;
          default: ScanGroups<0>(db, query, words, chunk, chunk_end, cap, &selector);
        }
        if (bounds && selector.bound() < bounds[shard].load(std::memory_order_relaxed)) {
          bounds[shard].store(selector.bound(), std::memory_order_relaxed);
        }
      }
    }
    for (int64_t q = q_begin; q < q_end; ++q) {
      const int64_t slot = q * job.shards + shard;
      job.counts[slot] = selectors[static_cast<size_t>(q - q_begin)].Emit(
          job.distances + slot * job.k, job.indices + slot * job.k);
    }
  }
}

}  // namespace TFHASH_ISA_NS
}  // namespace cpu
}  // namespace tfhash
