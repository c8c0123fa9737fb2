// Op types as an enum with one property table. Passes and kernels switch on OpType; only
// this file and op_types.cc know the ONNX op names. Ops outside the table are kUnknown and keep
// their name and domain in the Node, so they survive import/export untouched.
#pragma once

#include <cstdint>
#include <string_view>

namespace shrink::engine {

// X(enum, onnx_name, domain, flags). Domain "" is the default ONNX domain (ai.onnx).
#define SHRINK_ONNX_OPS(X)                                          \
  X(Abs, "Abs", "", kElementwise)                                   \
  X(Acos, "Acos", "", kElementwise)                                 \
  X(Acosh, "Acosh", "", kElementwise)                               \
  X(Add, "Add", "", kElementwise)                                   \
  X(And, "And", "", kElementwise)                                   \
  X(ArgMax, "ArgMax", "", kNone)                                    \
  X(ArgMin, "ArgMin", "", kNone)                                    \
  X(Asin, "Asin", "", kElementwise)                                 \
  X(Asinh, "Asinh", "", kElementwise)                               \
  X(Atan, "Atan", "", kElementwise)                                 \
  X(Atanh, "Atanh", "", kElementwise)                               \
  X(AveragePool, "AveragePool", "", kNone)                          \
  X(BatchNormalization, "BatchNormalization", "", kNone)            \
  X(BitShift, "BitShift", "", kElementwise)                         \
  X(Cast, "Cast", "", kElementwise)                                 \
  X(CastLike, "CastLike", "", kElementwise)                         \
  X(Ceil, "Ceil", "", kElementwise)                                 \
  X(Celu, "Celu", "", kElementwise)                                 \
  X(Clip, "Clip", "", kElementwise)                                 \
  X(Compress, "Compress", "", kNone)                                \
  X(Concat, "Concat", "", kNone)                                    \
  X(Constant, "Constant", "", kNone)                                \
  X(ConstantOfShape, "ConstantOfShape", "", kNone)                  \
  X(Conv, "Conv", "", kHeavy)                                       \
  X(ConvInteger, "ConvInteger", "", kHeavy | kQuantized)            \
  X(ConvTranspose, "ConvTranspose", "", kHeavy)                     \
  X(Cos, "Cos", "", kElementwise)                                   \
  X(Cosh, "Cosh", "", kElementwise)                                 \
  X(CumSum, "CumSum", "", kNone)                                    \
  X(DepthToSpace, "DepthToSpace", "", kNone)                        \
  X(DequantizeLinear, "DequantizeLinear", "", kQuantized)           \
  X(Div, "Div", "", kElementwise)                                   \
  X(Dropout, "Dropout", "", kNone)                                  \
  X(DynamicQuantizeLinear, "DynamicQuantizeLinear", "", kQuantized) \
  X(Einsum, "Einsum", "", kHeavy)                                   \
  X(Elu, "Elu", "", kElementwise)                                   \
  X(Equal, "Equal", "", kElementwise)                               \
  X(Erf, "Erf", "", kElementwise)                                   \
  X(Exp, "Exp", "", kElementwise)                                   \
  X(Expand, "Expand", "", kNone)                                    \
  X(EyeLike, "EyeLike", "", kNone)                                  \
  X(Flatten, "Flatten", "", kNone)                                  \
  X(Floor, "Floor", "", kElementwise)                               \
  X(GRU, "GRU", "", kHeavy | kRecurrent)                            \
  X(Gather, "Gather", "", kNone)                                    \
  X(GatherElements, "GatherElements", "", kNone)                    \
  X(GatherND, "GatherND", "", kNone)                                \
  X(Gemm, "Gemm", "", kHeavy)                                       \
  X(GlobalAveragePool, "GlobalAveragePool", "", kNone)              \
  X(GlobalMaxPool, "GlobalMaxPool", "", kNone)                      \
  X(Greater, "Greater", "", kElementwise)                           \
  X(GreaterOrEqual, "GreaterOrEqual", "", kElementwise)             \
  X(HardSigmoid, "HardSigmoid", "", kElementwise)                   \
  X(HardSwish, "HardSwish", "", kElementwise)                       \
  X(Hardmax, "Hardmax", "", kNone)                                  \
  X(Identity, "Identity", "", kNone)                                \
  X(If, "If", "", kHasSubgraph)                                     \
  X(InstanceNormalization, "InstanceNormalization", "", kNone)      \
  X(IsInf, "IsInf", "", kElementwise)                               \
  X(IsNaN, "IsNaN", "", kElementwise)                               \
  X(LRN, "LRN", "", kNone)                                          \
  X(LSTM, "LSTM", "", kHeavy | kRecurrent)                          \
  X(LayerNormalization, "LayerNormalization", "", kNone)            \
  X(LeakyRelu, "LeakyRelu", "", kElementwise)                       \
  X(Less, "Less", "", kElementwise)                                 \
  X(LessOrEqual, "LessOrEqual", "", kElementwise)                   \
  X(Log, "Log", "", kElementwise)                                   \
  X(LogSoftmax, "LogSoftmax", "", kNone)                            \
  X(Loop, "Loop", "", kHasSubgraph)                                 \
  X(LpNormalization, "LpNormalization", "", kNone)                  \
  X(MatMul, "MatMul", "", kHeavy)                                   \
  X(MatMulInteger, "MatMulInteger", "", kHeavy | kQuantized)        \
  X(Max, "Max", "", kElementwise)                                   \
  X(MaxPool, "MaxPool", "", kNone)                                  \
  X(Mean, "Mean", "", kElementwise)                                 \
  X(Min, "Min", "", kElementwise)                                   \
  X(Mish, "Mish", "", kElementwise)                                 \
  X(Mod, "Mod", "", kElementwise)                                   \
  X(Mul, "Mul", "", kElementwise)                                   \
  X(Neg, "Neg", "", kElementwise)                                   \
  X(NonZero, "NonZero", "", kNone)                                  \
  X(Not, "Not", "", kElementwise)                                   \
  X(OneHot, "OneHot", "", kNone)                                    \
  X(Or, "Or", "", kElementwise)                                     \
  X(PRelu, "PRelu", "", kElementwise)                               \
  X(Pad, "Pad", "", kNone)                                          \
  X(Pow, "Pow", "", kElementwise)                                   \
  X(QLinearConv, "QLinearConv", "", kHeavy | kQuantized)            \
  X(QLinearMatMul, "QLinearMatMul", "", kHeavy | kQuantized)        \
  X(QuantizeLinear, "QuantizeLinear", "", kQuantized)               \
  X(RNN, "RNN", "", kHeavy | kRecurrent)                            \
  X(RandomNormal, "RandomNormal", "", kNondeterministic)            \
  X(RandomNormalLike, "RandomNormalLike", "", kNondeterministic)    \
  X(RandomUniform, "RandomUniform", "", kNondeterministic)          \
  X(RandomUniformLike, "RandomUniformLike", "", kNondeterministic)  \
  X(Range, "Range", "", kNone)                                      \
  X(Reciprocal, "Reciprocal", "", kElementwise)                     \
  X(ReduceL1, "ReduceL1", "", kReduction)                           \
  X(ReduceL2, "ReduceL2", "", kReduction)                           \
  X(ReduceLogSum, "ReduceLogSum", "", kReduction)                   \
  X(ReduceLogSumExp, "ReduceLogSumExp", "", kReduction)             \
  X(ReduceMax, "ReduceMax", "", kReduction)                         \
  X(ReduceMean, "ReduceMean", "", kReduction)                       \
  X(ReduceMin, "ReduceMin", "", kReduction)                         \
  X(ReduceProd, "ReduceProd", "", kReduction)                       \
  X(ReduceSum, "ReduceSum", "", kReduction)                         \
  X(ReduceSumSquare, "ReduceSumSquare", "", kReduction)             \
  X(Relu, "Relu", "", kElementwise)                                 \
  X(Reshape, "Reshape", "", kNone)                                  \
  X(Resize, "Resize", "", kNone)                                    \
  X(Round, "Round", "", kElementwise)                               \
  X(Scan, "Scan", "", kHasSubgraph)                                 \
  X(Scatter, "Scatter", "", kNone)                                  \
  X(ScatterElements, "ScatterElements", "", kNone)                  \
  X(ScatterND, "ScatterND", "", kNone)                              \
  X(Selu, "Selu", "", kElementwise)                                 \
  X(Shape, "Shape", "", kNone)                                      \
  X(Shrink, "Shrink", "", kElementwise)                             \
  X(Sigmoid, "Sigmoid", "", kElementwise)                           \
  X(Sign, "Sign", "", kElementwise)                                 \
  X(Sin, "Sin", "", kElementwise)                                   \
  X(Sinh, "Sinh", "", kElementwise)                                 \
  X(Size, "Size", "", kNone)                                        \
  X(Slice, "Slice", "", kNone)                                      \
  X(Softmax, "Softmax", "", kNone)                                  \
  X(Softplus, "Softplus", "", kElementwise)                         \
  X(Softsign, "Softsign", "", kElementwise)                         \
  X(SpaceToDepth, "SpaceToDepth", "", kNone)                        \
  X(Split, "Split", "", kNone)                                      \
  X(Sqrt, "Sqrt", "", kElementwise)                                 \
  X(Squeeze, "Squeeze", "", kNone)                                  \
  X(Sub, "Sub", "", kElementwise)                                   \
  X(Sum, "Sum", "", kElementwise)                                   \
  X(Tan, "Tan", "", kElementwise)                                   \
  X(Tanh, "Tanh", "", kElementwise)                                 \
  X(ThresholdedRelu, "ThresholdedRelu", "", kElementwise)           \
  X(Tile, "Tile", "", kNone)                                        \
  X(TopK, "TopK", "", kNone)                                        \
  X(Transpose, "Transpose", "", kNone)                              \
  X(Trilu, "Trilu", "", kNone)                                      \
  X(Unsqueeze, "Unsqueeze", "", kNone)                              \
  X(Upsample, "Upsample", "", kNone)                                \
  X(Where, "Where", "", kNone)                                      \
  X(Xor, "Xor", "", kElementwise)                                   \
  X(MsQuantizeLinear, "QuantizeLinear", "com.microsoft", kQuantized)     \
  X(MsDequantizeLinear, "DequantizeLinear", "com.microsoft", kQuantized) \
  X(MsDynamicQuantizeLSTM, "DynamicQuantizeLSTM", "com.microsoft", kHeavy | kRecurrent | kQuantized) \
  X(MsDynamicQuantizeMatMul, "DynamicQuantizeMatMul", "com.microsoft", kHeavy | kQuantized)   \
  X(MsMatMulIntegerToFloat, "MatMulIntegerToFloat", "com.microsoft", kHeavy | kQuantized)     \
  X(MsQLinearAdd, "QLinearAdd", "com.microsoft", kQuantized)                                  \
  X(MsQLinearMul, "QLinearMul", "com.microsoft", kQuantized)                                  \
  X(MsQLinearConcat, "QLinearConcat", "com.microsoft", kQuantized)                            \
  X(MsQLinearGlobalAveragePool, "QLinearGlobalAveragePool", "com.microsoft", kQuantized)      \
  X(MsQLinearAveragePool, "QLinearAveragePool", "com.microsoft", kQuantized)                  \
  X(MsQLinearSigmoid, "QLinearSigmoid", "com.microsoft", kQuantized)                          \
  X(MsQLinearLeakyRelu, "QLinearLeakyRelu", "com.microsoft", kQuantized)

enum OpFlag : uint32_t {
  kNone = 0,
  kElementwise = 1u << 0,      // output[i] depends on input[i] only (after broadcasting)
  kHeavy = 1u << 1,            // compute-bound; has a fast path and a reference kernel
  kQuantized = 1u << 2,        // consumes or produces quantized integer tensors
  kHasSubgraph = 1u << 3,      // carries GRAPH attributes (If, Loop, Scan)
  kRecurrent = 1u << 4,        // RNN family
  kReduction = 1u << 5,        // Reduce* family (axes attribute or input)
  kNondeterministic = 1u << 6, // random ops: never constant-folded
};

enum class OpType : uint16_t {
  kUnknown = 0,
#define SHRINK_OP_ENUM(e, name, domain, flags) k##e,
  SHRINK_ONNX_OPS(SHRINK_OP_ENUM)
#undef SHRINK_OP_ENUM
  kCount,
};

struct OpInfo {
  OpType type;
  const char* name;    // ONNX op_type
  const char* domain;  // "" for the default domain
  uint32_t flags;
};

// Resolves (domain, op_type); "" and "ai.onnx" are the same domain. Unknown: kUnknown.
OpType LookupOpType(std::string_view domain, std::string_view op_type);
const OpInfo& GetOpInfo(OpType type);
inline bool HasFlag(OpType type, OpFlag flag) { return (GetOpInfo(type).flags & flag) != 0; }
const char* OpTypeName(OpType type);

}  // namespace shrink::engine
