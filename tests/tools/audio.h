// Audio helpers for shrink-data: a strict RIFF/WAVE reader (PCM 16-bit mono only) and a
// windowed-sinc resampler. Inputs are untrusted files: malformed or unsupported WAVs give
// InvalidArgument naming the file and the problem, never a crash.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace shrink::data {

struct PcmAudio {
  int sample_rate = 0;
  std::vector<int16_t> samples;  // mono
};

// Parses a RIFF/WAVE file held in memory. Walks the chunk list (skipping LIST, fact, ... and
// honouring the pad byte of odd-sized chunks); accepts only format tag 1 (PCM), 1 channel, 16
// bits. `what` names the source in messages.
StatusOr<PcmAudio> ParseWav(std::string_view bytes, const std::string& what);
StatusOr<PcmAudio> ReadWav(const std::string& path);

// Serialises PCM 16-bit mono as a canonical 44-byte-header WAV (tests build fixtures with it).
std::string SerializeWav(const PcmAudio& audio);

// Resamples `input` (any scale) from `in_rate` to `out_rate` with a linear-phase, Kaiser-windowed
// sinc interpolator evaluated at each output instant t = n * in_rate / out_rate:
//   y[n] = sum_k x[k] * c * sinc(c * (t - k)) * kaiser((t - k) / half_width),
// c = min(1, out_rate / in_rate) (cutoff at the lower Nyquist), half_width = 32 input samples
// (scaled by 1/c when downsampling), beta = 8.6 (about 86 dB stopband), tabulated per output
// phase (polyphase, so any rational ratio of integer rates works). The kernel is symmetric
// (no phase distortion, no delay); samples beyond the ends count as zero. When upsampling by an
// integer factor the original samples are reproduced exactly (sinc is 0 at nonzero integers).
std::vector<float> Resample(const std::vector<float>& input, int in_rate, int out_rate);

}  // namespace shrink::data
