#include "engine/sparsity/layer_gram.h"

#include <algorithm>

#include "engine/io/data_loader.h"
#include "engine/ir/graph_utils.h"
#include "engine/runtime/executor.h"
#include "engine/sparsity/weights.h"

namespace shrink::engine::sparsity {
namespace {

constexpr int64_t kChunkRows = 512;  // rows per Gram update: bounds the temporary matrix

// Conv geometry for im2col, 1-D kernels seen as 1 x k.
struct ConvGeometry {
  int64_t channels = 0, kh = 1, kw = 1;
  int64_t stride_h = 1, stride_w = 1, dil_h = 1, dil_w = 1, pad_top = 0, pad_left = 0;
  int64_t pad_h = 0, pad_w = 0;  // begin + end
};

int64_t SamePadBegin(int64_t in, int64_t kernel, int64_t stride, int64_t dilation, bool upper,
                     int64_t* total) {
  const int64_t out = (in + stride - 1) / stride;
  *total = std::max<int64_t>(0, (out - 1) * stride + dilation * (kernel - 1) + 1 - in);
  return upper ? *total / 2 : *total - *total / 2;
}

ConvGeometry Geometry(const Node& node, const Tensor& weight, const Shape& input) {
  ConvGeometry g;
  const bool two_d = weight.rank() == 4;
  g.channels = weight.dim(1);
  g.kh = two_d ? weight.dim(2) : 1;
  g.kw = weight.dim(weight.rank() - 1);
  std::vector<int64_t> strides = node.GetInts("strides"), dilations = node.GetInts("dilations");
  std::vector<int64_t> pads = node.GetInts("pads");
  const size_t spatial = two_d ? 2 : 1;
  if (strides.size() != spatial) strides.assign(spatial, 1);
  if (dilations.size() != spatial) dilations.assign(spatial, 1);
  if (pads.size() != 2 * spatial) pads.assign(2 * spatial, 0);
  g.stride_w = strides.back(), g.dil_w = dilations.back();
  g.pad_left = pads[spatial - 1], g.pad_w = pads[spatial - 1] + pads[2 * spatial - 1];
  if (two_d) {
    g.stride_h = strides[0], g.dil_h = dilations[0], g.pad_top = pads[0];
    g.pad_h = pads[0] + pads[2];
  }
  const std::string auto_pad = node.GetString("auto_pad", "NOTSET");
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    const bool upper = auto_pad == "SAME_UPPER";
    g.pad_left = SamePadBegin(input.back(), g.kw, g.stride_w, g.dil_w, upper, &g.pad_w);
    if (two_d) g.pad_top = SamePadBegin(input[2], g.kh, g.stride_h, g.dil_h, upper, &g.pad_h);
  } else if (auto_pad == "VALID") {
    g.pad_left = g.pad_top = g.pad_w = g.pad_h = 0;
  }
  return g;
}

void AddRows(const Eigen::MatrixXd& rows, LayerGram* stats) {
  stats->gram.selfadjointView<Eigen::Lower>().rankUpdate(rows.transpose());
  stats->sum += rows.colwise().sum().transpose();
  stats->rows += rows.rows();
}

// im2col rows of a Conv input [N, C, H, W] (or [N, C, L]) at sampled output positions.
Status AddConvRows(const Node& node, const Tensor& weight, const Tensor& x, int64_t positions,
                   LayerGram* stats) {
  const Shape& s = x.shape();
  if (s.size() != size_t(weight.rank())) return InvalidArgument(node.Describe() + ": input rank");
  const ConvGeometry g = Geometry(node, weight, s);
  const int64_t n = s[0], h = s.size() == 4 ? s[2] : 1, w = s.back();
  const int64_t out_h = (h + g.pad_h - g.dil_h * (g.kh - 1) - 1) / g.stride_h + 1;
  const int64_t out_w = (w + g.pad_w - g.dil_w * (g.kw - 1) - 1) / g.stride_w + 1;
  if (s[1] != g.channels || out_h <= 0 || out_w <= 0) {
    return InvalidArgument(node.Describe() + ": input " + ShapeToString(s) + " does not fit");
  }
  const int64_t total = out_h * out_w, take = std::min(total, positions);
  const int64_t k = g.channels * g.kh * g.kw;
  const float* data = x.data<float>();
  Eigen::MatrixXd rows(std::min(kChunkRows, n * take), k);
  int64_t filled = 0;
  for (int64_t sample = 0; sample < n; ++sample) {
    for (int64_t i = 0; i < take; ++i) {
      const int64_t p = ((i * total) / take + sample) % total;
      const int64_t oh = p / out_w, ow = p % out_w;
      for (int64_t c = 0; c < g.channels; ++c) {
        const float* plane = data + (sample * g.channels + c) * h * w;
        for (int64_t a = 0; a < g.kh; ++a) {
          const int64_t y = oh * g.stride_h - g.pad_top + a * g.dil_h;
          for (int64_t b = 0; b < g.kw; ++b) {
            const int64_t xx = ow * g.stride_w - g.pad_left + b * g.dil_w;
            const bool inside = y >= 0 && y < h && xx >= 0 && xx < w;
            rows(filled, (c * g.kh + a) * g.kw + b) = inside ? plane[y * w + xx] : 0.0;
          }
        }
      }
      if (++filled == rows.rows()) {
        AddRows(rows, stats);
        filled = 0;
      }
    }
  }
  if (filled > 0) AddRows(rows.topRows(filled), stats);
  return OkStatus();
}

// Rows of a Gemm (A or A^T) or MatMul ([..., K]) input.
Status AddMatrixRows(const Node& node, int64_t k, const Tensor& x, LayerGram* stats) {
  const bool trans_a = node.op == OpType::kGemm && node.GetInt("transA", 0) != 0;
  if (x.rank() < 1 || (trans_a ? x.dim(0) : x.shape().back()) != k || x.size() % k != 0) {
    return InvalidArgument(node.Describe() + ": input " + ShapeToString(x.shape()) +
                           " does not fit K = " + std::to_string(k));
  }
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const int64_t m = x.size() / k;
  if (trans_a) {
    Eigen::Map<const RowMajor> a(x.data<float>(), k, m);
    for (int64_t r = 0; r < m; r += kChunkRows) {
      AddRows(a.middleCols(r, std::min(kChunkRows, m - r)).transpose().cast<double>(), stats);
    }
  } else {
    Eigen::Map<const RowMajor> a(x.data<float>(), m, k);
    for (int64_t r = 0; r < m; r += kChunkRows) {
      AddRows(a.middleRows(r, std::min(kChunkRows, m - r)).cast<double>(), stats);
    }
  }
  return OkStatus();
}

struct Request {
  const Node* node;
  const Tensor* weight;
  int64_t k;
  LayerGram* stats;
};

class GramObserver : public TensorObserver {
 public:
  GramObserver(const Graph& main, std::vector<Request> requests, int64_t positions)
      : main_(main), requests_(std::move(requests)), positions_(positions) {}

