// TensorFlow CPU kernels of PackedHammingDistance and PackedHammingTopK: input
// validation (every bad input is an InvalidArgument) and sharding over TF's
// intra-op thread pool; the work is done by the functors in hamming_cpu.cc.

#include <algorithm>
#include <functional>

#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"
#include "tensorflow/core/util/work_sharder.h"

#include "hamming_kernels.h"

#if GOOGLE_CUDA
#include "xla/stream_executor/stream.h"

// The CUDA entry points of hamming_gpu.cu.cc (C ABI, no TensorFlow inside).
extern "C" {
int64_t tfhash_gpu_topk_workspace_bytes(int64_t num_queries, int64_t num_database,
                                        int64_t num_bytes);
int tfhash_gpu_distance(const uint8_t* queries, const uint8_t* database, int64_t num_queries,
                        int64_t num_database, int64_t num_bytes, int32_t* distances, void* stream);
int tfhash_gpu_topk(const uint8_t* queries, const uint8_t* database, int64_t num_queries,
                    int64_t num_database, int64_t num_bytes, int64_t k, int32_t* distances,
                    int64_t* indices, void* workspace, void* stream);
}
#endif  // GOOGLE_CUDA

namespace tfhash {
namespace {

using ::tensorflow::DeviceBase;
using ::tensorflow::OpKernel;
using ::tensorflow::OpKernelConstruction;
using ::tensorflow::OpKernelContext;
using ::tensorflow::Tensor;
using ::tensorflow::TensorShape;
using ::tensorflow::TensorShapeUtils;
namespace errors = ::tensorflow::errors;

void TfParallelFor(void* pool, int64_t total, int64_t cost,
                   void (*fn)(void* ctx, int64_t begin, int64_t end), void* ctx) {
  const auto* workers = static_cast<const DeviceBase::CpuWorkerThreads*>(pool);
  ::tensorflow::Shard(workers->num_threads, workers->workers, total, cost,
                      [fn, ctx](int64_t begin, int64_t end) { fn(ctx, begin, end); });
}

absl::Status ReadCodes(OpKernelContext* context, CodesView* view) {
  const Tensor& queries = context->input(0);
  const Tensor& database = context->input(1);
  if (!TensorShapeUtils::IsMatrix(queries.shape())) {
    return errors::InvalidArgument("queries must be packed uint8 codes [q, nbytes], got shape ",
                                   queries.shape().DebugString());
  }
  if (!TensorShapeUtils::IsMatrix(database.shape())) {
    return errors::InvalidArgument("database must be packed uint8 codes [n, nbytes], got shape ",
                                   database.shape().DebugString());
  }
  if (queries.dim_size(1) != database.dim_size(1)) {
    return errors::InvalidArgument("queries and database must have the same bytes per code, got ",
                                   queries.dim_size(1), " and ", database.dim_size(1));
  }
  if (queries.dim_size(1) == 0) {
    return errors::InvalidArgument("codes must have at least one byte, got 0 bytes per code");
  }
  view->queries = queries.flat<uint8_t>().data();
  view->database = database.flat<uint8_t>().data();
  view->num_queries = queries.dim_size(0);
  view->num_database = database.dim_size(0);
  view->num_bytes = queries.dim_size(1);
  return absl::OkStatus();
}

// ReadCodes, then the [q, n] output.
absl::Status ReadDistance(OpKernelContext* context, CodesView* view, Tensor** distances) {
  TF_RETURN_IF_ERROR(ReadCodes(context, view));
  return context->allocate_output(0, TensorShape({view->num_queries, view->num_database}),
                                  distances);
}

// ReadCodes, then k (a host scalar, 1 <= k <= n), then the two outputs.
absl::Status ReadTopK(OpKernelContext* context, CodesView* view, int64_t* k, Tensor** distances,
                      Tensor** indices) {
  TF_RETURN_IF_ERROR(ReadCodes(context, view));
  const Tensor& k_tensor = context->input(2);
  if (!TensorShapeUtils::IsScalar(k_tensor.shape())) {
    return errors::InvalidArgument("k must be a scalar, got shape ", k_tensor.shape().DebugString());
  }
  *k = k_tensor.scalar<int32_t>()();
  if (*k <= 0) return errors::InvalidArgument("k must be positive, got ", *k);
  if (*k > view->num_database) {
    return errors::InvalidArgument("k must be at most the database size ", view->num_database,
                                   ", got ", *k);
  }
  TF_RETURN_IF_ERROR(context->allocate_output(0, TensorShape({view->num_queries, *k}), distances));
  return context->allocate_output(1, TensorShape({view->num_queries, *k}), indices);
}

class PackedHammingDistanceOp : public OpKernel {
 public:
  explicit PackedHammingDistanceOp(OpKernelConstruction* context) : OpKernel(context) {}

