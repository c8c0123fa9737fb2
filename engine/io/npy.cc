#include "engine/io/npy.h"

#include <algorithm>
#include <cstring>
#include <set>
#include <utility>

#include "common/file_util.h"

namespace shrink::engine {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "npy I/O assumes a little-endian host");

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
constexpr uint64_t kMaxHeaderBytes = uint64_t(1) << 20;
constexpr int kMaxNesting = 16;
constexpr size_t kArrayAlign = 64;        // numpy pads the header so data starts 64-aligned
constexpr size_t kGrowthAxisDigits = 21;  // numpy leaves room to rewrite the first dimension
constexpr uint64_t kMaxWriteBytes = uint64_t(16) << 30;
// Each string element costs a std::string (32 bytes) however short it is in the file.
constexpr uint64_t kMaxStringElements = uint64_t(1) << 24;

Status Malformed(const std::string& what, const std::string& problem) {
  return InvalidArgument(what + ": " + problem);
}

// ---------------------------------------------------------------------------------------------
// The header is a Python dict literal. This parses the subset numpy writes (and older numpy
// and Python 2 wrote): dicts, tuples, lists, strings, ints (with an optional 'L' suffix),
// True/False/None. Nesting is bounded so hostile headers cannot exhaust the stack.

struct PyValue {
  enum class Kind { kNone, kBool, kInt, kString, kTuple, kList, kDict };
  Kind kind = Kind::kNone;
  bool boolean = false;
  int64_t integer = 0;
  std::string text;
  std::vector<PyValue> items;  // elements; for dicts alternating key, value
};

class PyLiteralParser {
 public:
  explicit PyLiteralParser(std::string_view text) : text_(text) {}

  bool ParseAll(PyValue* out) {
    if (!Parse(out, 0)) return false;
    SkipSpace();
    return pos_ == text_.size() || Fail("unexpected text after the literal");
  }
  const std::string& error() const { return error_; }

 private:
  bool Fail(const std::string& problem) {
    error_ = problem + " at offset " + std::to_string(pos_);
    return false;
  }
  void SkipSpace() {
    while (pos_ < text_.size() && std::strchr(" \t\n\r\f\v", text_[pos_]) && text_[pos_]) ++pos_;
  }
  bool Peek(char c) {
    SkipSpace();
    return pos_ < text_.size() && text_[pos_] == c;
  }
  bool Word(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  bool Parse(PyValue* out, int depth) {
    if (depth > kMaxNesting) return Fail("literal nested too deeply");
    SkipSpace();
    if (pos_ == text_.size()) return Fail("unexpected end of header");
    char c = text_[pos_];
    if (c == '{') return ParseItems('}', PyValue::Kind::kDict, out, depth);
    if (c == '[') return ParseItems(']', PyValue::Kind::kList, out, depth);
    if (c == '(') return ParseItems(')', PyValue::Kind::kTuple, out, depth);
    if (c == '\'' || c == '"') return ParseString(out);
    if ((c == 'u' || c == 'b') && pos_ + 1 < text_.size() &&
        (text_[pos_ + 1] == '\'' || text_[pos_ + 1] == '"')) {
      ++pos_;
      return ParseString(out);
    }
    if (c == '-' || (c >= '0' && c <= '9')) return ParseInt(out);
    if (Word("True") || Word("False")) {
      out->kind = PyValue::Kind::kBool;
      out->boolean = text_[pos_ - 4] == 'T';
      return true;
    }
    if (Word("None")) return true;
    return Fail(std::string("unexpected character '") + c + "'");
  }

  // Comma-separated items up to `close`, trailing comma allowed; "(x)" is just x.
  bool ParseItems(char close, PyValue::Kind kind, PyValue* out, int depth) {
    ++pos_;
    out->kind = kind;
    bool saw_comma = false;
    while (!Peek(close)) {
      out->items.emplace_back();
      if (!Parse(&out->items.back(), depth + 1)) return false;
      if (kind == PyValue::Kind::kDict) {
        if (out->items.back().kind != PyValue::Kind::kString) return Fail("dict key not a string");
        if (!Peek(':')) return Fail("expected ':' in dict");
        ++pos_;
        out->items.emplace_back();
        if (!Parse(&out->items.back(), depth + 1)) return false;
      }
      if (Peek(close)) break;
      if (!Peek(',')) return Fail(std::string("expected ',' or '") + close + "'");
      ++pos_;
      saw_comma = true;
    }
    ++pos_;
    if (kind == PyValue::Kind::kTuple && out->items.size() == 1 && !saw_comma) {
      PyValue inner = std::move(out->items[0]);
      *out = std::move(inner);
    }
    return true;
  }

  bool ParseString(PyValue* out) {
    const char quote = text_[pos_++];
    out->kind = PyValue::Kind::kString;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      char c = text_[pos_++];
      if (c == '\n') return Fail("newline in string");
      if (c == '\\' && pos_ < text_.size()) {
        char e = text_[pos_++];
        static constexpr char kFrom[] = "ntr0'\"\\", kTo[] = "\n\t\r\0'\"\\";
        const char* hit = std::strchr(kFrom, e);
        if (hit && e) {
          c = kTo[hit - kFrom];
        } else {
          out->text.push_back('\\');  // Python keeps unknown escapes verbatim
          c = e;
        }
      }
      out->text.push_back(c);
    }
    if (pos_ == text_.size()) return Fail("unterminated string");
    ++pos_;
    return true;
  }

