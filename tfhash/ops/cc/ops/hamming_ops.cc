// Op interface of the packed-Hamming ops (kernels live in ../kernels).
//
// Codes are packed uint8 [n, nbytes], bit j in byte j / 8 at position j % 8
// (faiss IndexBinary layout). Distances are int32; top-k breaks ties by lower
// database index.

#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace tfhash {

using ::tensorflow::Status;
using ::tensorflow::shape_inference::DimensionHandle;
using ::tensorflow::shape_inference::InferenceContext;
using ::tensorflow::shape_inference::ShapeHandle;

static Status CodesPair(InferenceContext* c, ShapeHandle* queries, ShapeHandle* database) {
  TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 2, queries));
  TF_RETURN_IF_ERROR(c->WithRank(c->input(1), 2, database));
  DimensionHandle unused;
  return c->Merge(c->Dim(*queries, 1), c->Dim(*database, 1), &unused);
}

REGISTER_OP("PackedHammingDistance")
    .Input("queries: uint8")
    .Input("database: uint8")
    .Output("distances: int32")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle queries, database;
      TF_RETURN_IF_ERROR(CodesPair(c, &queries, &database));
      c->set_output(0, c->Matrix(c->Dim(queries, 0), c->Dim(database, 0)));
      return Status();
    })
    .Doc("All Hamming distances between packed codes: int32 [q, n].");

REGISTER_OP("PackedHammingTopK")
    .Input("queries: uint8")
    .Input("database: uint8")
    .Input("k: int32")
    .Output("distances: int32")
    .Output("indices: int64")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle queries, database, k_shape;
      TF_RETURN_IF_ERROR(CodesPair(c, &queries, &database));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(2), 0, &k_shape));
      DimensionHandle k;
      TF_RETURN_IF_ERROR(c->MakeDimForScalarInput(2, &k));
      c->set_output(0, c->Matrix(c->Dim(queries, 0), k));
      c->set_output(1, c->Matrix(c->Dim(queries, 0), k));
      return Status();
    })
    .Doc("The k nearest database codes of each query, nearest first, ties by lower index.");

REGISTER_OP("PackedHammingTopKGrouped")
    .Input("queries: uint8")
    .Input("grouped: uint64")
    .Input("num_database: int64")
    .Input("k: int32")
    .Output("distances: int32")
    .Output("indices: int64")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle queries, grouped, scalar;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 2, &queries));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(1), 3, &grouped));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(2), 0, &scalar));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(3), 0, &scalar));
      DimensionHandle k;
      TF_RETURN_IF_ERROR(c->MakeDimForScalarInput(3, &k));
      c->set_output(0, c->Matrix(c->Dim(queries, 0), k));
      c->set_output(1, c->Matrix(c->Dim(queries, 0), k));
      return Status();
    })
    .Doc("PackedHammingTopK against a database in the kernel's layout, uint64 [groups, words, 8] "
         "(8 codes a group, word-major), holding num_database codes.");

REGISTER_OP("PackedHammingCpuIsa")
    .Output("isa: string")
    .SetIsStateful()  // reads TFHASH_CPU_ISA at every call: never folded into a constant
    .SetShapeFn([](InferenceContext* c) {
      c->set_output(0, c->Scalar());
      return Status();
    })
    .Doc("The instruction set of the CPU kernels: avx512-vpopcntdq, avx2 or scalar.");

}  // namespace tfhash
