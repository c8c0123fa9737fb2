#include "tests/tools/image_data.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "common/file_util.h"
#include "engine/io/npy.h"

namespace shrink::data {
namespace {

using engine::DataType;
using engine::Tensor;

uint32_t BigEndian32(const std::string& b, size_t at) {
  const auto* p = reinterpret_cast<const uint8_t*>(b.data() + at);
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}

struct Rgb {
  float r, g, b;
};

// An HWC float canvas in 0..255 with alpha blending of bilinearly scaled tiles.
class Canvas {
 public:
  Canvas(int64_t h, int64_t w) : h_(h), w_(w), rgb_(size_t(h * w * 3)) {}
  float* at(int64_t y, int64_t x) { return &rgb_[size_t((y * w_ + x) * 3)]; }
  int64_t h() const { return h_; }
  int64_t w() const { return w_; }
  std::vector<float> Take() { return std::move(rgb_); }

  // Blends tile columns [c0, c1) of a rows x cols uint8 tile into the box at (y, x) sized
  // th x tw, with alpha = tile / 255 * opacity.
  void Blend(const IdxImages& set, int64_t index, int64_t c0, int64_t c1, int64_t y, int64_t x,
             int64_t th, int64_t tw, Rgb color, float opacity) {
    const uint8_t* tile = set.image(index);
    for (int64_t py = std::max<int64_t>(0, y); py < std::min(h_, y + th); ++py) {
      const float sy = std::clamp((float(py - y) + 0.5f) * float(set.rows) / float(th) - 0.5f, 0.0f,
                                  float(set.rows - 1));
      for (int64_t px = std::max<int64_t>(0, x); px < std::min(w_, x + tw); ++px) {
        const float sx =
            std::clamp(float(c0) + (float(px - x) + 0.5f) * float(c1 - c0) / float(tw) - 0.5f,
                       float(c0), float(c1 - 1));
        const int64_t y0 = int64_t(sy), x0 = int64_t(sx);
        const int64_t y1 = std::min(y0 + 1, set.rows - 1), x1 = std::min(x0 + 1, c1 - 1);
        const float fy = sy - float(y0), fx = sx - float(x0);
        auto p = [&](int64_t r, int64_t c) { return float(tile[r * set.cols + c]); };
        const float v = (1 - fy) * ((1 - fx) * p(y0, x0) + fx * p(y0, x1)) +
                        fy * ((1 - fx) * p(y1, x0) + fx * p(y1, x1));
        const float a = v / 255.0f * opacity;
        float* dst = at(py, px);
        dst[0] = dst[0] * (1 - a) + color.r * a;
        dst[1] = dst[1] * (1 - a) + color.g * a;
        dst[2] = dst[2] * (1 - a) + color.b * a;
      }
    }
  }

