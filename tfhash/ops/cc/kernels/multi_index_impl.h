// The multi-index search loop, written once and compiled once per instruction set
// (the translation unit defines TFHASH_ISA_NS; each compiles __builtin_popcountll
// with its own flags: one popcnt per word on AVX2 and AVX-512 machines, portable
// bit arithmetic on the scalar path). See multi_index.h.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "multi_index.h"

namespace tfhash {
namespace mih {
namespace TFHASH_ISA_NS {

inline int CodeDistance(const uint8_t* a, const uint8_t* b, int64_t num_bytes) {
  if (num_bytes == 8) {  // the common 64-bit code: one word, no loop
    uint64_t x, y;
    std::memcpy(&x, a, 8);
    std::memcpy(&y, b, 8);
    return __builtin_popcountll(x ^ y);
  }
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

  // How many kept results are within `bound` (all kept are within threshold).
  int64_t Within(int64_t bound) const {
    if (bound >= threshold_) return kept_;
    int64_t n = 0;
    for (int64_t d = 0; d <= bound; ++d) n += static_cast<int64_t>(buckets_[d].size());
    return n;
  }

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

// Substring values looked up together. With the codes prefetched to L2 only (below),
// 8 was fastest of 4, 8, 16 and 32 on an Intel Xeon with AVX-512 (benchmarks/mih_compare.py,
// docs/search_speed.md, 2026-12-07); with the codes prefetched to L1, 4 was fastest of
// 4 to 64 on an AMD EPYC.
constexpr int kBatch = 8;
constexpr int kLag = 1;  // rounds between a batch's stages
constexpr int kStages = 3 * kLag + 1;  // batches in flight

inline int64_t Start(const Table& t, uint64_t value) {
  const uint64_t block = value >> kBlockShift;
  const int32_t slot = t.wide_slot[block];
  return static_cast<int64_t>(t.block_base[block]) +
         (slot < 0 ? t.rel16[value]
                   : t.rel_wide[(static_cast<uint64_t>(slot) << kBlockShift) |
                                (value & ((1u << kBlockShift) - 1))]);
}

// The threads searching one query together meet after every (radius, table) step
// to decide, from all their results, whether the search is done. Each publishes
// into the slot of the step's parity, so no thread overwrites a slot another may
// still read (a thread cannot pass the next meeting before the others arrive).
struct Meeting {
  explicit Meeting(int threads) : threads(threads) {}

  void Wait() {
    const int generation = generation_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) == threads - 1) {
      arrived_.store(0, std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);
      return;
    }
    for (int spin = 0; generation_.load(std::memory_order_acquire) == generation; ++spin) {
      if (spin > 256) std::this_thread::yield();
    }
  }

  const int threads;
  int64_t within[2][kMaxThreads] = {};  // results within the step's bound
  int64_t visited[2][kMaxThreads] = {};

