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
//                     a zero state (silero's `state` [2, 1, 128]), and `sr` int64 scalar
//   mel windows       `input_1` [1, frames, 32, 1]: the mel model run per chunk, frames
//                     concatenated per file, transformed (openWakeWord: x / 10 + 2) and cut into
//                     windows of `window_frames` every `window_hop` frames (oww_embedding)
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
  std::string dir;       // searched recursively for *.wav, sorted by relative path
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
  std::string sr_name;   // empty: no sample-rate array
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
  int64_t samples = 0;        // .npz files written
  double audio_seconds = 0;
  int64_t scores = 0;         // stateful model: chunks scored
  int64_t scores_above = 0;   //   of which score > 0.5
  float value_min = 0, value_max = 0;  // range of the written model input (mel: after transform)
};

Status MakeSpeechData(const SpeechOptions& options, SpeechReport* report);

// The *.wav files under `dir` (recursive), sorted by path.
StatusOr<std::vector<std::string>> ListWavFiles(const std::string& dir);

}  // namespace shrink::data