  void OnNodeOutput(const Graph& scope, const Node& node, int index, const Tensor& value) override {
    if (&scope == &main_) Offer(node.outputs[size_t(index)], value);
  }
  void Offer(const std::string& name, const Tensor& value) {
    if (!status.ok()) return;
    for (const Request& r : requests_) {
      if (r.node->inputs[0] != name) continue;
      if (value.dtype() != DataType::kFloat32) {
        status = InvalidArgument(r.node->Describe() + ": input is not float32");
      } else if (r.node->op == OpType::kConv) {
        status = AddConvRows(*r.node, *r.weight, value, positions_, r.stats);
      } else {
        status = AddMatrixRows(*r.node, r.k, value, r.stats);
      }
      if (!status.ok()) return;
    }
  }
  Status status;

 private:
  const Graph& main_;
  std::vector<Request> requests_;
  int64_t positions_;
};

// One pass over (up to max_samples of) DATA feeding the observer.
Status RunOverData(const Model& model, Executor* executor, const std::string& data,
                   const GramOptions& options, GramObserver* observer) {
  std::vector<ValueInfo> inputs = RequiredInputs(model.graph);
  DataOptions data_options{std::clamp<int64_t>(options.max_batch, 1, options.max_samples)};
  ASSIGN_OR_RETURN(auto reader, DataReader::Open(data, inputs, data_options));
  int64_t seen = 0;
  DataBatch batch;
  while (seen < options.max_samples) {
    ASSIGN_OR_RETURN(bool any, reader->Next(&batch));
    if (!any) break;
    for (const NamedTensor& feed : batch.inputs) observer->Offer(feed.name, feed.tensor);
    RunOptions run;
    run.observer = observer;
    RETURN_IF_ERROR(executor->Run(batch.inputs, run).status().WithContext(batch.source));
    RETURN_IF_ERROR(observer->status);
    seen += batch.samples;
  }
  if (seen == 0) return InvalidArgument(data + ": no samples");
  return OkStatus();
}

}  // namespace

