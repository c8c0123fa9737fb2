// Internal to the float16 conversion: value types before and during the rewrite, fresh value
// names, and how each initializer is used.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <unordered_map>

#include "engine/ir/graph.h"

namespace shrink::engine::quant {

// Element type of every tensor value of a model (names are unique across a model, subgraphs
// included). Original types come from graph inputs, initializers and the op schemas (value_info
// where a schema cannot tell); current types start equal and follow the rewrite.
class ValueTypes {
 public:
  void Infer(const Model& model);
  DataType Original(const std::string& name) const;  // kUndefined when unknown
  DataType Current(const std::string& name) const;
  void SetCurrent(const std::string& name, DataType type) { current_[name] = type; }
  void SetOriginal(const std::string& name, DataType type) { original_[name] = type; }

 private:
  void InferGraph(const Model& model, const Graph& graph);
  DataType InferOutput(const Model& model, const Node& node, size_t index) const;
  std::unordered_map<std::string, DataType> original_;
  std::unordered_map<std::string, DataType> current_;
};

// Value names not used anywhere in the model.
class NameGenerator {
 public:
  void AddModel(const Model& model);
  std::string Make(const std::string& base);

 private:
  std::set<std::string> used_;
};

// How one initializer is read across the model.
struct InitializerUses {
  Graph* owner = nullptr;
  int64_t uses = 0;
  int64_t data_uses = 0;
  bool pinned = false;  // also a graph input (overridable) or a graph output
  bool AllData() const { return !pinned && uses > 0 && uses == data_uses; }
};

// Keyed by initializer name. `is_data_use(node, input_index)` says whether that read may take
// the value in float16.
std::unordered_map<std::string, InitializerUses> CollectInitializerUses(
    Model* model, const std::function<bool(const Node&, size_t)>& is_data_use);

}  // namespace shrink::engine::quant
