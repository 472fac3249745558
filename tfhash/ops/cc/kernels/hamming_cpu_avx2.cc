// CPU kernel units for AVX2: popcount of 64-bit lanes by a 4-bit lookup table
// (vpshufb) on per-byte counters, summed to 64-bit lanes with vpsadbw; a group of 8
// codes is two 256-bit vectors, and one compare per vector rejects 4 codes at once.
// Compiled with -mavx2; called only when the CPU has AVX2 (hamming_cpu.cc).
#define TFHASH_ISA_NS avx2

#include <immintrin.h>

#include "hamming_cpu_isa.h"

namespace tfhash {
namespace cpu {
namespace avx2 {

// Per-byte popcounts of x.
inline __m256i ByteCounts(__m256i x) {
  const __m256i table = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                                         0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i nibble = _mm256_set1_epi8(0x0f);
  const __m256i low = _mm256_and_si256(x, nibble);
  const __m256i high = _mm256_and_si256(_mm256_srli_epi16(x, 4), nibble);
  return _mm256_add_epi8(_mm256_shuffle_epi8(table, low), _mm256_shuffle_epi8(table, high));
}

// Distances of the 8 codes of a group as two vectors of 4 x int64.
inline void Distances8(const uint64_t* group, const uint64_t* query, int64_t words,
                       __m256i* first, __m256i* second) {
  const __m256i zero = _mm256_setzero_si256();
  __m256i sum0 = zero, sum1 = zero;
  for (int64_t start = 0; start < words; start += 31) {  // a byte counter holds 31 words
    __m256i bytes0 = zero, bytes1 = zero;
    const int64_t stop = words < start + 31 ? words : start + 31;
    for (int64_t w = start; w < stop; ++w) {
      const __m256i q = _mm256_set1_epi64x(static_cast<long long>(query[w]));
      const uint64_t* row = group + w * kLanes;
      bytes0 = _mm256_add_epi8(bytes0, ByteCounts(_mm256_xor_si256(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row)), q)));
      bytes1 = _mm256_add_epi8(bytes1, ByteCounts(_mm256_xor_si256(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 4)), q)));
    }
    sum0 = _mm256_add_epi64(sum0, _mm256_sad_epu8(bytes0, zero));
    sum1 = _mm256_add_epi64(sum1, _mm256_sad_epu8(bytes1, zero));
  }
  *first = sum0;
  *second = sum1;
}

inline void Store(__m256i first, __m256i second, int32_t out[kLanes]) {
  alignas(32) int64_t values[kLanes];
  _mm256_store_si256(reinterpret_cast<__m256i*>(values), first);
  _mm256_store_si256(reinterpret_cast<__m256i*>(values + 4), second);
  for (int lane = 0; lane < kLanes; ++lane) out[lane] = static_cast<int32_t>(values[lane]);
}

inline void GroupDistances(const uint64_t* group, const uint64_t* query, int64_t words,
                           int32_t out[kLanes]) {
  __m256i first, second;
  Distances8(group, query, words, &first, &second);
  Store(first, second, out);
}

inline unsigned GroupFilter(const uint64_t* group, const uint64_t* query, int64_t words,
                            int threshold, int32_t out[kLanes]) {
  __m256i first, second;
  Distances8(group, query, words, &first, &second);
  const __m256i limit = _mm256_set1_epi64x(threshold + 1);  // d <= threshold: limit > d
  const unsigned low = static_cast<unsigned>(
      _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(limit, first))));
  const unsigned high = static_cast<unsigned>(
      _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(limit, second))));
  const unsigned mask = low | (high << 4);
  if (mask) Store(first, second, out);
  return mask;
}

}  // namespace avx2
}  // namespace cpu
}  // namespace tfhash

#include "hamming_cpu_impl.h"

namespace tfhash {
namespace cpu {

void DistanceUnitsAvx2(const DistanceJob& job, int64_t begin, int64_t end) {
  avx2::DistanceUnits(job, begin, end);
}

void TopKUnitsAvx2(const TopKJob& job, int64_t begin, int64_t end) {
  avx2::TopKUnits(job, begin, end);
}

}  // namespace cpu
}  // namespace tfhash

#include "multi_index_impl.h"

namespace tfhash {
namespace mih {

void SearchUnitsAvx2(const Job& job, int64_t begin, int64_t end) {
  avx2::SearchUnits(job, begin, end);
}

void SearchQueryAvx2(const Job& job, int64_t q, int threads) {
  avx2::SearchQueryShared(job, q, threads);
}

}  // namespace mih
}  // namespace tfhash