 private:
  int64_t h_, w_;
  std::vector<float> rgb_;
};

float Uniform(std::mt19937& random, float lo, float hi) {
  return std::uniform_real_distribution<float>(lo, hi)(random);
}
int64_t UniformInt(std::mt19937& random, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(random);
}

// Columns holding ink (a digit's horizontal extent), so digits sit close like letters.
void InkColumns(const IdxImages& set, int64_t index, int64_t* c0, int64_t* c1) {
  const uint8_t* tile = set.image(index);
  *c0 = set.cols;
  *c1 = 0;
  for (int64_t c = 0; c < set.cols; ++c) {
    for (int64_t r = 0; r < set.rows; ++r) {
      if (tile[r * set.cols + c] > 64) {
        *c0 = std::min(*c0, c);
        *c1 = std::max(*c1, c + 1);
      }
    }
  }
  if (*c0 >= *c1) *c0 = 0, *c1 = set.cols;
}

// One line of text: words of 2-8 digits separated by spaces; ends early now and then.
void DrawTextLine(const IdxImages& set, std::mt19937& random, Canvas* canvas, int64_t y,
                  int64_t height, Rgb ink) {
  int64_t x = UniformInt(random, 4, std::max<int64_t>(5, canvas->w() / 10));
  const int64_t right = canvas->w() - UniformInt(random, 4, std::max<int64_t>(5, canvas->w() / 8));
  while (x + height < right) {
    const int64_t digits = UniformInt(random, 2, 8);
    for (int64_t d = 0; d < digits && x + height / 2 < right; ++d) {
      const int64_t index = UniformInt(random, 0, set.count - 1);
      int64_t c0, c1;
      InkColumns(set, index, &c0, &c1);
      const int64_t width = std::max<int64_t>(2, (c1 - c0) * height / set.rows);
      canvas->Blend(set, index, c0, c1, y, x, height, width, ink, Uniform(random, 0.85f, 1.0f));
      x += width + std::max<int64_t>(1, height / 10);
    }
    x += int64_t(float(height) * Uniform(random, 0.4f, 1.2f));
    if (Uniform(random, 0, 1) < 0.12f) break;
  }
}

void RenderDocument(const IdxImages& set, std::mt19937& random, Canvas* canvas) {
  const float paper = Uniform(random, 215, 250), slope = Uniform(random, -12, 12);
  const Rgb tint{Uniform(random, -8, 8), Uniform(random, -8, 8), Uniform(random, -8, 8)};
  std::normal_distribution<float> noise(0, 3);
  for (int64_t y = 0; y < canvas->h(); ++y) {
    for (int64_t x = 0; x < canvas->w(); ++x) {
      const float base = paper + slope * float(y) / float(canvas->h());
      float* p = canvas->at(y, x);
      p[0] = base + tint.r + noise(random);
      p[1] = base + tint.g + noise(random);
      p[2] = base + tint.b + noise(random);
    }
  }
  const float gray = Uniform(random, 10, 70);
  const Rgb ink{gray, gray, gray + Uniform(random, 0, 50)};  // black or blue-black ink
  const int64_t max_height = std::max<int64_t>(13, std::min<int64_t>(56, canvas->h() / 5));
  int64_t y = UniformInt(random, 2, std::max<int64_t>(3, canvas->h() / 12));
  int64_t height = UniformInt(random, 12, max_height);
  while (y + height <= canvas->h()) {
    if (Uniform(random, 0, 1) > 0.12f) DrawTextLine(set, random, canvas, y, height, ink);
    y += int64_t(float(height) * Uniform(random, 1.15f, 1.8f));
    if (Uniform(random, 0, 1) < 0.25f) height = UniformInt(random, 12, max_height);  // new block
  }
}

void RenderScene(const IdxImages& set, std::mt19937& random, Canvas* canvas) {
  auto color = [&] {
    return Rgb{Uniform(random, 0, 255), Uniform(random, 0, 255), Uniform(random, 0, 255)};
  };
  const Rgb a = color(), b = color();
  const float angle = Uniform(random, 0, 6.2832f), cx = std::cos(angle), cy = std::sin(angle);
  struct Blob {
    float y, x, radius;
    Rgb color;
  };
  std::vector<Blob> blobs(size_t(UniformInt(random, 3, 6)));
  for (auto& blob : blobs) {
    blob = {Uniform(random, 0, float(canvas->h())), Uniform(random, 0, float(canvas->w())),
            Uniform(random, 0.1f, 0.4f) * float(canvas->w()), color()};
  }
  std::normal_distribution<float> noise(0, 4);
  for (int64_t y = 0; y < canvas->h(); ++y) {
    for (int64_t x = 0; x < canvas->w(); ++x) {
      const float t = 0.5f + 0.5f * (cx * (float(x) / canvas->w() - 0.5f) +
                                     cy * (float(y) / canvas->h() - 0.5f));
      Rgb v{a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t};
      for (const auto& blob : blobs) {
        const float d2 = ((float(y) - blob.y) * (float(y) - blob.y) +
                          (float(x) - blob.x) * (float(x) - blob.x)) /
                         (blob.radius * blob.radius);
        const float w = 0.7f * std::exp(-d2);
        v = {v.r + (blob.color.r - v.r) * w, v.g + (blob.color.g - v.g) * w,
             v.b + (blob.color.b - v.b) * w};
      }
      float* p = canvas->at(y, x);
      p[0] = v.r + noise(random);
      p[1] = v.g + noise(random);
      p[2] = v.b + noise(random);
    }
  }
  const int64_t tiles = UniformInt(random, 1, 4), side = std::min(canvas->h(), canvas->w());
  for (int64_t i = 0; i < tiles; ++i) {
    const int64_t size = int64_t(Uniform(random, 0.2f, 0.7f) * float(side));
    canvas->Blend(set, UniformInt(random, 0, set.count - 1), 0, set.cols,
                  UniformInt(random, -size / 4, canvas->h() - size * 3 / 4),
                  UniformInt(random, -size / 4, canvas->w() - size * 3 / 4), size, size, color(),
                  Uniform(random, 0.8f, 1.0f));
  }
}

StatusOr<IdxImages> LoadSource(const ImageOptions& options) {
  const std::string dir =
      JoinPath(options.data_dir, options.source == "fashion" ? "fashion-mnist" : "mnist");
  if (options.source != "mnist" && options.source != "fashion") {
    return InvalidArgument("--source must be mnist or fashion, got " + options.source);
  }
  if (options.split != "train" && options.split != "t10k") {
    return InvalidArgument("--split must be train or t10k, got " + options.split);
  }
  const std::string base = JoinPath(dir, options.split + "-images-idx3-ubyte");
  if (FileExists(base)) return ReadIdxImages(base);
  if (FileExists(base + ".gz")) return ReadIdxImages(base + ".gz");
  return NotFound("no " + base + "[.gz] (set --data-dir to the kit's data/ folder)");
}

}  // namespace

StatusOr<std::string> Gunzip(const std::string& bytes, const std::string& what,
                             uint64_t max_bytes) {
  z_stream stream{};
  if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) return Internal("inflateInit2 failed");
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  stream.avail_in = uInt(bytes.size());
  std::string out;
  char buffer[1 << 16];
  int result = Z_OK;
  while (result == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof(buffer);
    result = inflate(&stream, Z_NO_FLUSH);
    out.append(buffer, sizeof(buffer) - stream.avail_out);
    if (out.size() > max_bytes) result = Z_MEM_ERROR;
  }
  inflateEnd(&stream);
  if (out.size() > max_bytes) return ResourceExhausted(what + " inflates past the size limit");
  if (result != Z_STREAM_END) return InvalidArgument(what + " is not a complete gzip stream");
  return out;
}

