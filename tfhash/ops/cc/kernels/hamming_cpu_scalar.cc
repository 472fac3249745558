// CPU kernel units in portable C++ (no instruction-set flags): the path for any
// x86-64 or other CPU, and the reference the vector paths are tested against.
#define TFHASH_ISA_NS scalar

#include "hamming_cpu_isa.h"

namespace tfhash {
namespace cpu {
namespace scalar {

inline void GroupDistances(const uint64_t* group, const uint64_t* query, int64_t words,
                           int32_t out[kLanes]) {
  for (int64_t lane = 0; lane < kLanes; ++lane) out[lane] = 0;
  for (int64_t w = 0; w < words; ++w) {
    for (int64_t lane = 0; lane < kLanes; ++lane) {
      out[lane] += __builtin_popcountll(group[w * kLanes + lane] ^ query[w]);
    }
  }
}

inline unsigned GroupFilter(const uint64_t* group, const uint64_t* query, int64_t words,
                            int threshold, int32_t out[kLanes]) {
  GroupDistances(group, query, words, out);
  unsigned mask = 0;
  for (int lane = 0; lane < kLanes; ++lane) mask |= static_cast<unsigned>(out[lane] <= threshold) << lane;
  return mask;
}

}  // namespace scalar
}  // namespace cpu
}  // namespace tfhash

#include "hamming_cpu_impl.h"

namespace tfhash {
namespace cpu {

void DistanceUnitsScalar(const DistanceJob& job, int64_t begin, int64_t end) {
  scalar::DistanceUnits(job, begin, end);
}

void TopKUnitsScalar(const TopKJob& job, int64_t begin, int64_t end) {
  scalar::TopKUnits(job, begin, end);
}

}  // namespace cpu
}  // namespace tfhash

#include "multi_index_impl.h"

namespace tfhash {
namespace mih {

void SearchUnitsScalar(const Job& job, int64_t begin, int64_t end) {
  scalar::SearchUnits(job, begin, end);
}

void SearchQueryScalar(const Job& job, int64_t q, int threads) {
  scalar::SearchQueryShared(job, q, threads);
}

}  // namespace mih
}  // namespace tfhash
