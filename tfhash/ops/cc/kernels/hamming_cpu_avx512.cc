// CPU kernel units for AVX-512 VPOPCNTDQ: one vpxorq + vpopcntq + vpaddq per word
// scores the 8 codes of a group. Compiled with -mavx512f -mavx512vpopcntdq; called
// only when the CPU has both (hamming_cpu.cc).
#define TFHASH_ISA_NS avx512

#include <immintrin.h>

#include "hamming_cpu_isa.h"

namespace tfhash {
namespace cpu {
namespace avx512 {

inline __m512i Distances8(const uint64_t* group, const uint64_t* query, int64_t words) {
  __m512i acc = _mm512_setzero_si512();
  for (int64_t w = 0; w < words; ++w) {
    const __m512i x = _mm512_xor_si512(_mm512_loadu_si512(group + w * kLanes),
                                       _mm512_set1_epi64(static_cast<long long>(query[w])));
    acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(x));
  }
  return acc;
}

inline void GroupDistances(const uint64_t* group, const uint64_t* query, int64_t words,
                           int32_t out[kLanes]) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out),
                      _mm512_cvtepi64_epi32(Distances8(group, query, words)));
}

inline unsigned GroupFilter(const uint64_t* group, const uint64_t* query, int64_t words,
                            int threshold, int32_t out[kLanes]) {
  const __m512i d = Distances8(group, query, words);
  const unsigned mask = _mm512_cmple_epi64_mask(d, _mm512_set1_epi64(threshold));
  if (mask) _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm512_cvtepi64_epi32(d));
  return mask;
}

}  // namespace avx512
}  // namespace cpu
}  // namespace tfhash

#include "hamming_cpu_impl.h"

namespace tfhash {
namespace cpu {

void DistanceUnitsAvx512(const DistanceJob& job, int64_t begin, int64_t end) {
  avx512::DistanceUnits(job, begin, end);
}

void TopKUnitsAvx512(const TopKJob& job, int64_t begin, int64_t end) {
  avx512::TopKUnits(job, begin, end);
}

}  // namespace cpu
}  // namespace tfhash

#include "multi_index_impl.h"

namespace tfhash {
namespace mih {

void SearchUnitsAvx512(const Job& job, int64_t begin, int64_t end) {
  avx512::SearchUnits(job, begin, end);
}

void SearchQueryAvx512(const Job& job, int64_t q, int threads) {
  avx512::SearchQueryShared(job, q, threads);
}

}  // namespace mih
}  // namespace tfhash