  void Compute(OpKernelContext* context) override {
    CodesView view;
    Tensor* distances = nullptr;
    OP_REQUIRES_OK(context, ReadDistance(context, &view, &distances));
    cpu::Distance(view, distances->flat<int32_t>().data(),
                  const_cast<DeviceBase::CpuWorkerThreads*>(
                      context->device()->tensorflow_cpu_worker_threads()),
                  TfParallelFor);
  }
};

class PackedHammingTopKOp : public OpKernel {
 public:
  explicit PackedHammingTopKOp(OpKernelConstruction* context) : OpKernel(context) {}

  void Compute(OpKernelContext* context) override {
    CodesView view;
    int64_t k = 0;
    Tensor* distances = nullptr;
    Tensor* indices = nullptr;
    OP_REQUIRES_OK(context, ReadTopK(context, &view, &k, &distances, &indices));
    const auto* workers = context->device()->tensorflow_cpu_worker_threads();
    cpu::TopK(view, k, distances->flat<int32_t>().data(), indices->flat<int64_t>().data(),
              workers->num_threads, const_cast<DeviceBase::CpuWorkerThreads*>(workers),
              TfParallelFor);
  }
};

// PackedHammingTopKGrouped: the database in the kernel's layout, uint64
// [groups, words, 8], made once by the index (tfhash.retrieval.HammingIndex).
class PackedHammingTopKGroupedOp : public OpKernel {
 public:
  explicit PackedHammingTopKGroupedOp(OpKernelConstruction* context) : OpKernel(context) {}

  void Compute(OpKernelContext* context) override {
    const Tensor& queries = context->input(0);
    const Tensor& grouped = context->input(1);
    const Tensor& count = context->input(2);
    const Tensor& k_tensor = context->input(3);
    OP_REQUIRES(context, TensorShapeUtils::IsMatrix(queries.shape()),
                errors::InvalidArgument("queries must be packed uint8 codes [q, nbytes], got shape ",
                                        queries.shape().DebugString()));
    OP_REQUIRES(context, grouped.dims() == 3 && grouped.dim_size(2) == cpu::kLanes,
                errors::InvalidArgument("grouped database must be uint64 [groups, words, 8], got "
                                        "shape ", grouped.shape().DebugString()));
    OP_REQUIRES(context, TensorShapeUtils::IsScalar(count.shape()) &&
                             TensorShapeUtils::IsScalar(k_tensor.shape()),
                errors::InvalidArgument("num_database and k must be scalars"));
    const int64_t num_bytes = queries.dim_size(1);
    const int64_t words = (num_bytes + 7) / 8;
    const int64_t n = count.scalar<int64_t>()();
    const int64_t k = k_tensor.scalar<int32_t>()();
    OP_REQUIRES(context, num_bytes > 0,
                errors::InvalidArgument("codes must have at least one byte, got 0 bytes per code"));
    OP_REQUIRES(context, grouped.dim_size(1) == words,
                errors::InvalidArgument("the grouped database has ", grouped.dim_size(1),
                                        " words per code, queries of ", num_bytes, " bytes need ",
                                        words));
    OP_REQUIRES(context, n > (grouped.dim_size(0) - 1) * cpu::kLanes &&
                             n <= grouped.dim_size(0) * cpu::kLanes,
                errors::InvalidArgument("num_database ", n, " does not fit ", grouped.dim_size(0),
                                        " groups of ", cpu::kLanes));
    OP_REQUIRES(context, k > 0, errors::InvalidArgument("k must be positive, got ", k));
    OP_REQUIRES(context, k <= n,
                errors::InvalidArgument("k must be at most the database size ", n, ", got ", k));
    Tensor* distances = nullptr;
    Tensor* indices = nullptr;
    const int64_t q = queries.dim_size(0);
    OP_REQUIRES_OK(context, context->allocate_output(0, TensorShape({q, k}), &distances));
    OP_REQUIRES_OK(context, context->allocate_output(1, TensorShape({q, k}), &indices));
    const cpu::Grouped db{reinterpret_cast<const uint64_t*>(grouped.flat<uint64_t>().data()),
                          grouped.dim_size(0), words, n};
    const auto* workers = context->device()->tensorflow_cpu_worker_threads();
    cpu::TopKGrouped(db, queries.flat<uint8_t>().data(), q, num_bytes, k,
                     distances->flat<int32_t>().data(), indices->flat<int64_t>().data(),
                     workers->num_threads, const_cast<DeviceBase::CpuWorkerThreads*>(workers),
                     TfParallelFor);
  }
};

// PackedHammingCpuIsa: the instruction set the CPU kernels use now.
class PackedHammingCpuIsaOp : public OpKernel {
 public:
  explicit PackedHammingCpuIsaOp(OpKernelConstruction* context) : OpKernel(context) {}