 private:
  std::atomic<int> arrived_{0};
  std::atomic<int> generation_{0};
};

// One batch of substring values on its way through a step's pipeline.
struct Batch {
  int count = 0;
  uint32_t values[kBatch];
  int64_t begins[kBatch];
  int64_t ends[kBatch];
  std::vector<int64_t> candidates;
};

struct QueryState {
  std::vector<uint32_t> keys;  // the query's substring values
  Batch ring[kStages];
  int64_t visited = 0;
  int64_t probes = 0;  // buckets looked up (directory reads)
};

// Step (r, t): every value of table t at substring distance r from the query, in
// batches of kBatch (Gosper's order); this thread takes batches thread, thread +
// threads, ... Each batch passes four stages, one per round, with the random reads
// of a stage prefetched a round before the next stage uses them: (0) its values,
// their directory entries prefetched; (1) the directory read, the first positions
// prefetched; (2) the positions unpacked, the codes prefetched; (3) the codes'
// distances. One round runs four batches' stages, so while a batch's reads are in
// flight, the other three batches' work runs (memory latency overlaps).
inline bool Step(const Job& job, const uint8_t* query, QueryState* state, int r, int t,
                 int thread, int threads, Selector* selector, int64_t* visited) {
  const Table& table = job.tables[t];
  const int m = job.num_tables;
  const uint64_t limit = 1ull << table.bits;
  const uint32_t key = state->keys[t];
  uint64_t mask = r == 0 ? 0 : (1ull << r) - 1;
  bool more = true;
  int64_t batch = 0;
  auto values = [&](Batch* out) {
    int count = 0;
    while (more && count == 0) {
      const bool mine = batch++ % threads == thread;
      for (int i = 0; more && i < kBatch; ++i) {
        if (mine) out->values[count++] = key ^ static_cast<uint32_t>(mask);
        if (mask == 0) {
          more = false;
          break;
        }
        const uint64_t low = mask & (~mask + 1), ripple = mask + low;
        mask = ((mask ^ ripple) >> (2 + __builtin_ctzll(mask))) | ripple;
        more = mask < limit;
      }
    }
    for (int i = 0; i < count; ++i) {
      const uint32_t v = out->values[i];
      __builtin_prefetch(table.block_base + (v >> kBlockShift));
      __builtin_prefetch(table.wide_slot + (v >> kBlockShift));
      __builtin_prefetch(table.rel16 + v);
    }
    out->count = count;
    return count;
  };
  auto directory = [&](Batch* b) {
    for (int i = 0; i < b->count; ++i) {
      // a damaged table file may hold any numbers: never read past the codes
      const int64_t begin = std::min(Start(table, b->values[i]), job.num_codes);
      const int64_t end =
          std::max(begin, std::min(Start(table, uint64_t{b->values[i]} + 1), job.num_codes));
      b->begins[i] = begin;
      b->ends[i] = end;
      *visited += 1 + (end - begin);
      ++state->probes;
      __builtin_prefetch(table.positions + ((static_cast<uint64_t>(begin) *
                                             static_cast<uint64_t>(job.position_bits)) >> 3));
    }
  };
  auto positions = [&](Batch* b) {
    b->candidates.clear();
    for (int i = 0; i < b->count; ++i) {
      for (int64_t p = b->begins[i]; p < b->ends[i]; ++p) {
        const int64_t index = Unpack(table.positions, p, job.position_bits);
        if (index >= job.num_codes) continue;
        if (job.removed && (job.removed[index >> 3] >> (index & 7) & 1)) continue;
        // Locality 1 (prefetcht2): the code is compared once, a round later; asking
        // for L1 evicts the directory and positions lines still in flight.
        __builtin_prefetch(job.codes + index * job.num_bytes, 0, 1);
        b->candidates.push_back(index);
      }
    }
  };
  auto distances = [&](const Batch& b) {
    for (const int64_t index : b.candidates) {
      const uint8_t* code = job.codes + index * job.num_bytes;
      const int d = CodeDistance(code, query, job.num_bytes);
      if (d > selector->threshold()) continue;
      // found before? at radius r in an earlier table, or r - 1 in a later one
      bool seen = false;
      for (int u = 0; u < m && !seen; ++u) {
        if (u == t) continue;
        const int sub = __builtin_popcount(
            Substring(code, job.num_bytes, job.tables[u].lo, job.tables[u].bits) ^ state->keys[u]);
        seen = u < t ? sub <= r : sub < r;
      }
      if (!seen) selector->Add(d, index);
    }
  };
  Batch* ring = state->ring;
  // Round i: values of batch i, directory of i - 1, positions of i - 2, codes of
  // i - 3 (batches 0 .. produced - 1 exist once the values run out).
  int64_t produced = 0;
  bool exhausted = false;
  for (int64_t i = 0;; ++i) {
    if (!exhausted) {
      if (values(&ring[i % kStages]) == 0) {
        exhausted = true;
      } else {
        produced = i + 1;
      }
    }
    if (i >= kLag && i - kLag < produced) directory(&ring[(i - kLag) % kStages]);
    if (i >= 2 * kLag && i - 2 * kLag < produced) positions(&ring[(i - 2 * kLag) % kStages]);
    if (i >= 3 * kLag && i - 3 * kLag < produced) distances(ring[(i - 3 * kLag) % kStages]);
    if (exhausted && i >= produced + 3 * kLag - 1) break;
    if (*visited > job.budget / threads) return true;  // gave up
  }
  return false;
}

constexpr int64_t kZeroChunk = 512;  // bucket entries unpacked (and prefetched) at a time

// Step (0, 0) of a top-k search, read so that it can stop early. The query's own
// bucket of the first table holds every code at distance 0, in ascending position,
// so the search is done at its k-th code equal to the query: no code is nearer, and
// no later entry wins a tie. Codes of learned hashes collapse onto shared values, so
// a query's k nearest are often copies of it in a bucket of hundreds of thousands.
// Visits count the entries read. Always one thread: a shared search starts alone
// (SearchQueryShared). Returns true when the budget ran out.
inline bool FirstBucket(const Job& job, const uint8_t* query, uint32_t key, Selector* selector,
                        int64_t* visited) {
  const Table& table = job.tables[0];
  const int64_t begin = std::min(Start(table, key), job.num_codes);
  const int64_t end = std::max(begin, std::min(Start(table, uint64_t{key} + 1), job.num_codes));
  *visited += 1;
  int64_t chosen[kZeroChunk], offsets[kZeroChunk];
  for (int64_t c = begin; c < end; c += kZeroChunk) {
    const int64_t stop = std::min(end, c + kZeroChunk);
    int count = 0;
    for (int64_t p = c; p < stop; ++p) {
      const int64_t index = Unpack(table.positions, p, job.position_bits);
      if (index >= job.num_codes) continue;
      if (job.removed && (job.removed[index >> 3] >> (index & 7) & 1)) continue;
      __builtin_prefetch(job.codes + index * job.num_bytes, 0, 1);
      offsets[count] = p;
      chosen[count++] = index;
    }
    for (int i = 0; i < count; ++i) {
      const int d = CodeDistance(job.codes + chosen[i] * job.num_bytes, query, job.num_bytes);
      selector->Add(d, chosen[i]);
      if (d == 0 && selector->Within(0) >= job.k) {
        *visited += offsets[i] + 1 - c;
        return false;
      }
    }
    *visited += stop - c;
    if (*visited > job.budget) return true;  // gave up
  }
  return false;
}

enum Outcome { kGaveUp, kFinished, kHandedOver };

// One thread's part of a query's search (all of it when threads == 1), from step
// `from` (step r * m + t), with `*visited` entries already visited. Every thread
// takes the same decisions, from the shared counts. A search by one thread hands
// over once it has visited `hand_over` entries and is not done: it returns
// kHandedOver with `*from` set to the next step.
inline Outcome SearchPart(const Job& job, const uint8_t* query, int thread, int threads,
                          Meeting* meeting, Selector* selector, int64_t* visited_out,
                          int64_t* from, int64_t hand_over) {
  const int m = job.num_tables;
  QueryState state;
  state.keys.resize(static_cast<size_t>(m));
  int max_bits = 0;
  for (int t = 0; t < m; ++t) {
    state.keys[t] = Substring(query, job.num_bytes, job.tables[t].lo, job.tables[t].bits);
    max_bits = std::max(max_bits, static_cast<int>(job.tables[t].bits));
  }
  int64_t visited = *visited_out;
  int64_t step = 0, step_probes = 0, step_visited = visited;
  for (int r = 0; r <= max_bits; ++r) {
    for (int t = 0; t < m; ++t, ++step) {
      if (step < *from) continue;
      const Table& table = job.tables[t];
      const bool gave_up =
          r == 0 && t == 0 && job.k > 0 && threads == 1
              ? FirstBucket(job, query, state.keys[0], selector, &visited)
              : r <= table.bits &&
                    Step(job, query, &state, r, t, thread, threads, selector, &visited);
      if (gave_up) {
        visited = std::max(visited, job.budget + 1);  // an unfinished step: give up
      }
      // Every code within m * r + t has been found now (all of them once a table is
      // whole).
      const int64_t bound = static_cast<int64_t>(m) * r + t;
      int64_t within = selector->Within(bound), total_visited = visited;
      if (threads > 1) {
        const int slot = static_cast<int>(step & 1);
        meeting->within[slot][thread] = within;
        meeting->visited[slot][thread] = visited;
        meeting->Wait();
        within = total_visited = 0;
        for (int j = 0; j < threads; ++j) {
          within += meeting->within[slot][j];
          total_visited += meeting->visited[slot][j];
        }
      }
      *visited_out = total_visited;
      if (total_visited > job.budget) return kGaveUp;
      if (r == table.bits) return kFinished;
      if (job.k > 0 ? within >= job.k : bound >= job.radius) return kFinished;
      // Threads share a step by its buckets, so a step of few crowded buckets keeps
      // one thread busy and the others waiting: hand over after a step whose buckets
      // held fewer than job.share_crowding entries on average.
      const int64_t probes = state.probes - step_probes, entries = visited - step_visited - probes;
      step_probes = state.probes;
      step_visited = visited;
      if (threads == 1 && visited >= hand_over && entries < job.share_crowding * probes) {
        *from = step + 1;
        return kHandedOver;
      }
    }
  }
  return kFinished;
}

inline void SearchUnits(const Job& job, int64_t begin, int64_t end) {
  const int max_distance = static_cast<int>(8 * job.num_bytes);
  const int threshold = job.k > 0 ? max_distance : std::min(job.radius, max_distance);
  for (int64_t q = begin; q < end; ++q) {
    Selector selector(job.k, threshold);
    int64_t visited = 0, from = 0;
    const bool finished = SearchPart(job, job.queries + q * job.num_bytes, 0, 1, nullptr,
                                     &selector, &visited, &from, INT64_MAX) == kFinished;
    job.visited[q] = visited;
    const int64_t kept = selector.kept();
    const int64_t want = !finished ? -1 : job.k > 0 ? std::min(kept, job.k) : kept;
    job.counts[q] = want;
    if (want >= 0 && want <= job.capacity) {
      selector.Emit(want, job.distances + q * job.capacity, job.indices + q * job.capacity);
    }
  }
}

// One query searched by `threads` threads together: the calling thread alone until
// it has visited job.share_after entries (starting threads costs more than a cheap
// query's whole search) and a step's buckets were sparse (SearchPart), then each
// takes every threads-th batch of every later step, they meet after each step, and
// their results are merged.
inline void SearchQueryShared(const Job& job, int64_t q, int threads) {
  const int max_distance = static_cast<int>(8 * job.num_bytes);
  const int threshold = job.k > 0 ? max_distance : std::min(job.radius, max_distance);
  Meeting meeting(threads);
  std::vector<Selector> selectors(static_cast<size_t>(threads), Selector(job.k, threshold));
  std::vector<Outcome> outcome(static_cast<size_t>(threads), kGaveUp);
  std::vector<int64_t> visited(static_cast<size_t>(threads), 0);
  const uint8_t* query = job.queries + q * job.num_bytes;
  int64_t from = 0;
  outcome[0] = SearchPart(job, query, 0, 1, nullptr, &selectors[0], &visited[0], &from,
                          job.share_after);
  if (outcome[0] == kHandedOver) {
    auto part = [&](int thread) {
      int64_t start = from;
      outcome[thread] = SearchPart(job, query, thread, threads, &meeting, &selectors[thread],
                                   &visited[thread], &start, INT64_MAX);
    };
    std::vector<std::thread> workers;
    for (int thread = 1; thread < threads; ++thread) workers.emplace_back(part, thread);
    part(0);
    for (std::thread& worker : workers) worker.join();
  }
  job.visited[q] = visited[0];
  if (outcome[0] != kFinished) {
    job.counts[q] = -1;
    return;
  }
  // Each thread found different codes (a code is accepted by one step only).
  std::vector<std::pair<int32_t, int64_t>> all;
  for (Selector& selector : selectors) {
    std::vector<int32_t> d(static_cast<size_t>(selector.kept()));
    std::vector<int64_t> i(d.size());
    const int64_t n = selector.Emit(selector.kept(), d.data(), i.data());
    for (int64_t j = 0; j < n; ++j) all.emplace_back(d[j], i[j]);
  }
  std::sort(all.begin(), all.end());
  const int64_t total = static_cast<int64_t>(all.size());
  const int64_t want = job.k > 0 ? std::min(total, job.k) : total;
  job.counts[q] = want;
  if (want > job.capacity) return;
  for (int64_t j = 0; j < want; ++j) {
    job.distances[q * job.capacity + j] = all[j].first;
    job.indices[q * job.capacity + j] = all[j].second;
  }
}

}  // namespace TFHASH_ISA_NS
}  // namespace mih
}  // namespace tfhash