StatusOr<std::map<std::string, LayerGram>> CollectGrams(const Model& model,
                                                        const std::vector<const Node*>& layers,
                                                        const std::string& data,
                                                        const GramOptions& options) {
  std::map<std::string, LayerGram> result;
  std::vector<std::vector<Request>> passes(1);
  int64_t bytes = 0;
  for (const Node* node : layers) {
    const Tensor* weight =
        node->inputs.size() > 1 ? model.graph.FindInitializer(node->inputs[1]) : nullptr;
    if (!weight) return InvalidArgument(node->Describe() + ": weight is not an initializer");
    ASSIGN_OR_RETURN(MatrixView view, ViewAsMatrix(*node, *weight));
    if (node->op == OpType::kConv && weight->rank() > 4) {
      return Unimplemented(node->Describe() + ": 3-D convolutions are not supported");
    }
    LayerGram& stats = result[node->inputs[1]];
    stats.gram = Eigen::MatrixXd::Zero(view.k, view.k);
    stats.sum = Eigen::VectorXd::Zero(view.k);
    const int64_t need = view.k * view.k * 8;
    if (bytes > 0 && bytes + need > options.max_bytes) passes.emplace_back(), bytes = 0;
    passes.back().push_back({node, weight, view.k, &stats});
    bytes += need;
  }
  ExecutorOptions executor_options;
  executor_options.threads = options.threads;
  ASSIGN_OR_RETURN(auto executor, Executor::Create(model, executor_options));
  for (std::vector<Request>& pass : passes) {
    if (pass.empty()) continue;
    GramObserver observer(model.graph, std::move(pass), options.positions_per_sample);
    RETURN_IF_ERROR(RunOverData(model, executor.get(), data, options, &observer));
  }
  for (auto& [name, stats] : result) {
    stats.gram = Eigen::MatrixXd(stats.gram.selfadjointView<Eigen::Lower>());
  }
  return result;
}

StatusOr<Eigen::MatrixXd> WeightMatrix(const Node& node, const Tensor& weight) {
  ASSIGN_OR_RETURN(MatrixView view, ViewAsMatrix(node, weight));
  Eigen::MatrixXd w(view.k, view.o);
  const float* data = weight.data<float>();
  for (int64_t o = 0; o < view.o; ++o) {
    for (int64_t k = 0; k < view.k; ++k) w(k, o) = data[view.Index(k, o)];
  }
  return w;
}

StatusOr<Tensor> WeightTensor(const Node& node, const Tensor& like, const Eigen::MatrixXd& w) {
  ASSIGN_OR_RETURN(MatrixView view, ViewAsMatrix(node, like));
  if (w.rows() != view.k || w.cols() != view.o) return Internal("weight matrix shape");
  Tensor tensor(DataType::kFloat32, like.shape());
  float* data = tensor.data<float>();
  for (int64_t o = 0; o < view.o; ++o) {
    for (int64_t k = 0; k < view.k; ++k) data[view.Index(k, o)] = static_cast<float>(w(k, o));
  }
  return tensor;
}

Eigen::VectorXd BiasVector(const Node& node, const Graph& graph, int64_t outputs) {
  Eigen::VectorXd b = Eigen::VectorXd::Zero(outputs);
  const Tensor* bias = node.HasInput(2) ? graph.FindInitializer(node.inputs[2]) : nullptr;
  if (!bias || bias->dtype() != DataType::kFloat32) return b;
  const double beta = node.op == OpType::kGemm ? node.GetFloat("beta", 1.0f) : 1.0;
  if (bias->size() == 1) return Eigen::VectorXd::Constant(outputs, beta * bias->data<float>()[0]);
  if (bias->size() != outputs) return b;
  for (int64_t o = 0; o < outputs; ++o) b(o) = beta * bias->data<float>()[o];
  return b;
}

double ChangeEnergy(const LayerGram& stats, const Eigen::MatrixXd& change) {
  return (change.array() * (stats.gram * change).array()).sum();
}

double OutputEnergy(const LayerGram& stats, const Eigen::MatrixXd& w, const Eigen::VectorXd& b) {
  const Eigen::VectorXd sw = w.transpose() * stats.sum;
  return ChangeEnergy(stats, w) + 2 * b.dot(sw) + double(stats.rows) * b.squaredNorm();
}

}  // namespace shrink::engine::sparsity
