#include "server/upload_check.h"

#include <algorithm>
#include <cstring>

namespace shrink::server {
namespace {

// Walks the top-level protobuf framing of an onnx.ModelProto across chunk boundaries.
class OnnxFramingCheck : public UploadCheck {
 public:
  explicit OnnxFramingCheck(std::string name) : name_(std::move(name)) {}

  Status Feed(std::string_view bytes) override {
    for (size_t i = 0; i < bytes.size();) {
      if (state_ == State::kSkip) {
        size_t take = static_cast<size_t>(std::min<uint64_t>(skip_, bytes.size() - i));
        skip_ -= take;
        i += take;
        offset_ += take;
        if (skip_ == 0) state_ = State::kTag;
        continue;
      }
      RETURN_IF_ERROR(Byte(static_cast<uint8_t>(bytes[i])));
      ++i;
      ++offset_;
    }
    return OkStatus();
  }

  Status Finish() override {
    if (offset_ == 0) return Bad("the file is empty");
    if (state_ != State::kTag || varint_shift_ != 0) {
      return Bad("the file ends inside a field (truncated?)");
    }
    if (!seen_graph_) return Bad("it has no graph");
    if (!seen_ir_version_) return Bad("it has no ir_version");
    return OkStatus();
  }

 private:
  enum class State { kTag, kVarint, kLength, kSkip };

  Status Bad(const std::string& why) const {
    return InvalidArgument(name_ + " is not an ONNX model: " + why);
  }

  // Accumulates one varint byte; true when the varint is complete.
  StatusOr<bool> VarintByte(uint8_t byte) {
    if (varint_shift_ >= 64) return Bad("a varint is longer than 10 bytes");
    varint_ |= static_cast<uint64_t>(byte & 0x7f) << varint_shift_;
    varint_shift_ += 7;
    return (byte & 0x80) == 0;
  }

  Status Byte(uint8_t byte) {
    ASSIGN_OR_RETURN(bool done, VarintByte(byte));
    if (!done) return OkStatus();
    uint64_t value = varint_;
    varint_ = 0;
    varint_shift_ = 0;
    switch (state_) {
      case State::kTag: return OnTag(value);
      case State::kVarint: state_ = State::kTag; return OkStatus();
      case State::kLength:
        skip_ = value;
        state_ = value == 0 ? State::kTag : State::kSkip;
        return OkStatus();
      case State::kSkip: break;
    }
    return OkStatus();
  }

  Status OnTag(uint64_t tag) {
    const uint64_t field = tag >> 3;
    const int wire = static_cast<int>(tag & 7);
    if (field == 0) return Bad("field number 0 at byte " + std::to_string(offset_));
    // ModelProto: ir_version (1) and model_version (5) are varints; graph (7) and the other
    // known fields are length-delimited.
    const bool varint_field = field == 1 || field == 5;
    const bool known_bytes_field = (field >= 2 && field <= 4) || field == 6 || field == 7 ||
                                   field == 8 || field == 14 || field == 20 || field == 25;
    if ((varint_field && wire != 0) || (known_bytes_field && wire != 2)) {
      return Bad("field " + std::to_string(field) + " has the wrong wire type at byte " +
                 std::to_string(offset_));
    }
    if (field == 1) seen_ir_version_ = true;
    if (field == 7) seen_graph_ = true;
    switch (wire) {
      case 0: state_ = State::kVarint; return OkStatus();
      case 1: skip_ = 8; state_ = State::kSkip; return OkStatus();
      case 2: state_ = State::kLength; return OkStatus();
      case 5: skip_ = 4; state_ = State::kSkip; return OkStatus();
      default:
        return Bad("invalid wire type " + std::to_string(wire) + " at byte " +
                   std::to_string(offset_));
    }
  }

  std::string name_;
  State state_ = State::kTag;
  uint64_t varint_ = 0;
  int varint_shift_ = 0;
  uint64_t skip_ = 0;
  uint64_t offset_ = 0;
  bool seen_graph_ = false;
  bool seen_ir_version_ = false;
};

// Checks the leading bytes against the magic numbers of the allowed container formats.
class MagicCheck : public UploadCheck {
 public:
  MagicCheck(std::string name, bool allow_numpy, std::string what)
      : name_(std::move(name)), allow_numpy_(allow_numpy), what_(std::move(what)) {}

  Status Feed(std::string_view bytes) override {
    size_t take = std::min(bytes.size(), kHead - head_.size());
    head_.append(bytes.data(), take);
    total_ += bytes.size();
    return OkStatus();
  }

  Status Finish() override {
    if (total_ == 0) return InvalidArgument(name_ + " is empty");
    const bool tar = head_.size() >= 262 && head_.compare(257, 5, "ustar") == 0;
    const bool npy = head_.compare(0, 6, "\x93NUMPY") == 0;
    const bool zip = head_.compare(0, 4, "PK\x03\x04") == 0;
    if (tar || (allow_numpy_ && (npy || zip))) return OkStatus();
    return InvalidArgument(name_ + " is not " + what_);
  }

 private:
  static constexpr size_t kHead = 512;
  std::string name_;
  bool allow_numpy_;
  std::string what_;
  std::string head_;
  uint64_t total_ = 0;
};

}  // namespace

StatusOr<std::unique_ptr<UploadCheck>> NewModelCheck(v1::ModelFormat format,
                                                     const std::string& name) {
  switch (format) {
    case v1::ONNX: return std::unique_ptr<UploadCheck>(new OnnxFramingCheck(name));
    case v1::ONNX_BUNDLE:
      return std::unique_ptr<UploadCheck>(
          new MagicCheck(name, false, "a tar of a model directory (ONNX_BUNDLE)"));
    case v1::TFLITE:
      return Unimplemented("TFLite models are not supported yet; convert to ONNX first");
    default:
      return InvalidArgument("the upload header has no model format (ONNX or ONNX_BUNDLE)");
  }
}

std::unique_ptr<UploadCheck> NewDatasetCheck(const std::string& name) {
  return std::make_unique<MagicCheck>(name, true, "an .npy, .npz or a tar of .npz files");
}

}  // namespace shrink::server
