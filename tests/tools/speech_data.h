// `shrink-data speech`: calibration/evaluation samples for the dev-set audio models, cut from
// the kit's speech WAVs (PCM 16-bit mono 8 kHz, English IVR prompts with pauses between words).
//
// One .npz per sample, named 000000.npz, 000001.npz, ... in stream order, plus index.tsv (one
// line per WAV: first sample, sample count, path) so a consumer can reset state per recording.
// Three shapes of sample, all from the same chunking (chunk N samples, C samples of context
// taken from the previous chunk, zeros at the start of each file; the last partial chunk is
// zero-padded):
//   raw audio         `input` [1, C + N] float32   (silero_vad_v5: 512 + 64 at 16 kHz,
//                                                   oww_melspectrogram: 1280 + 480 at int16 scale)
//   + stateful model  the recorded state each chunk sees when the float model runs the file from
//                     a zero state (silero's `state` [2, 1, 128]), and `sr` int64 scalar. Each
//                     sample is thus self-contained (realistic LSTM state for calibration, runs
//                     alone in `shrink infer`); an evaluation that feeds the float state measures
//                     per-chunk error, one that feeds back its own stateN (reset at index.tsv
//                     boundaries) also measures drift.
//   mel windows       `input_1` [1, frames, 32, 1]: the mel model run per chunk, frames
//                     concatenated per file, transformed (openWakeWord: x / 10 + 2) and cut into
//                     windows of `window_frames` every `window_hop` frames (oww_embedding)
// Why these conventions, checked on the models:
// - silero_vad_v5 reflect-pads its input by 64 (16 kHz) / 32 (8 kHz) samples on the right only
//   and runs a 256/128-wide STFT conv with hop 128/64: 512 + 64 samples give 4 STFT frames, as
//   in silero's own wrapper, which prepends that context from the previous chunk.
// - oww_melspectrogram is a 512-sample, hop-160 STFT without padding followed by 10*log10 and an
//   80 dB floor below the maximum: 1280 + 480 samples give 8 frames (openWakeWord streams
//   exactly that). Fed int16-scale audio its output spans about -72..108 dB (1st-99th
//   percentile -3..98), x / 10 + 2 maps that to about 1.7..11.8 (median 7.8). Fed [-1, 1]
//   audio, the 1st percentile sits at the 1e-10 power clip (-100 dB) and the median at -32 dB:
//   the model was made for int16-scale input (openWakeWord passes raw PCM values).
// - The kit's audio is 8 kHz telephone speech: at 16 kHz it has no energy above 4 kHz, so the
//   upper mel bins and STFT bands see less than microphone audio would give them.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace shrink::data {

enum class SampleScale {
  kUnit,   // int16 / 32768, in [-1, 1) (silero)
  kInt16,  // the int16 values as floats (openWakeWord feeds raw 16-bit PCM to its mel model)
};

struct SpeechOptions {
  std::string dir;  // searched recursively for *.wav, sorted by relative path
  // WAV selection in sorted order: drop the first `skip`, then take every `every`-th, at most
  // `files` of them (0 = all). Disjoint sets: disjoint [skip, skip + files) ranges with
  // every = 1, or every = K with different skips below K (spreads both over all prompt kinds).
  int skip = 0;
  int every = 1;
  int files = 0;
  int64_t max_samples = 0;  // stop after this many .npz files (0 = no limit)
  int rate = 16000;
  int chunk = 512;
  int context = 0;
  SampleScale scale = SampleScale::kUnit;
  std::string input_name = "input";
  std::string sr_name;  // empty: no sample-rate array
  // Stateful model (optional): run per file, recording `state_name` before each chunk.
  std::string state_model;
  std::string state_name = "state";
  std::string state_output = "stateN";
  std::string score_output = "output";  // summarised in the report (fraction > 0.5)
  // Mel windows (optional): when set, samples are mel windows instead of audio chunks.
  std::string mel_model;
  int window_frames = 76;
  int window_hop = 8;
  bool oww_transform = true;  // x / 10 + 2 on the mel model's output
  std::string out_dir;
};

struct SpeechReport {
  int files = 0;
  int64_t samples = 0;  // .npz files written
  double audio_seconds = 0;
  int64_t scores = 0;                  // stateful model: chunks scored
  int64_t scores_above = 0;            //   of which score > 0.5
  float value_min = 0, value_max = 0;  // range of the written model input (mel: after transform)
};

Status MakeSpeechData(const SpeechOptions& options, SpeechReport* report);

// The *.wav files under `dir` (recursive), sorted by path.
StatusOr<std::vector<std::string>> ListWavFiles(const std::string& dir);

}  // namespace shrink::data