  bool ParseInt(PyValue* out) {
    bool negative = Word("-");
    SkipSpace();
    if (pos_ == text_.size() || text_[pos_] < '0' || text_[pos_] > '9') {
      return Fail("expected digits");
    }
    uint64_t value = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      uint64_t digit = uint64_t(text_[pos_++] - '0');
      if (value > (uint64_t(INT64_MAX) - digit) / 10) return Fail("integer too large");
      value = value * 10 + digit;
    }
    if (pos_ < text_.size() && (text_[pos_] == 'L' || text_[pos_] == 'l')) ++pos_;  // Python 2
    out->kind = PyValue::Kind::kInt;
    out->integer = negative ? -int64_t(value) : int64_t(value);
    return true;
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::string error_;
};

// ---------------------------------------------------------------------------------------------
// Header and dtype

struct NpyDtype {
  DataType dtype = DataType::kUndefined;
  char kind = 0;          // numpy kind letter: f i u b c U S
  uint64_t itemsize = 0;  // bytes per element in the file
  uint64_t unit = 1;      // bytes per byte-swapped unit (a complex half, a UTF-32 char)
  bool swap = false;      // big-endian data
};

struct NpyHeader {
  std::string descr;
  NpyDtype type;
  bool fortran_order = false;
  Shape shape;
  uint64_t data_offset = 0;
};

