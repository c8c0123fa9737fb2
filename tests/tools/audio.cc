#include "tests/tools/audio.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "common/file_util.h"

namespace shrink::data {
namespace {

uint32_t Le32(std::string_view b, size_t at) {
  const auto* p = reinterpret_cast<const uint8_t*>(b.data() + at);
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint16_t Le16(std::string_view b, size_t at) {
  const auto* p = reinterpret_cast<const uint8_t*>(b.data() + at);
  return uint16_t(p[0] | p[1] << 8);
}

void PutLe(std::string* out, uint32_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(char((value >> (8 * i)) & 0xff));
}

// Modified Bessel function of the first kind, order 0 (power series; converges fast for the
// beta values used here).
double BesselI0(double x) {
  double sum = 1, term = 1;
  for (int k = 1; k < 50; ++k) {
    term *= (x / (2 * k)) * (x / (2 * k));
    sum += term;
    if (term < 1e-12 * sum) break;
  }
  return sum;
}

}  // namespace

StatusOr<PcmAudio> ParseWav(std::string_view bytes, const std::string& what) {
  if (bytes.size() < 12 || bytes.substr(0, 4) != "RIFF" || bytes.substr(8, 4) != "WAVE") {
    return InvalidArgument(what + " is not a RIFF/WAVE file");
  }
  bool have_format = false;
  PcmAudio audio;
  size_t at = 12;
  while (at + 8 <= bytes.size()) {
    std::string_view id = bytes.substr(at, 4);
    uint64_t size = Le32(bytes, at + 4);
    size_t body = at + 8;
    if (id == "fmt ") {
      if (size < 16 || body + 16 > bytes.size()) return InvalidArgument(what + ": short fmt chunk");
      uint16_t tag = Le16(bytes, body), channels = Le16(bytes, body + 2);
      uint16_t bits = Le16(bytes, body + 14);
      audio.sample_rate = int(Le32(bytes, body + 4));
      if (tag != 1 || channels != 1 || bits != 16) {
        return InvalidArgument(what + ": only PCM 16-bit mono WAV is supported, got format tag " +
                               std::to_string(tag) + ", " + std::to_string(channels) +
                               " channel(s), " + std::to_string(bits) + " bits");
      }
      if (audio.sample_rate <= 0 || audio.sample_rate > 1000000) {
        return InvalidArgument(what + ": bad sample rate " + std::to_string(audio.sample_rate));
      }
      have_format = true;
    } else if (id == "data") {
      if (!have_format) return InvalidArgument(what + ": data chunk before fmt chunk");
      if (body + size > bytes.size()) return InvalidArgument(what + ": data chunk is truncated");
      audio.samples.resize(size_t(size / 2));
      std::memcpy(audio.samples.data(), bytes.data() + body, audio.samples.size() * 2);
      for (auto& s : audio.samples) s = int16_t(Le16({reinterpret_cast<char*>(&s), 2}, 0));
      return audio;
    }
    at = body + size + (size & 1);  // chunks are word-aligned
  }
  return InvalidArgument(what + (have_format ? ": no data chunk" : ": no fmt chunk"));
}

StatusOr<PcmAudio> ReadWav(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(path, uint64_t(1) << 31));
  return ParseWav(bytes, path);
}

std::string SerializeWav(const PcmAudio& audio) {
  std::string out = "RIFF";
  uint32_t data_bytes = uint32_t(audio.samples.size() * 2);
  PutLe(&out, 36 + data_bytes, 4);
  out += "WAVEfmt ";
  PutLe(&out, 16, 4);
  PutLe(&out, 1, 2);  // PCM
  PutLe(&out, 1, 2);  // mono
  PutLe(&out, uint32_t(audio.sample_rate), 4);
  PutLe(&out, uint32_t(audio.sample_rate) * 2, 4);
  PutLe(&out, 2, 2);
  PutLe(&out, 16, 2);
  out += "data";
  PutLe(&out, data_bytes, 4);
  for (int16_t s : audio.samples) PutLe(&out, uint16_t(s), 2);
  return out;
}

std::vector<float> Resample(const std::vector<float>& input, int in_rate, int out_rate) {
  if (in_rate == out_rate) return input;
  constexpr double kBeta = 8.6, kHalfWidth = 32, kPi = 3.14159265358979323846;
  // Output n sits at input time n * m / l; only l distinct fractional offsets exist, so the
  // kernel is tabulated once per offset (a polyphase filter bank).
  const int64_t g = std::gcd(in_rate, out_rate), l = out_rate / g, m = in_rate / g;
  const double cutoff = std::min(1.0, double(out_rate) / in_rate);
  const int64_t half = int64_t(std::ceil(kHalfWidth / cutoff));  // in input samples
  const int64_t taps = 2 * half + 1;
  const double i0_beta = BesselI0(kBeta);
  std::vector<double> table(static_cast<size_t>(l * taps));
  for (int64_t phase = 0; phase < l; ++phase) {
    for (int64_t j = -half; j <= half; ++j) {
      const double d = double(phase) / double(l) - double(j), u = d / double(half);
      const double x = kPi * cutoff * d;
      const double sinc = std::abs(x) < 1e-12 ? 1.0 : std::sin(x) / x;
      const double window = std::abs(u) > 1 ? 0 : BesselI0(kBeta * std::sqrt(1 - u * u)) / i0_beta;
      table[size_t(phase * taps + j + half)] = cutoff * sinc * window;
    }
  }
  const int64_t n_in = int64_t(input.size()), n_out = n_in * l / m;
  std::vector<float> output(static_cast<size_t>(n_out));
  for (int64_t n = 0; n < n_out; ++n) {
    const int64_t base = n * m / l, phase = n * m % l;
    const double* kernel = &table[size_t(phase * taps)];
    double sum = 0;
    for (int64_t j = std::max(-half, -base); j <= half && base + j < n_in; ++j) {
      sum += double(input[size_t(base + j)]) * kernel[j + half];
    }
    output[size_t(n)] = float(sum);
  }
  return output;
}

}  // namespace shrink::data
