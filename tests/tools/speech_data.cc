#include "tests/tools/speech_data.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <numeric>

#include "common/file_util.h"
#include "engine/io/npy.h"
#include "engine/io/onnx_import.h"
#include "engine/runtime/executor.h"
#include "tests/tools/audio.h"

namespace shrink::data {
namespace {

using engine::DataType;
using engine::NamedTensor;
using engine::Tensor;

// A float model with its executor (the executor borrows the model).
struct LoadedModel {
  std::unique_ptr<engine::Model> model;
  std::unique_ptr<engine::Executor> executor;

  StatusOr<Tensor> Output(const std::vector<Tensor>& outputs, const std::string& name) const {
    const auto& infos = executor->outputs();
    for (size_t i = 0; i < infos.size(); ++i) {
      if (infos[i].name == name) return outputs[i];
    }
    return NotFound("the model has no output '" + name + "'");
  }
};

StatusOr<LoadedModel> Load(const std::string& path) {
  LoadedModel loaded;
  ASSIGN_OR_RETURN(engine::Model model, engine::LoadModel(path));
  loaded.model = std::make_unique<engine::Model>(std::move(model));
  auto executor = engine::Executor::Create(*loaded.model);
  if (!executor.ok()) return executor.status().WithContext(path);
  loaded.executor = std::move(*executor);
  return loaded;
}

// Writes numbered samples and keeps the report's counters.
class SampleWriter {
 public:
  SampleWriter(const SpeechOptions& options, SpeechReport* report)
      : options_(options), report_(report) {
    report_->value_min = std::numeric_limits<float>::infinity();
    report_->value_max = -std::numeric_limits<float>::infinity();
  }
  bool full() const { return options_.max_samples > 0 && report_->samples >= options_.max_samples; }
  Status Write(std::vector<NamedTensor> arrays) {
    const Tensor& input = arrays[0].tensor;
    for (int64_t i = 0; i < input.size(); ++i) {
      report_->value_min = std::min(report_->value_min, input.data<float>()[i]);
      report_->value_max = std::max(report_->value_max, input.data<float>()[i]);
    }
    char name[32];
    std::snprintf(name, sizeof(name), "%06lld.npz", static_cast<long long>(report_->samples));
    RETURN_IF_ERROR(engine::WriteNpz(JoinPath(options_.out_dir, name), arrays,
                                     engine::NpzCompression::kStored));
    ++report_->samples;
    return OkStatus();
  }