StatusOr<IdxImages> ReadIdxImages(const std::string& path) {
  ASSIGN_OR_RETURN(std::string file, ReadFile(path, uint64_t(1) << 30));
  std::string bytes;
  if (file.compare(0, 2, "\x1f\x8b") == 0) {  // gzip magic
    ASSIGN_OR_RETURN(bytes, Gunzip(file, path));
  } else {
    bytes = std::move(file);
  }
  if (bytes.size() < 16 || BigEndian32(bytes, 0) != 0x803) {
    return InvalidArgument(path + " is not an IDX uint8 image file (magic 0x803)");
  }
  IdxImages images;
  images.count = BigEndian32(bytes, 4);
  images.rows = BigEndian32(bytes, 8);
  images.cols = BigEndian32(bytes, 12);
  const uint64_t size = uint64_t(images.count) * uint64_t(images.rows) * uint64_t(images.cols);
  if (images.count == 0 || images.rows == 0 || images.cols == 0 || bytes.size() - 16 < size) {
    return InvalidArgument(path + " is empty or truncated");
  }
  images.pixels = bytes.substr(16, size);
  return images;
}

StatusOr<std::vector<std::vector<float>>> RenderImages(const ImageOptions& options) {
  if (options.height < 8 || options.width < 8 || options.count < 1) {
    return InvalidArgument("--size must be at least 8x8 and --count positive");
  }
  ASSIGN_OR_RETURN(IdxImages set, LoadSource(options));
  std::mt19937 random(options.seed);
  std::vector<std::vector<float>> images;
  for (int64_t i = 0; i < options.count; ++i) {
    Canvas canvas(options.height, options.width);
    if (options.kind == ImageKind::kDocument) {
      RenderDocument(set, random, &canvas);
    } else {
      RenderScene(set, random, &canvas);
    }
    images.push_back(canvas.Take());
    for (float& v : images.back()) v = std::clamp(std::round(v), 0.0f, 255.0f);  // 8-bit image
  }
  return images;
}

Status MakeImageData(const ImageOptions& options) {
  if (options.channels != 1 && options.channels != 3) {
    return InvalidArgument("--channels must be 1 or 3");
  }
  ASSIGN_OR_RETURN(auto images, RenderImages(options));
  const int64_t n = options.count, h = options.height, w = options.width, c = options.channels;
  const float kMean[3] = {0.485f, 0.456f, 0.406f}, kStd[3] = {0.229f, 0.224f, 0.225f};
  Tensor batch(DataType::kFloat32,
               options.nhwc ? engine::Shape{n, h, w, c} : engine::Shape{n, c, h, w});
  float* out = batch.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t y = 0; y < h; ++y) {
      for (int64_t x = 0; x < w; ++x) {
        const float* rgb = &images[size_t(i)][size_t((y * w + x) * 3)];
        for (int64_t k = 0; k < c; ++k) {
          const float p = c == 3 ? rgb[k] : (rgb[0] + rgb[1] + rgb[2]) / 3;
          const int64_t m = c == 3 ? k : 0;
          const float v = options.normalize == Normalize::kImageNet
                              ? (p / 255.0f - kMean[m]) / kStd[m]
                          : options.normalize == Normalize::kMinusOne ? p / 127.5f - 1.0f
                                                                      : p / 255.0f;
          out[options.nhwc ? ((i * h + y) * w + x) * c + k : ((i * c + k) * h + y) * w + x] = v;
        }
      }
    }
  }
  return engine::WriteNpz(options.out, {{options.input_name, batch}},
                          engine::NpzCompression::kStored);
}

}  // namespace shrink::data
