// `shrink-data images`: synthetic but structured image batches for the dev-set vision models,
// built from the kit's MNIST / Fashion-MNIST tiles (no photos, documents or faces in the kit).
//   document  a light, slightly tinted paper background with rows of "words" of MNIST digits in
//             dark ink, at random sizes and positions: what a text detector (ppocrv4_det)
//             responds to
//   scene     a colour gradient with soft blobs and 1-4 tiles upscaled and colourised on top: a
//             stand-in for natural images (blazeface_front_128 sees objects, never a face)
// Deterministic for a given seed and split. Calibration and evaluation sets should use
// different splits (train / t10k) so no tile is shared.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace shrink::data {

struct IdxImages {
  int64_t count = 0, rows = 0, cols = 0;
  std::string pixels;  // count * rows * cols bytes, row-major
  const uint8_t* image(int64_t i) const {
    return reinterpret_cast<const uint8_t*>(pixels.data()) + i * rows * cols;
  }
};

// Reads an IDX image file (magic 0x803, uint8), plain or gzip-compressed (detected by the
// gzip magic, not the name).
StatusOr<IdxImages> ReadIdxImages(const std::string& path);
// Inflates a gzip stream; the output is capped at max_bytes (ResourceExhausted past it).
StatusOr<std::string> Gunzip(const std::string& bytes, const std::string& what,
                             uint64_t max_bytes = uint64_t(1) << 30);

enum class ImageKind { kDocument, kScene };
enum class Normalize {
  kImageNet,  // (p / 255 - mean) / std, mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225)
  kMinusOne,  // p / 127.5 - 1, in [-1, 1]
  kUnit,      // p / 255
};

struct ImageOptions {
  std::string data_dir;          // holds mnist/ and fashion-mnist/ (the kit's data/)
  std::string source = "mnist";  // mnist | fashion
  std::string split = "train";   // train | t10k
  bool nhwc = false;
  int64_t height = 0, width = 0;
  int channels = 3;
  int64_t count = 1;
  uint32_t seed = 1;
  ImageKind kind = ImageKind::kDocument;
  Normalize normalize = Normalize::kImageNet;
  std::string input_name = "x";
  std::string out;  // .npz
};

// Renders the images as 0..255 floats, HWC (channels interleaved), one vector per image.
StatusOr<std::vector<std::vector<float>>> RenderImages(const ImageOptions& options);
// Renders, normalises, lays out and writes `out`.
Status MakeImageData(const ImageOptions& options);

}  // namespace shrink::data
