#include "engine/ir/op_history.h"

#include <utility>

namespace shrink::engine {
namespace {

struct History {
  OpType op;
  std::vector<int> versions;
};

// Generated from onnx.defs.get_all_schemas_with_history() (libonnx 1.12) for every ai.onnx op
// in op_types.h, with the opset-18 since-versions added by hand.
const std::vector<History>& HistoryTable() {
  static const auto* table = new std::vector<History>{
      {OpType::kAbs, {1, 6, 13}},
      {OpType::kAcos, {7}},
      {OpType::kAcosh, {9}},
      {OpType::kAdd, {1, 6, 7, 13, 14}},
      {OpType::kAnd, {1, 7}},
      {OpType::kArgMax, {1, 11, 12, 13}},
      {OpType::kArgMin, {1, 11, 12, 13}},
      {OpType::kAsin, {7}},
      {OpType::kAsinh, {9}},
      {OpType::kAtan, {7}},
      {OpType::kAtanh, {9}},
      {OpType::kAveragePool, {1, 7, 10, 11}},
      {OpType::kBatchNormalization, {1, 6, 7, 9, 14, 15}},
      {OpType::kBitShift, {11}},
      {OpType::kCast, {1, 6, 9, 13}},
      {OpType::kCastLike, {15}},
      {OpType::kCeil, {1, 6, 13}},
      {OpType::kCelu, {12}},
      {OpType::kClip, {1, 6, 11, 12, 13}},
      {OpType::kCompress, {9, 11}},
      {OpType::kConcat, {1, 4, 11, 13}},
      {OpType::kConstant, {1, 9, 11, 12, 13}},
      {OpType::kConstantOfShape, {9}},
      {OpType::kConv, {1, 11}},
      {OpType::kConvInteger, {10}},
      {OpType::kConvTranspose, {1, 11}},
      {OpType::kCos, {7}},
      {OpType::kCosh, {9}},
      {OpType::kCumSum, {11, 14}},
      {OpType::kDepthToSpace, {1, 11, 13}},
      {OpType::kDequantizeLinear, {10, 13}},
      {OpType::kDiv, {1, 6, 7, 13, 14}},
      {OpType::kDropout, {1, 6, 7, 10, 12, 13}},
      {OpType::kDynamicQuantizeLinear, {11}},
      {OpType::kEinsum, {12}},
      {OpType::kElu, {1, 6}},
      {OpType::kEqual, {1, 7, 11, 13}},
      {OpType::kErf, {9, 13}},
      {OpType::kExp, {1, 6, 13}},
      {OpType::kExpand, {8, 13}},
      {OpType::kEyeLike, {9}},
      {OpType::kFlatten, {1, 9, 11, 13}},
      {OpType::kFloor, {1, 6, 13}},
      {OpType::kGRU, {1, 3, 7, 14}},
      {OpType::kGather, {1, 11, 13}},
      {OpType::kGatherElements, {11, 13}},
      {OpType::kGatherND, {11, 12, 13}},
      {OpType::kGemm, {1, 6, 7, 9, 11, 13}},
      {OpType::kGlobalAveragePool, {1}},
      {OpType::kGlobalMaxPool, {1}},
      {OpType::kGreater, {1, 7, 9, 13}},
      {OpType::kGreaterOrEqual, {12, 16}},
      {OpType::kHardSigmoid, {1, 6}},
      {OpType::kHardSwish, {14}},
      {OpType::kHardmax, {1, 11, 13}},
      {OpType::kIdentity, {1, 13, 14, 16}},
      {OpType::kIf, {1, 11, 13, 16}},
      {OpType::kInstanceNormalization, {1, 6}},
      {OpType::kIsInf, {10}},
      {OpType::kIsNaN, {9, 13}},
      {OpType::kLRN, {1, 13}},
      {OpType::kLSTM, {1, 7, 14}},
      {OpType::kLayerNormalization, {17}},
      {OpType::kLeakyRelu, {1, 6, 16}},
      {OpType::kLess, {1, 7, 9, 13}},
      {OpType::kLessOrEqual, {12, 16}},
      {OpType::kLog, {1, 6, 13}},
      {OpType::kLogSoftmax, {1, 11, 13}},
      {OpType::kLoop, {1, 11, 13, 16}},
      {OpType::kLpNormalization, {1}},
      {OpType::kMatMul, {1, 9, 13}},
      {OpType::kMatMulInteger, {10}},
      {OpType::kMax, {1, 6, 8, 12, 13}},
      {OpType::kMaxPool, {1, 8, 10, 11, 12}},
      {OpType::kMean, {1, 6, 8, 13}},
      {OpType::kMin, {1, 6, 8, 12, 13}},
      {OpType::kMish, {18}},
      {OpType::kMod, {10, 13}},
      {OpType::kMul, {1, 6, 7, 13, 14}},
      {OpType::kNeg, {1, 6, 13}},
      {OpType::kNonZero, {9, 13}},
      {OpType::kNot, {1}},
      {OpType::kOneHot, {9, 11}},
      {OpType::kOr, {1, 7}},
      {OpType::kPRelu, {1, 6, 7, 9, 16}},
      {OpType::kPad, {1, 2, 11, 13, 18}},
      {OpType::kPow, {1, 7, 12, 13, 15}},
      {OpType::kQLinearConv, {10}},
      {OpType::kQLinearMatMul, {10}},
      {OpType::kQuantizeLinear, {10, 13}},
      {OpType::kRNN, {1, 7, 14}},
      {OpType::kRandomNormal, {1}},
      {OpType::kRandomNormalLike, {1}},
      {OpType::kRandomUniform, {1}},
      {OpType::kRandomUniformLike, {1}},
      {OpType::kRange, {11}},
      {OpType::kReciprocal, {1, 6, 13}},
      {OpType::kReduceL1, {1, 11, 13, 18}},
      {OpType::kReduceL2, {1, 11, 13, 18}},
      {OpType::kReduceLogSum, {1, 11, 13, 18}},
      {OpType::kReduceLogSumExp, {1, 11, 13, 18}},
      {OpType::kReduceMax, {1, 11, 12, 13, 18}},
      {OpType::kReduceMean, {1, 11, 13, 18}},
      {OpType::kReduceMin, {1, 11, 12, 13, 18}},
      {OpType::kReduceProd, {1, 11, 13, 18}},
      {OpType::kReduceSum, {1, 11, 13}},
      {OpType::kReduceSumSquare, {1, 11, 13, 18}},
      {OpType::kRelu, {1, 6, 13, 14}},
      {OpType::kReshape, {1, 5, 13, 14}},
      {OpType::kResize, {10, 11, 13, 18}},
      {OpType::kRound, {11}},
      {OpType::kScan, {8, 9, 11, 16}},
      {OpType::kScatterElements, {11, 13, 16, 18}},
      {OpType::kScatterND, {11, 13, 16, 18}},
      {OpType::kSelu, {1, 6}},
      {OpType::kShape, {1, 13, 15}},
      {OpType::kShrink, {9}},
      {OpType::kSigmoid, {1, 6, 13}},
      {OpType::kSign, {9, 13}},
      {OpType::kSin, {7}},
      {OpType::kSinh, {9}},
      {OpType::kSize, {1, 13}},
      {OpType::kSlice, {1, 10, 11, 13}},
      {OpType::kSoftmax, {1, 11, 13}},
      {OpType::kSoftplus, {1}},
      {OpType::kSoftsign, {1}},
      {OpType::kSpaceToDepth, {1, 13}},
      {OpType::kSplit, {1, 2, 11, 13, 18}},
      {OpType::kSqrt, {1, 6, 13}},
      {OpType::kSqueeze, {1, 11, 13}},
      {OpType::kSub, {1, 6, 7, 13, 14}},
      {OpType::kSum, {1, 6, 8, 13}},
      {OpType::kTan, {7}},
      {OpType::kTanh, {1, 6, 13}},
      {OpType::kThresholdedRelu, {10}},
      {OpType::kTile, {1, 6, 13}},
      {OpType::kTopK, {1, 10, 11}},
      {OpType::kTranspose, {1, 13}},
      {OpType::kTrilu, {14}},
      {OpType::kUnsqueeze, {1, 11, 13}},
      {OpType::kUpsample, {1, 7, 9, 10}},
      {OpType::kWhere, {9, 16}},
      {OpType::kXor, {1, 7}},
      {OpType::kScatter, {9, 11}},
  };
  return *table;
}

const std::vector<std::vector<int>>& HistoryIndex() {
  static const auto* index = [] {
    auto* by_op = new std::vector<std::vector<int>>(size_t(OpType::kCount));
    for (const History& h : HistoryTable()) (*by_op)[size_t(h.op)] = h.versions;
    return by_op;
  }();
  return *index;
}

}  // namespace

const std::vector<int>& OpVersionHistory(OpType op) {
  const auto& index = HistoryIndex();
  return size_t(op) < index.size() ? index[size_t(op)] : index[0];
}

int64_t OpSchemaVersion(OpType op, int64_t opset) {
  int64_t version = 0;
  for (int since : OpVersionHistory(op)) {
    if (since <= opset) version = since;
  }
  return version;
}

}  // namespace shrink::engine