  void Compute(OpKernelContext* context) override {
    Tensor* out = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(0, TensorShape({}), &out));
    out->scalar<::tensorflow::tstring>()() = cpu::CpuIsa();
  }
};

#if GOOGLE_CUDA

void* CudaStream(OpKernelContext* context) {
  return context->op_device_context()->stream()->platform_specific_handle().stream;
}

// Queries per launch: the grid's y dimension, and a bounded top-k workspace.
int64_t QueryChunk(const CodesView& view) {
  const int64_t per_query = tfhash_gpu_topk_workspace_bytes(1, view.num_database, view.num_bytes);
  const int64_t by_memory = std::max<int64_t>(1, (int64_t{256} << 20) / std::max<int64_t>(1, per_query));
  return std::min<int64_t>({view.num_queries, int64_t{65535}, by_memory});
}

class PackedHammingDistanceGpuOp : public OpKernel {
 public:
  explicit PackedHammingDistanceGpuOp(OpKernelConstruction* context) : OpKernel(context) {}

  void Compute(OpKernelContext* context) override {
    CodesView view;
    Tensor* distances = nullptr;
    OP_REQUIRES_OK(context, ReadDistance(context, &view, &distances));
    int32_t* out = distances->flat<int32_t>().data();
    for (int64_t start = 0; start < view.num_queries; start += 65535) {
      const int64_t count = std::min<int64_t>(65535, view.num_queries - start);
      const int rc = tfhash_gpu_distance(view.queries + start * view.num_bytes, view.database,
                                         count, view.num_database, view.num_bytes,
                                         out + start * view.num_database, CudaStream(context));
      OP_REQUIRES(context, rc == 0, errors::Internal("PackedHammingDistance CUDA launch failed: ", rc));
    }
  }
};

class PackedHammingTopKGpuOp : public OpKernel {
 public:
  explicit PackedHammingTopKGpuOp(OpKernelConstruction* context) : OpKernel(context) {}

  void Compute(OpKernelContext* context) override {
    CodesView view;
    int64_t k = 0;
    Tensor* distances = nullptr;
    Tensor* indices = nullptr;
    OP_REQUIRES_OK(context, ReadTopK(context, &view, &k, &distances, &indices));
    OP_REQUIRES(context, view.num_bytes <= 128,
                errors::InvalidArgument("the GPU kernel takes codes of at most 128 bytes, got ",
                                        view.num_bytes));
    if (view.num_queries == 0) return;
    const int64_t chunk = QueryChunk(view);
    Tensor workspace;
    OP_REQUIRES_OK(context, context->allocate_temp(
                                ::tensorflow::DT_INT8,
                                TensorShape({tfhash_gpu_topk_workspace_bytes(chunk, view.num_database,
                                                                            view.num_bytes)}),
                                &workspace));
    for (int64_t start = 0; start < view.num_queries; start += chunk) {
      const int64_t count = std::min<int64_t>(chunk, view.num_queries - start);
      const int rc = tfhash_gpu_topk(view.queries + start * view.num_bytes, view.database, count,
                                     view.num_database, view.num_bytes, k,
                                     distances->flat<int32_t>().data() + start * k,
                                     indices->flat<int64_t>().data() + start * k,
                                     workspace.flat<int8_t>().data(), CudaStream(context));
      OP_REQUIRES(context, rc == 0, errors::Internal("PackedHammingTopK CUDA launch failed: ", rc));
    }
  }
};

REGISTER_KERNEL_BUILDER(Name("PackedHammingDistance").Device(::tensorflow::DEVICE_GPU),
                        PackedHammingDistanceGpuOp);
REGISTER_KERNEL_BUILDER(Name("PackedHammingTopK").Device(::tensorflow::DEVICE_GPU).HostMemory("k"),
                        PackedHammingTopKGpuOp);

#endif  // GOOGLE_CUDA

REGISTER_KERNEL_BUILDER(Name("PackedHammingDistance").Device(::tensorflow::DEVICE_CPU),
                        PackedHammingDistanceOp);
REGISTER_KERNEL_BUILDER(Name("PackedHammingTopK").Device(::tensorflow::DEVICE_CPU).HostMemory("k"),
                        PackedHammingTopKOp);
REGISTER_KERNEL_BUILDER(Name("PackedHammingTopKGrouped").Device(::tensorflow::DEVICE_CPU),
                        PackedHammingTopKGroupedOp);
REGISTER_KERNEL_BUILDER(Name("PackedHammingCpuIsa").Device(::tensorflow::DEVICE_CPU),
                        PackedHammingCpuIsaOp);

}  // namespace
}  // namespace tfhash