 private:
  const SpeechOptions& options_;
  SpeechReport* report_;
};

// The WAV as float samples at the requested rate and scale.
StatusOr<std::vector<float>> LoadAudio(const std::string& path, const SpeechOptions& options) {
  ASSIGN_OR_RETURN(PcmAudio pcm, ReadWav(path));
  const int64_t g = std::gcd(pcm.sample_rate, options.rate);
  if (options.rate / g > 4096) {
    return InvalidArgument(path + ": cannot resample " + std::to_string(pcm.sample_rate) +
                           " Hz to " + std::to_string(options.rate) + " Hz (ratio too fine)");
  }
  const float scale = options.scale == SampleScale::kUnit ? 1.0f / 32768.0f : 1.0f;
  std::vector<float> audio(pcm.samples.size());
  for (size_t i = 0; i < audio.size(); ++i) audio[i] = float(pcm.samples[i]) * scale;
  return Resample(audio, pcm.sample_rate, options.rate);
}

// Chunk `index` with its context: [C + N] samples, zeros before the start and past the end.
Tensor ChunkWithContext(const std::vector<float>& audio, int64_t index, int chunk, int context) {
  Tensor window(DataType::kFloat32, {1, int64_t(context) + chunk});
  const int64_t first = index * chunk - context;
  for (int64_t i = 0; i < window.size(); ++i) {
    const int64_t at = first + i;
    window.data<float>()[i] = at >= 0 && at < int64_t(audio.size()) ? audio[size_t(at)] : 0.0f;
  }
  return window;
}

int64_t ChunkCount(const std::vector<float>& audio, int chunk) {
  return (int64_t(audio.size()) + chunk - 1) / chunk;
}

// Audio chunks, with the recorded model state when a stateful model is given.
Status AudioFile(const std::vector<float>& audio, const SpeechOptions& options,
                 LoadedModel* stateful, SampleWriter* writer, SpeechReport* report) {
  Tensor state;
  if (stateful) {
    for (const auto& input : stateful->executor->required_inputs()) {
      if (input.name != options.state_name) continue;
      engine::Shape shape;
      for (const auto& d : input.type.dims) shape.push_back(d.known() ? d.value : 1);  // batch 1
      state = Tensor(DataType::kFloat32, shape);
    }
    if (!state.defined()) return NotFound("the stateful model has no input " + options.state_name);
  }
  const Tensor sr = Tensor::Scalar<int64_t>(options.rate);
  for (int64_t c = 0; c < ChunkCount(audio, options.chunk) && !writer->full(); ++c) {
    std::vector<NamedTensor> arrays{
        {options.input_name, ChunkWithContext(audio, c, options.chunk, options.context)}};
    if (!options.sr_name.empty()) arrays.push_back({options.sr_name, sr});
    if (stateful) {
      arrays.push_back({options.state_name, state});
      ASSIGN_OR_RETURN(std::vector<Tensor> outputs, stateful->executor->Run(arrays));
      ASSIGN_OR_RETURN(state, stateful->Output(outputs, options.state_output));
      ASSIGN_OR_RETURN(Tensor score, stateful->Output(outputs, options.score_output));
      ++report->scores;
      report->scores_above += score.size() > 0 && score.data<float>()[0] > 0.5f;
    }
    RETURN_IF_ERROR(writer->Write(std::move(arrays)));
  }
  return OkStatus();
}

// Mel frames of one file, [T, bins], from the mel model run chunk by chunk (as openWakeWord
// streams it), transformed.
StatusOr<std::vector<std::vector<float>>> MelFrames(const std::vector<float>& audio,
                                                    const SpeechOptions& options,
                                                    LoadedModel* mel) {
  const std::string& input_name = mel->executor->required_inputs().at(0).name;
  std::vector<std::vector<float>> frames;
  for (int64_t c = 0; c < ChunkCount(audio, options.chunk); ++c) {
    Tensor window = ChunkWithContext(audio, c, options.chunk, options.context);
    ASSIGN_OR_RETURN(std::vector<Tensor> outputs, mel->executor->Run({{input_name, window}}));
    const Tensor& spec = outputs.at(0);  // [1, 1, frames, bins]
    if (spec.rank() != 4 || spec.dtype() != DataType::kFloat32) {
      return InvalidArgument("the mel model's output is not float32 [1, 1, frames, bins]");
    }
    const int64_t bins = spec.dim(3);
    for (int64_t f = 0; f < spec.dim(2); ++f) {
      const float* row = spec.data<float>() + f * bins;
      frames.emplace_back(row, row + bins);
      if (options.oww_transform) {
        for (float& v : frames.back()) v = v / 10.0f + 2.0f;
      }
    }
  }
  return frames;
}

Status MelFile(const std::vector<float>& audio, const SpeechOptions& options, LoadedModel* mel,
               SampleWriter* writer) {
  ASSIGN_OR_RETURN(auto frames, MelFrames(audio, options, mel));
  const int64_t count = int64_t(frames.size()), width = options.window_frames;
  for (int64_t start = 0; start + width <= count && !writer->full(); start += options.window_hop) {
    const int64_t bins = int64_t(frames[size_t(start)].size());
    Tensor window(DataType::kFloat32, {1, width, bins, 1});
    for (int64_t f = 0; f < width; ++f) {
      std::copy(frames[size_t(start + f)].begin(), frames[size_t(start + f)].end(),
                window.data<float>() + f * bins);
    }
    RETURN_IF_ERROR(writer->Write({{options.input_name, window}}));
  }
  return OkStatus();
}

Status CheckOptions(const SpeechOptions& options) {
  if (options.rate != 16000 && options.rate != 8000) {
    return InvalidArgument("--rate must be 16000 or 8000");
  }
  if (options.chunk <= 0 || options.context < 0 || options.files < 0 || options.skip < 0 ||
      options.every <= 0 || options.window_frames <= 0 || options.window_hop <= 0) {
    return InvalidArgument(
        "--chunk, --every, --window and --hop must be positive; --context, "
        "--files and --skip must not be negative");
  }
  if (options.out_dir.empty()) return InvalidArgument("--out OUTDIR is required");
  return OkStatus();
}

}  // namespace

StatusOr<std::vector<std::string>> ListWavFiles(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code error;
  std::vector<std::string> files;
  for (fs::recursive_directory_iterator it(dir, error), end; !error && it != end;
       it.increment(error)) {
    if (it->is_regular_file(error) && it->path().extension() == ".wav") {
      files.push_back(it->path().string());
    }
  }
  if (error) return NotFound("cannot list " + dir + ": " + error.message());
  if (files.empty()) return NotFound("no .wav files under " + dir);
  std::sort(files.begin(), files.end());
  return files;
}

Status MakeSpeechData(const SpeechOptions& options, SpeechReport* report) {
  RETURN_IF_ERROR(CheckOptions(options));
  ASSIGN_OR_RETURN(std::vector<std::string> files, ListWavFiles(options.dir));
  std::vector<std::string> chosen;
  for (size_t i = size_t(options.skip); i < files.size(); i += size_t(options.every)) {
    if (options.files > 0 && chosen.size() >= size_t(options.files)) break;
    chosen.push_back(files[i]);
  }
  if (chosen.empty()) return InvalidArgument("--skip leaves no WAV files in " + options.dir);
  LoadedModel stateful, mel;
  if (!options.state_model.empty()) {
    ASSIGN_OR_RETURN(stateful, Load(options.state_model));
  }
  if (!options.mel_model.empty()) {
    ASSIGN_OR_RETURN(mel, Load(options.mel_model));
  }
  RETURN_IF_ERROR(RemoveAll(options.out_dir));
  std::error_code error;
  std::filesystem::create_directories(options.out_dir, error);
  if (error) return InvalidArgument("cannot create " + options.out_dir + ": " + error.message());

  *report = SpeechReport();
  SampleWriter writer(options, report);
  std::string index = "# first_sample\tsamples\twav\n";
  for (const std::string& file : chosen) {
    if (writer.full()) break;
    ASSIGN_OR_RETURN(std::vector<float> audio, LoadAudio(file, options));
    const int64_t before = report->samples;
    Status status =
        options.mel_model.empty()
            ? AudioFile(audio, options, stateful.executor ? &stateful : nullptr, &writer, report)
            : MelFile(audio, options, &mel, &writer);
    if (!status.ok()) return status.WithContext(file);
    ++report->files;
    report->audio_seconds += double(audio.size()) / options.rate;
    index += std::to_string(before) + "\t" + std::to_string(report->samples - before) + "\t" +
             file + "\n";
  }
  return WriteFile(JoinPath(options.out_dir, "index.tsv"), index);
}

}  // namespace shrink::data