StatusOr<NpyDtype> ParseDescr(const std::string& descr, const std::string& what) {
  NpyDtype t;
  size_t pos = 0;
  char order = '=';
  if (!descr.empty() && std::strchr("<>=|", descr[0])) order = descr[pos++];
  t.kind = pos < descr.size() ? descr[pos++] : 0;
  std::string digits = descr.substr(std::min(pos, descr.size()));
  bool numeric_size =
      !digits.empty() && digits.size() <= 9 &&
      std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (t.kind == 'O') {
    return Unimplemented(what + ": object arrays (descr '" + descr +
                         "') hold pickled Python objects; pickled arrays are not supported");
  }
  if (t.kind == 'V') {
    return Unimplemented(what + ": void/structured dtype '" + descr +
                         "' is not supported (bfloat16 arrays saved via ml_dtypes look like "
                         "this; save them as float32)");
  }
  if (!numeric_size) return Unimplemented(what + ": unsupported dtype descr '" + descr + "'");
  t.itemsize = std::stoull(digits);
  auto is = [&](char kind, uint64_t size) { return t.kind == kind && t.itemsize == size; };
  static const struct {
    char kind;
    uint64_t size;
    DataType dtype;
  } kTable[] = {
      {'f', 2, DataType::kFloat16},   {'f', 4, DataType::kFloat32},
      {'f', 8, DataType::kFloat64},   {'i', 1, DataType::kInt8},
      {'i', 2, DataType::kInt16},     {'i', 4, DataType::kInt32},
      {'i', 8, DataType::kInt64},     {'u', 1, DataType::kUint8},
      {'u', 2, DataType::kUint16},    {'u', 4, DataType::kUint32},
      {'u', 8, DataType::kUint64},    {'b', 1, DataType::kBool},
      {'c', 8, DataType::kComplex64}, {'c', 16, DataType::kComplex128},
  };
  for (const auto& row : kTable) {
    if (is(row.kind, row.size)) {
      t.dtype = row.dtype;
      t.unit = row.kind == 'c' ? row.size / 2 : row.size;
    }
  }
  if (t.kind == 'U' || t.kind == 'S' || t.kind == 'a') {
    t.dtype = DataType::kString;
    t.unit = t.kind == 'U' ? 4 : 1;
    t.itemsize *= t.unit;
  }
  if (t.dtype == DataType::kUndefined) {
    return Unimplemented(what + ": unsupported dtype descr '" + descr + "'");
  }
  t.swap = order == '>' && t.unit > 1;
  return t;
}

Status CheckKeys(const PyValue& dict, const std::string& what) {
  std::set<std::string> keys;
  for (size_t i = 0; i < dict.items.size(); i += 2) {
    if (!keys.insert(dict.items[i].text).second) {
      return Malformed(what, "duplicate header key '" + dict.items[i].text + "'");
    }
  }
  if (keys != std::set<std::string>{"descr", "fortran_order", "shape"}) {
    std::string found;
    for (const auto& key : keys) found += (found.empty() ? "'" : ", '") + key + "'";
    return Malformed(what, "header keys must be 'descr', 'fortran_order', 'shape'; found " +
                               (found.empty() ? "none" : found));
  }
  return OkStatus();
}

Status InterpretHeader(const PyValue& dict, const std::string& what, NpyHeader* header) {
  RETURN_IF_ERROR(CheckKeys(dict, what));
  for (size_t i = 0; i < dict.items.size(); i += 2) {
    const std::string& key = dict.items[i].text;
    const PyValue& value = dict.items[i + 1];
    if (key == "descr") {
      if (value.kind == PyValue::Kind::kList) {
        return Unimplemented(what + ": structured dtypes (descr is a list) are not supported");
      }
      if (value.kind != PyValue::Kind::kString) return Malformed(what, "descr is not a string");
      header->descr = value.text;
    } else if (key == "fortran_order") {
      if (value.kind != PyValue::Kind::kBool) return Malformed(what, "fortran_order is not a bool");
      header->fortran_order = value.boolean;
    } else {
      bool valid = value.kind == PyValue::Kind::kTuple;
      for (const PyValue& dim : value.items) {
        valid = valid && dim.kind == PyValue::Kind::kInt && dim.integer >= 0;
        header->shape.push_back(dim.integer);
      }
      if (!valid) return Malformed(what, "shape is not a tuple of non-negative integers");
    }
  }
  ASSIGN_OR_RETURN(header->type, ParseDescr(header->descr, what));
  return OkStatus();
}

