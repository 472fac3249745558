// How many cycles the distance arithmetic of a 256-bit scan takes per code on one
// core when memory is not in the way: the codes sit in L1 and one query is compared
// with them again and again. Two forms:
//   tfhash_lookup256: the custom op's AVX2 path (hamming_cpu_avx2.cc): groups of 8
//     codes stored word by word, XOR with the query, per-byte popcounts by a 4-bit
//     lookup (vpshufb), summed per word and per code with vpsadbw;
//   tfhash_popcnt256: faiss IndexBinaryFlat's form: per code, 4 XORs and 4 scalar
//     POPCNTs.
// Neither keeps a top-k (the real scans add a compare per group or per code), so each
// is the least time its form of scan can take per code. tfhash_chain times dependent
// additions, one a cycle, to turn seconds into cycles. benchmarks/search_speed.py
// --compute_floor compiles this file (g++ -O3 -mavx2 -mpopcnt) and prints the floors
// beside the measured scans.
#include <immintrin.h>

#include <cstdint>

namespace {

inline __m256i ByteCounts(__m256i x) {
  const __m256i table = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                                         0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i nibble = _mm256_set1_epi8(0x0f);
  const __m256i low = _mm256_and_si256(x, nibble);
  const __m256i high = _mm256_and_si256(_mm256_srli_epi16(x, 4), nibble);
  return _mm256_add_epi8(_mm256_shuffle_epi8(table, low), _mm256_shuffle_epi8(table, high));
}

}  // namespace

// `groups` groups of 8 codes of 4 words each, word w of the group's codes at
// group + 8 w (the op's layout); returns the sum of all distances over `reps` passes.
extern "C" uint64_t tfhash_lookup256(const uint64_t* codes, int64_t groups,
                                     const uint64_t* query, int64_t reps) {
  const __m256i zero = _mm256_setzero_si256();
  __m256i total = zero;
  for (int64_t r = 0; r < reps; ++r) {
    __m256i q0 = _mm256_set1_epi64x(static_cast<long long>(query[0]));
    __m256i q1 = _mm256_set1_epi64x(static_cast<long long>(query[1]));
    __m256i q2 = _mm256_set1_epi64x(static_cast<long long>(query[2]));
    __m256i q3 = _mm256_set1_epi64x(static_cast<long long>(query[3]));
    // Keeps the compiler from computing one pass and reusing it.
    asm volatile("" : "+x"(q0), "+x"(q1), "+x"(q2), "+x"(q3));
    for (int64_t g = 0; g < groups; ++g) {
      const __m256i* row = reinterpret_cast<const __m256i*>(codes + g * 32);
      __m256i bytes0 = ByteCounts(_mm256_xor_si256(_mm256_loadu_si256(row + 0), q0));
      __m256i bytes1 = ByteCounts(_mm256_xor_si256(_mm256_loadu_si256(row + 1), q0));
      bytes0 = _mm256_add_epi8(bytes0, ByteCounts(_mm256_xor_si256(_mm256_loadu_si256(row + 2), q1)));
      bytes1 = _mm256_add_epi8(bytes1, ByteCounts(_mm256_xor_si256(_mm256_loadu_si256(row + 3), q1)));
      bytes0 = _mm256_add_epi8(bytes0, ByteCounts(_mm256_xor_si256(_mm256_loadu_si256(row + 4), q2)));
      bytes1 = _mm256_add_epi8(bytes1, ByteCounts(_mm256_xor_si256(_mm256_loadu_si256(row + 5), q2)));
      bytes0 = _mm256_add_epi8(bytes0, ByteCounts(_mm256_xor_si256(_mm256_loadu_si256(row + 6), q3)));
      bytes1 = _mm256_add_epi8(bytes1, ByteCounts(_mm256_xor_si256(_mm256_loadu_si256(row + 7), q3)));
      total = _mm256_add_epi64(total, _mm256_add_epi64(_mm256_sad_epu8(bytes0, zero),
                                                       _mm256_sad_epu8(bytes1, zero)));
    }
  }
  alignas(32) uint64_t out[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(out), total);
  return out[0] + out[1] + out[2] + out[3];
}

// `count` codes of 4 words each, stored one after another (faiss's layout).
extern "C" uint64_t tfhash_popcnt256(const uint64_t* codes, int64_t count,
                                     const uint64_t* query, int64_t reps) {
  uint64_t total = 0;
  for (int64_t r = 0; r < reps; ++r) {
    uint64_t q0 = query[0], q1 = query[1], q2 = query[2], q3 = query[3];
    asm volatile("" : "+r"(q0), "+r"(q1), "+r"(q2), "+r"(q3));
    for (int64_t i = 0; i < count; ++i) {
      const uint64_t* c = codes + 4 * i;
      total += __builtin_popcountll(c[0] ^ q0) + __builtin_popcountll(c[1] ^ q1) +
               __builtin_popcountll(c[2] ^ q2) + __builtin_popcountll(c[3] ^ q3);
    }
  }
  return total;
}

// `n` rounds of 4 dependent additions: 4 n cycles (an addition's latency is one cycle).
extern "C" uint64_t tfhash_chain(int64_t n) {
  uint64_t x = 1;
  for (int64_t i = 0; i < n; ++i) {
    asm volatile("add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0" : "+r"(x) : "r"(i));
  }
  return x;
}
