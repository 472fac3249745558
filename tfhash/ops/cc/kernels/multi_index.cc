// Multi-index tables and search (multi_index.h) behind a C ABI that tfhash.retrieval
// calls through ctypes on NumPy arrays, memory-mapped ones included, so an index
// opened from disk is searched in place. The tables are built by a counting sort
// (two passes over the codes, positions ascending within a value); the search runs
// the instruction set the packed-Hamming kernels use (TFHASH_CPU_ISA forces one),
// queries split over threads.

#include <algorithm>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "hamming_kernels.h"
#include "multi_index.h"

namespace tfhash {
namespace mih {
namespace {

using Units = void (*)(const Job&, int64_t, int64_t);
using Shared = void (*)(const Job&, int64_t, int);

Units ChosenUnits(std::string* name, Shared* shared = nullptr) {
  const std::string isa = cpu::CpuIsa();
  if (name) *name = isa;
  const bool avx512 = isa.rfind("avx512", 0) == 0, avx2 = isa.rfind("avx2", 0) == 0;
  if (shared) *shared = avx512 ? SearchQueryAvx512 : avx2 ? SearchQueryAvx2 : SearchQueryScalar;
  return avx512 ? SearchUnitsAvx512 : avx2 ? SearchUnitsAvx2 : SearchUnitsScalar;
}

void Pack(uint8_t* packed, int64_t i, int32_t bits, uint32_t value) {
  const uint64_t bit = static_cast<uint64_t>(i) * static_cast<uint64_t>(bits);
  uint64_t word;
  std::memcpy(&word, packed + (bit >> 3), 8);
  word |= static_cast<uint64_t>(value) << (bit & 7);
  std::memcpy(packed + (bit >> 3), &word, 8);
}

}  // namespace
}  // namespace mih
}  // namespace tfhash

extern "C" {

// Builds one table (multi_index.h): block_base and wide_slot [(2^bits >> 8) + 1],
// rel16 [2^bits + 1], rel_wide [wide_capacity << 8] and the bit-packed positions
// (zeroed by the caller, ceil(n * position_bits / 8) + 8 bytes). Returns the number
// of wide blocks; when it exceeds wide_capacity nothing is written past the
// directory's first pass, and the caller calls again with room for them.
int64_t tfhash_mih_build(const uint8_t* codes, int64_t num_codes, int64_t num_bytes, int32_t lo,
                         int32_t bits, int32_t position_bits, uint32_t* block_base,
                         int32_t* wide_slot, uint16_t* rel16, uint32_t* rel_wide,
                         int64_t wide_capacity, uint8_t* positions) {
  using namespace tfhash::mih;
  const int64_t values = int64_t{1} << bits;
  std::vector<uint32_t> start(static_cast<size_t>(values + 1), 0);
  for (int64_t i = 0; i < num_codes; ++i) {
    ++start[Substring(codes + i * num_bytes, num_bytes, lo, bits) + 1];
  }
  for (int64_t v = 0; v < values; ++v) start[v + 1] += start[v];
  const int64_t width = int64_t{1} << kBlockShift;
  const int64_t blocks = (values >> kBlockShift) + 1;
  int64_t wide = 0;
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t first = b << kBlockShift, last = std::min(first + width, values + 1) - 1;
    block_base[b] = start[first];
    const bool is_wide = start[last] - start[first] >= (1u << 16);
    wide_slot[b] = is_wide ? static_cast<int32_t>(wide) : -1;
    for (int64_t v = first; v <= last; ++v) {
      const uint32_t rel = start[v] - start[first];
      rel16[v] = is_wide ? 0 : static_cast<uint16_t>(rel);
      if (is_wide && wide < wide_capacity) rel_wide[(wide << kBlockShift) | (v - first)] = rel;
    }
    wide += is_wide;
  }
  if (wide > wide_capacity) return wide;
  for (int64_t i = 0; i < num_codes; ++i) {  // ascending positions within a value
    const uint32_t value = Substring(codes + i * num_bytes, num_bytes, lo, bits);
    Pack(positions, start[value]++, position_bits, static_cast<uint32_t>(i));
  }
  return wide;
}

// Runs a search job (multi_index.h) on up to num_threads threads.
void tfhash_mih_search(const tfhash::mih::Job* job, int32_t num_threads) {
  using namespace tfhash::mih;
  Shared shared;
  const Units units = ChosenUnits(nullptr, &shared);
  const int64_t nq = job->num_queries;
  const int sharing = std::min(num_threads, kMaxThreads);
  if (nq < sharing && sharing > 1 && job->num_codes >= job->share_from) {
    for (int64_t q = 0; q < nq; ++q) shared(*job, q, sharing);
    return;
  }
  const int64_t threads = std::max<int64_t>(1, std::min<int64_t>(num_threads, nq));
  if (threads == 1) {
    units(*job, 0, nq);
    return;
  }
  std::vector<std::thread> workers;
  const int64_t per = (nq + threads - 1) / threads;
  for (int64_t begin = 0; begin < nq; begin += per) {
    workers.emplace_back(units, std::cref(*job), begin, std::min(nq, begin + per));
  }
  for (std::thread& worker : workers) worker.join();
}

// The instruction set the search uses now (as PackedHammingCpuIsa says).
const char* tfhash_mih_isa() {
  static thread_local std::string name;
  tfhash::mih::ChosenUnits(&name);
  return name.c_str();
}

}  // extern "C"