StatusOr<NpyHeader> ParseHeader(std::string_view bytes, const std::string& what) {
  if (bytes.size() < kMagicSize || bytes.substr(0, kMagicSize) != kMagic) {
    return Malformed(what, "not an npy file (bad magic)");
  }
  if (bytes.size() < kMagicSize + 4) return Malformed(what, "truncated npy header");
  const int major = uint8_t(bytes[6]), minor = uint8_t(bytes[7]);
  if ((major != 1 && major != 2 && major != 3) || minor != 0) {
    return Malformed(what, "unsupported npy format version " + std::to_string(major) + "." +
                               std::to_string(minor) + " (expected 1.0, 2.0 or 3.0)");
  }
  uint64_t length_size = major == 1 ? 2 : 4;
  if (bytes.size() < kMagicSize + 2 + length_size) return Malformed(what, "truncated npy header");
  uint64_t length = 0;
  for (uint64_t i = 0; i < length_size; ++i) {
    length |= uint64_t(uint8_t(bytes[kMagicSize + 2 + i])) << (8 * i);
  }
  NpyHeader header;
  header.data_offset = kMagicSize + 2 + length_size + length;
  if (header.data_offset > bytes.size()) {
    return Malformed(what, "header of " + std::to_string(length) +
                               " bytes runs past the end of the file (truncated?)");
  }
  if (length > kMaxHeaderBytes) {
    return Malformed(what, "header of " + std::to_string(length) + " bytes is too large");
  }
  PyValue dict;
  PyLiteralParser parser(bytes.substr(kMagicSize + 2 + length_size, length));
  if (!parser.ParseAll(&dict)) {
    return Malformed(what, "cannot parse the header dict: " + parser.error());
  }
  if (dict.kind != PyValue::Kind::kDict) return Malformed(what, "header is not a dict");
  RETURN_IF_ERROR(InterpretHeader(dict, what, &header));
  return header;
}

// ---------------------------------------------------------------------------------------------
// Payload

// Calls fn(c_index, file_index) for every element, visiting C order: file_index is where that
// element sits in the file, which differs from c_index for fortran_order data.
template <typename Fn>
void ForEachElement(const Shape& shape, int64_t count, bool fortran, Fn fn) {
  if (!fortran || shape.size() < 2) {
    for (int64_t i = 0; i < count; ++i) fn(i, i);
    return;
  }
  const size_t rank = shape.size();
  std::vector<int64_t> stride(rank, 1), index(rank, 0);
  for (size_t k = 1; k < rank; ++k) stride[k] = stride[k - 1] * shape[k - 1];
  int64_t source = 0;
  for (int64_t i = 0; i < count; ++i) {
    fn(i, source);
    for (size_t k = rank; k-- > 0;) {
      source += stride[k];
      if (++index[k] < shape[k]) break;
      source -= stride[k] * shape[k];
      index[k] = 0;
    }
  }
}

template <size_t N>
void CopyElements(const char* src, char* dst, const NpyHeader& h, int64_t count) {
  ForEachElement(h.shape, count, h.fortran_order,
                 [&](int64_t to, int64_t from) { std::memcpy(dst + to * N, src + from * N, N); });
}

void SwapUnits(char* data, uint64_t bytes, uint64_t unit) {
  for (uint64_t at = 0; at + unit <= bytes; at += unit) std::reverse(data + at, data + at + unit);
}

