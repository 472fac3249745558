// How fast this machine reads memory: threads sum disjoint parts of a buffer with
// 256-bit loads (4 independent accumulators each), the least work a scan must do per
// byte. benchmarks/search_speed.py compiles it (g++ -O3 -mavx2 -shared) and compares
// a one-query scan with the time to read the same bytes.
#include <immintrin.h>

#include <cstdint>
#include <thread>
#include <vector>

namespace {

// Runs part(t) for t = 0 .. threads - 1, the last part on the calling thread (so one
// thread starts none), and returns the sum of their results.
template <typename Part>
uint64_t RunParts(int threads, const Part& part) {
  std::vector<uint64_t> sums(static_cast<size_t>(threads), 0);
  std::vector<std::thread> workers;
  for (int t = 0; t + 1 < threads; ++t) workers.emplace_back([&, t] { sums[t] = part(t); });
  sums[threads - 1] = part(threads - 1);
  for (std::thread& w : workers) w.join();
  uint64_t total = 0;
  for (uint64_t s : sums) total += s;
  return total;
}

}  // namespace

extern "C" uint64_t tfhash_read(const uint64_t* data, int64_t words, int threads) {
  const int64_t per = (words / threads) & ~int64_t{15};
  return RunParts(threads, [&](int t) {
    const uint64_t* p = data + t * per;
    __m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;
    for (int64_t i = 0; i + 16 <= per; i += 16) {
      a = _mm256_add_epi64(a, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i)));
      b = _mm256_add_epi64(b, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 4)));
      c = _mm256_add_epi64(c, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 8)));
      d = _mm256_add_epi64(d, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 12)));
    }
    alignas(32) uint64_t out[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(out),
                       _mm256_add_epi64(_mm256_add_epi64(a, b), _mm256_add_epi64(c, d)));
    return out[0] + out[1] + out[2] + out[3];
  });
}

// How fast this machine makes independent random reads: threads sum the words at
// disjoint parts of `indices` (one 8-byte word, so one cache line, per index),
// prefetching `ahead` indices in advance so that many reads are in flight, as the
// multi-index search does for its candidates. benchmarks/index_speed.py times as many
// reads, over a buffer the size of the codes, as a multi-index query visits: the floor
// of that query's time when every visit is a miss to memory.
extern "C" uint64_t tfhash_gather(const uint64_t* data, const int64_t* indices, int64_t count,
                                  int threads, int ahead) {
  const int64_t per = count / threads;
  return RunParts(threads, [&](int t) {
    const int64_t* idx = indices + t * per;
    const int64_t n = t == threads - 1 ? count - t * per : per;
    uint64_t sum = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (i + ahead < n) __builtin_prefetch(data + idx[i + ahead]);
      sum += data[idx[i]];
    }
    return sum;
  });
}

// How fast this machine reads contiguous runs at random places: threads sum runs
// `starts[i] .. starts[i] + lengths[i]` (in words) of disjoint parts of the run list,
// prefetching every cache line of the run `ahead` runs in advance. A multi-index
// table whose codes were stored in its own order would read each of its buckets as
// one such run; benchmarks/index_speed.py times that form beside the random reads.
extern "C" uint64_t tfhash_gather_runs(const uint64_t* data, const int64_t* starts,
                                       const int64_t* lengths, int64_t count, int threads,
                                       int ahead) {
  const int64_t per = count / threads;
  return RunParts(threads, [&](int t) {
    const int64_t* s = starts + t * per;
    const int64_t* l = lengths + t * per;
    const int64_t n = t == threads - 1 ? count - t * per : per;
    uint64_t sum = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (i + ahead < n) {
        const uint64_t* next = data + s[i + ahead];
        for (int64_t w = 0; w < l[i + ahead]; w += 8) __builtin_prefetch(next + w);
      }
      const uint64_t* run = data + s[i];
      for (int64_t w = 0; w < l[i]; ++w) sum += run[w];
    }
    return sum;
  });
}