Status DecodeNumeric(std::string_view payload, const NpyHeader& h, Tensor* tensor) {
  char* dst = static_cast<char*>(tensor->raw_data());
  const int64_t count = tensor->size();
  if (count == 0) return OkStatus();
  switch (h.type.itemsize) {
    case 1:
      CopyElements<1>(payload.data(), dst, h, count);
      break;
    case 2:
      CopyElements<2>(payload.data(), dst, h, count);
      break;
    case 4:
      CopyElements<4>(payload.data(), dst, h, count);
      break;
    case 8:
      CopyElements<8>(payload.data(), dst, h, count);
      break;
    case 16:
      CopyElements<16>(payload.data(), dst, h, count);
      break;
    default:
      return Internal("unexpected npy item size");
  }
  if (h.type.swap) SwapUnits(dst, tensor->nbytes(), h.type.unit);
  if (h.type.dtype == DataType::kBool) {  // any nonzero byte is True; C++ bool must be 0 or 1
    for (int64_t i = 0; i < count; ++i) dst[i] = dst[i] != 0;
  }
  return OkStatus();
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(char(cp));
  } else if (cp < 0x800) {
    out->push_back(char(0xC0 | (cp >> 6)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(char(0xE0 | (cp >> 12)));
    out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(char(0xF0 | (cp >> 18)));
    out->push_back(char(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  }
}

// One fixed-width element: UTF-32 text or raw bytes, trailing NULs stripped as numpy does.
std::string DecodeString(const char* item, const NpyDtype& t, std::string* problem) {
  std::string out;
  const uint64_t units = t.itemsize / t.unit;
  uint64_t used = units;
  auto unit_at = [&](uint64_t i) -> uint32_t {
    if (t.unit == 1) return uint8_t(item[i]);
    uint8_t b[4];
    std::memcpy(b, item + 4 * i, 4);
    if (t.swap) std::reverse(b, b + 4);
    return uint32_t(b[0]) | uint32_t(b[1]) << 8 | uint32_t(b[2]) << 16 | uint32_t(b[3]) << 24;
  };
  while (used > 0 && unit_at(used - 1) == 0) --used;
  if (t.unit == 1) return std::string(item, used);
  for (uint64_t i = 0; i < used; ++i) {
    uint32_t cp = unit_at(i);
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      *problem = "invalid code point " + std::to_string(cp);
      return "";
    }
    AppendUtf8(cp, &out);
  }
  return out;
}

Status DecodeStrings(std::string_view payload, const NpyHeader& h, Tensor* tensor) {
  std::vector<std::string>& strings = tensor->strings();
  std::string problem;
  ForEachElement(h.shape, tensor->size(), h.fortran_order, [&](int64_t to, int64_t from) {
    if (problem.empty()) {
      strings[size_t(to)] = DecodeString(payload.data() + from * h.type.itemsize, h.type, &problem);
      if (!problem.empty()) problem += " in element " + std::to_string(from);
    }
  });
  return problem.empty() ? OkStatus() : InvalidArgument(problem);
}

// ---------------------------------------------------------------------------------------------
// Writing

// Strict UTF-8 decoding (no overlongs, surrogates or values past U+10FFFF).
bool DecodeUtf8(std::string_view s, std::vector<uint32_t>* out) {
  out->clear();
  for (size_t i = 0; i < s.size();) {
    uint8_t lead = uint8_t(s[i]);
    int extra = lead < 0x80 ? 0 : lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : -1;
    if (extra < 0 || lead > 0xF4 || s.size() - i <= size_t(extra)) return false;
    uint32_t cp = extra == 0 ? lead : lead & (0x3F >> extra);
    for (int k = 1; k <= extra; ++k) {
      uint8_t next = uint8_t(s[i + size_t(k)]);
      if ((next & 0xC0) != 0x80) return false;
      cp = cp << 6 | (next & 0x3F);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    out->push_back(cp);
    i += size_t(extra) + 1;
  }
  return true;
}

// The descr numpy.save writes for each dtype (strings are handled separately).
StatusOr<std::string> NumpyDescr(DataType dtype) {
  switch (dtype) {
    case DataType::kFloat16:
      return std::string("<f2");
    case DataType::kFloat32:
      return std::string("<f4");
    case DataType::kFloat64:
      return std::string("<f8");
    case DataType::kInt8:
      return std::string("|i1");
    case DataType::kUint8:
      return std::string("|u1");
    case DataType::kInt16:
      return std::string("<i2");
    case DataType::kUint16:
      return std::string("<u2");
    case DataType::kInt32:
      return std::string("<i4");
    case DataType::kUint32:
      return std::string("<u4");
    case DataType::kInt64:
      return std::string("<i8");
    case DataType::kUint64:
      return std::string("<u8");
    case DataType::kBool:
      return std::string("|b1");
    case DataType::kComplex64:
      return std::string("<c8");
    case DataType::kComplex128:
      return std::string("<c16");
    case DataType::kBFloat16:
      return Unimplemented("bfloat16 has no numpy dtype code; convert the tensor to float32");
    default:
      return InvalidArgument(std::string("cannot write ") + DataTypeName(dtype) +
                             " tensors to npy");
  }
}

std::string HeaderText(const std::string& descr, const Shape& shape) {
  std::string text = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i) {
    text += (i ? ", " : "") + std::to_string(shape[i]);
  }
  text += shape.size() == 1 ? ",), }" : "), }";
  if (!shape.empty()) {
    size_t digits = std::to_string(shape[0]).size();
    text.append(digits < kGrowthAxisDigits ? kGrowthAxisDigits - digits : 0, ' ');
  }
  return text;
}

// Magic, version, length and padded header, exactly as numpy's _wrap_header lays them out.
std::string WrapHeader(const std::string& text) {
  const size_t with_newline = text.size() + 1;
  int major = 1;
  size_t prefix = kMagicSize + 2 + 2;
  size_t padding = kArrayAlign - (prefix + with_newline) % kArrayAlign;
  if (with_newline + padding > 0xFFFF) {
    major = 2;
    prefix = kMagicSize + 2 + 4;
    padding = kArrayAlign - (prefix + with_newline) % kArrayAlign;
  }
  const uint64_t length = with_newline + padding;
  std::string out(kMagic, kMagicSize);
  out.push_back(char(major));
  out.push_back(0);
  for (size_t i = 0; i < prefix - kMagicSize - 2; ++i) {
    out.push_back(char((length >> (8 * i)) & 0xFF));
  }
  out += text;
  out.append(padding, ' ');
  out.push_back('\n');
  return out;
}

Status AppendStrings(const Tensor& tensor, std::string* header_descr, std::string* out) {
  std::vector<std::vector<uint32_t>> text(tensor.strings().size());
  uint64_t width = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    if (!DecodeUtf8(tensor.strings()[i], &text[i])) {
      return InvalidArgument("string element " + std::to_string(i) +
                             " is not valid UTF-8 (npy '<U' arrays hold text)");
    }
    width = std::max<uint64_t>(width, text[i].size());
  }
  if (!text.empty() && width > kMaxWriteBytes / 4 / text.size()) {
    return ResourceExhausted("fixed-width npy string payload (" + std::to_string(text.size()) +
                             " x " + std::to_string(width) + " chars) exceeds 16 GiB");
  }
  *header_descr = "<U" + std::to_string(width);
  size_t start = out->size();
  out->resize(start + text.size() * width * 4, '\0');
  for (size_t i = 0; i < text.size(); ++i) {
    for (size_t k = 0; k < text[i].size(); ++k) {
      std::memcpy(out->data() + start + (i * width + k) * 4, &text[i][k], 4);
    }
  }
  return OkStatus();
}

// The npy header of `tensor` and its payload, which views the tensor's buffer or *storage.
Status NpyParts(const Tensor& tensor, std::string* header, std::string* storage,
                std::string_view* payload) {
  if (!tensor.defined()) return InvalidArgument("cannot write an undefined tensor to npy");
  std::string descr;
  if (tensor.dtype() == DataType::kString) {
    RETURN_IF_ERROR(AppendStrings(tensor, &descr, storage));
    *payload = *storage;
  } else {
    ASSIGN_OR_RETURN(descr, NumpyDescr(tensor.dtype()));
    *payload = std::string_view(static_cast<const char*>(tensor.raw_data()), tensor.nbytes());
  }
  *header = WrapHeader(HeaderText(descr, tensor.shape()));
  return OkStatus();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public API

StatusOr<Tensor> ParseNpy(std::string_view bytes, const std::string& what) {
  ASSIGN_OR_RETURN(NpyHeader h, ParseHeader(bytes, what));
  auto count_or = ElementCount(h.shape);
  if (!count_or.ok()) return Malformed(what, count_or.status().message());
  const uint64_t count = uint64_t(*count_or);
  const std::string_view payload = bytes.substr(h.data_offset);
  const std::string layout = "shape " + ShapeToString(h.shape) + " of '" + h.descr + "'";
  if (h.type.itemsize == 0 && count > 0) {
    return Malformed(what, "zero-width dtype '" + h.descr + "' with elements is not supported");
  }
  if (h.type.itemsize > 0 && count > payload.size() / h.type.itemsize) {
    return Malformed(
        what, "payload of " + std::to_string(payload.size()) + " bytes is too small for " + layout);
  }
  if (count * h.type.itemsize != payload.size()) {
    return Malformed(what, "payload is " + std::to_string(payload.size()) + " bytes but " + layout +
                               " needs " + std::to_string(count * h.type.itemsize));
  }
  if (h.type.dtype == DataType::kString && count > kMaxStringElements) {
    return ResourceExhausted(what + ": string array of " + std::to_string(count) +
                             " elements exceeds the limit of " +
                             std::to_string(kMaxStringElements));
  }
  auto tensor_or = Tensor::Allocate(h.type.dtype, h.shape);
  if (!tensor_or.ok()) return tensor_or.status().WithContext(what);
  Tensor tensor = std::move(tensor_or).value();
  Status status = h.type.dtype == DataType::kString ? DecodeStrings(payload, h, &tensor)
                                                    : DecodeNumeric(payload, h, &tensor);
  if (!status.ok()) return status.WithContext(what);
  return tensor;
}

StatusOr<std::string> SerializeNpy(const Tensor& tensor) {
  std::string header, storage;
  std::string_view payload;
  RETURN_IF_ERROR(NpyParts(tensor, &header, &storage, &payload));
  return header.append(payload);
}

StatusOr<Tensor> ReadNpy(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return ParseNpy(bytes, path);
}

Status WriteNpy(const std::string& path, const Tensor& tensor) {
  auto bytes = SerializeNpy(tensor);
  if (!bytes.ok()) return bytes.status().WithContext(path);
  return WriteFile(path, *bytes);
}

StatusOr<std::vector<NamedTensor>> ParseNpz(std::string_view bytes, const std::string& what,
                                            ZipReaderOptions options) {
  ASSIGN_OR_RETURN(ZipReader reader, ZipReader::Open(bytes, what, options));
  std::vector<NamedTensor> arrays;
  std::set<std::string> names;
  std::string scratch;
  for (size_t i = 0; i < reader.entries().size(); ++i) {
    const std::string& member = reader.entries()[i].name;
    std::string name = member;
    if (name.size() >= 4 && name.compare(name.size() - 4, 4, ".npy") == 0) {
      name.resize(name.size() - 4);
    }
    if (!names.insert(name).second) {
      return Malformed(what + ":" + member, "duplicate array name '" + name + "'");
    }
    ASSIGN_OR_RETURN(std::string_view data, reader.Read(i, &scratch));
    ASSIGN_OR_RETURN(Tensor tensor, ParseNpy(data, what + ":" + member));
    arrays.push_back({std::move(name), std::move(tensor)});
  }
  return arrays;
}

StatusOr<std::vector<NamedTensor>> ReadNpz(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return ParseNpz(bytes, path);
}

StatusOr<std::string> SerializeNpz(const std::vector<NamedTensor>& arrays,
                                   NpzCompression compression, ZipWriterOptions options) {
  ZipWriter writer(options);
  const ZipMethod method =
      compression == NpzCompression::kDeflate ? ZipMethod::kDeflate : ZipMethod::kStored;
  for (const NamedTensor& array : arrays) {
    const std::string context = "npz array '" + array.name + "'";
    std::string header, storage;
    std::string_view payload;
    Status status = NpyParts(array.tensor, &header, &storage, &payload);
    if (!status.ok()) return status.WithContext(context);
    Status added = writer.Add(array.name + ".npy", {header, payload}, method);
    if (!added.ok()) return added.WithContext(context);
  }
  return writer.Finish();
}

Status WriteNpz(const std::string& path, const std::vector<NamedTensor>& arrays,
                NpzCompression compression) {
  auto bytes = SerializeNpz(arrays, compression);
  if (!bytes.ok()) return bytes.status().WithContext(path);
  return WriteFile(path, *bytes);
}

}  // namespace shrink::engine
