// Unit tests for the shrink-data helpers: WAV parsing, resampling, speech chunking, IDX/gzip
// reading and image rendering. Model-driven checks live in the data_tool_smoke ctest.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "engine/io/npy.h"
#include "tests/tools/audio.h"
#include "tests/tools/image_data.h"
#include "tests/tools/speech_data.h"

namespace shrink::data {
namespace {

constexpr double kPi = 3.14159265358979323846;
// Kaiser design with beta 8.6: A = beta / 0.1102 + 8.7 = 86.7 dB, ripple delta = 10^(-A/20)
// = 4.6e-5 of the amplitude in the passband and the stopband. Twice that covers the float
// rounding of the output (6e-8).
constexpr double kRipple = 2 * 4.6e-5;

PcmAudio Sine(int rate, double hz, int64_t n, double amplitude = 16000) {
  PcmAudio audio{rate, {}};
  for (int64_t i = 0; i < n; ++i) {
    audio.samples.push_back(int16_t(std::lround(amplitude * std::sin(2 * kPi * hz * i / rate))));
  }
  return audio;
}

TEST(Wav, RoundTrips) {
  PcmAudio audio = Sine(8000, 440, 100);
  auto parsed = ParseWav(SerializeWav(audio), "sine.wav");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->sample_rate, 8000);
  EXPECT_EQ(parsed->samples, audio.samples);
}

TEST(Wav, SkipsOtherChunksAndPadBytes) {
  std::string wav = SerializeWav(Sine(8000, 440, 10));
  // Insert an odd-sized LIST chunk (3 bytes + pad) between fmt and data.
  std::string list = std::string("LIST") + std::string("\x03\0\0\0", 4) + "abc" + '\0';
  wav.insert(36, list);
  auto parsed = ParseWav(wav, "list.wav");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->samples.size(), 10u);
}

TEST(Wav, RejectsWhatItCannotRead) {
  const std::string good = SerializeWav(Sine(8000, 440, 10));
  auto patched = [&](size_t at, std::string bytes) {
    std::string copy = good;
    copy.replace(at, bytes.size(), bytes);
    return copy;
  };
  const struct {
    const char* name;
    std::string bytes;
    const char* message;
  } kCases[] = {
      {"not riff", "RIFX" + good.substr(4), "not a RIFF/WAVE"},
      {"float", patched(20, std::string("\x03\0", 2)), "format tag 3"},
      {"stereo", patched(22, std::string("\x02\0", 2)), "2 channel"},
      {"8 bit", patched(34, std::string("\x08\0", 2)), "8 bits"},
      {"truncated", good.substr(0, good.size() - 4), "truncated"},
      {"no data", good.substr(0, 36), "no data chunk"},
      {"tiny", "RIFF", "not a RIFF/WAVE"},
  };
  for (const auto& c : kCases) {
    auto parsed = ParseWav(c.bytes, "x.wav");
    ASSERT_FALSE(parsed.ok()) << c.name;
    EXPECT_NE(parsed.status().message().find(c.message), std::string::npos)
        << c.name << ": " << parsed.status().message();
  }
}

std::vector<float> ToFloat(const PcmAudio& audio) {
  std::vector<float> out;
  for (int16_t s : audio.samples) out.push_back(float(s) / 32768.0f);
  return out;
}

TEST(Resample, UpsamplingByTwoKeepsTheOriginalSamples) {
  std::vector<float> in = ToFloat(Sine(8000, 1000, 800));
  std::vector<float> out = Resample(in, 8000, 16000);
  ASSERT_EQ(out.size(), 1600u);
  // sinc vanishes at nonzero integers: only the float rounding of the output (half an ulp of a
  // value below 1 is under 6e-8) and double-precision residues (~1e-16 per tap) remain.
  for (size_t i = 0; i < in.size(); ++i) EXPECT_NEAR(out[2 * i], in[i], 1e-7) << i;
}

TEST(Resample, TonesMatchTheAnalyticSignal) {
  const struct {
    int in_rate, out_rate;
    double hz;
  } kCases[] = {{8000, 16000, 1000}, {8000, 16000, 3000}, {16000, 8000, 1000}, {8000, 11025, 700}};
  for (const auto& c : kCases) {
    const double amplitude = 0.5;
    std::vector<float> in(4000);
    for (size_t i = 0; i < in.size(); ++i) {
      in[i] = float(amplitude * std::sin(2 * kPi * c.hz * double(i) / c.in_rate));
    }
    std::vector<float> out = Resample(in, c.in_rate, c.out_rate);
    // Away from the ends (the kernel spans 64 input samples each side when downsampling by 2).
    const size_t margin = size_t(70.0 * c.out_rate / c.in_rate) + 1;
    double worst = 0;
    for (size_t n = margin; n + margin < out.size(); ++n) {
      const double expected = amplitude * std::sin(2 * kPi * c.hz * double(n) / c.out_rate);
      worst = std::max(worst, std::abs(out[n] - expected));
    }
    EXPECT_LE(worst, kRipple * amplitude) << c.in_rate << "->" << c.out_rate << " " << c.hz;
  }
}

TEST(Resample, DownsamplingRemovesWhatTheNewRateCannotHold) {
  std::vector<float> in(4000);
  for (size_t i = 0; i < in.size(); ++i)
    in[i] = float(std::sin(2 * kPi * 6000 * double(i) / 16000));
  std::vector<float> out = Resample(in, 16000, 8000);  // 6 kHz is above the new 4 kHz Nyquist
  double worst = 0;
  for (size_t n = 40; n + 40 < out.size(); ++n) worst = std::max(worst, double(std::abs(out[n])));
  EXPECT_LE(worst, kRipple);
}

class SpeechDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = MakeTempDir("speech-data-test");
    ASSERT_TRUE(dir.ok());
    dir_ = *dir;
    // Sorted order: a.wav (250 samples), b/c.wav (120 samples).
    ASSERT_TRUE(WriteFile(JoinPath(dir_, "a.wav"), SerializeWav(Sine(8000, 500, 250))).ok());
    std::string sub = JoinPath(dir_, "b");
    ASSERT_EQ(::system(("mkdir -p '" + sub + "'").c_str()), 0);
    ASSERT_TRUE(WriteFile(JoinPath(sub, "c.wav"), SerializeWav(Sine(8000, 300, 120))).ok());
  }
  void TearDown() override { (void)RemoveAll(dir_); }

  SpeechOptions Options() const {
    SpeechOptions options;
    options.dir = dir_;
    options.rate = 8000;
    options.chunk = 100;
    options.context = 20;
    options.sr_name = "sr";
    options.out_dir = JoinPath(dir_, "out");
    return options;
  }
  std::string dir_;
};

TEST_F(SpeechDataTest, ChunksCarryTheirContextAndPadTheEnd) {
  SpeechReport report;
  ASSERT_TRUE(MakeSpeechData(Options(), &report).ok());
  EXPECT_EQ(report.files, 2);
  EXPECT_EQ(report.samples, 3 + 2);  // ceil(250 / 100) + ceil(120 / 100)
  auto first = engine::ReadNpz(JoinPath(Options().out_dir, "000000.npz"));
  auto second = engine::ReadNpz(JoinPath(Options().out_dir, "000001.npz"));
  auto last_of_a = engine::ReadNpz(JoinPath(Options().out_dir, "000002.npz"));
  ASSERT_TRUE(first.ok() && second.ok() && last_of_a.ok());
  ASSERT_EQ((*first)[0].tensor.shape(), (engine::Shape{1, 120}));
  ASSERT_EQ((*first)[1].name, "sr");
  EXPECT_EQ((*first)[1].tensor.data<int64_t>()[0], 8000);
  const float* a = (*first)[0].tensor.data<float>();
  const float* b = (*second)[0].tensor.data<float>();
  for (int i = 0; i < 20; ++i) EXPECT_EQ(a[i], 0.0f) << "file start has zero context";
  for (int i = 0; i < 20; ++i) EXPECT_EQ(b[i], a[100 + i]) << "context = end of previous chunk";
  const float* c = (*last_of_a)[0].tensor.data<float>();
  for (int i = 20 + 50; i < 120; ++i) EXPECT_EQ(c[i], 0.0f) << "samples 250.. are padding";
  auto index = ReadFile(JoinPath(Options().out_dir, "index.tsv"));
  ASSERT_TRUE(index.ok());
  EXPECT_NE(index->find("3\t2\t" + JoinPath(dir_, "b/c.wav")), std::string::npos) << *index;
}

TEST_F(SpeechDataTest, SkipAndFilesSelectDisjointRecordings) {
  SpeechOptions options = Options();
  options.skip = 1;
  options.files = 1;
  options.rate = 16000;  // 120 samples at 8 kHz -> 240 at 16 kHz -> 3 chunks
  SpeechReport report;
  ASSERT_TRUE(MakeSpeechData(options, &report).ok());
  EXPECT_EQ(report.files, 1);
  EXPECT_EQ(report.samples, 3);
  options.skip = 2;
  EXPECT_FALSE(MakeSpeechData(options, &report).ok());
  options.skip = 0;
  options.files = 0;
  options.every = 2;  // a.wav only: 250 samples -> 500 at 16 kHz -> 5 chunks
  ASSERT_TRUE(MakeSpeechData(options, &report).ok());
  EXPECT_EQ(report.files, 1);
  EXPECT_EQ(report.samples, 5);
}

std::string Gzip(const std::string& data) {
  z_stream stream{};
  deflateInit2(&stream, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&stream, uLong(data.size())) + 32, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = uInt(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = uInt(out.size());
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

// A 2-image IDX set: a vertical bar (image 0) and a filled square (image 1), 28x28.
std::string TinyIdx() {
  std::string idx("\0\0\x08\x03\0\0\0\x02\0\0\0\x1c\0\0\0\x1c", 16);
  for (int i = 0; i < 2; ++i) {
    for (int r = 0; r < 28; ++r) {
      for (int c = 0; c < 28; ++c) {
        const bool ink =
            i == 0 ? (c >= 12 && c < 16 && r > 3 && r < 24) : (r > 5 && r < 22 && c > 5 && c < 22);
        idx.push_back(char(ink ? 255 : 0));
      }
    }
  }
  return idx;
}

TEST(Idx, ReadsPlainAndGzippedFiles) {
  auto dir = MakeTempDir("idx-test");
  ASSERT_TRUE(dir.ok());
  for (bool gz : {false, true}) {
    const std::string path = JoinPath(*dir, gz ? "x.gz" : "x");
    ASSERT_TRUE(WriteFile(path, gz ? Gzip(TinyIdx()) : TinyIdx()).ok());
    auto images = ReadIdxImages(path);
    ASSERT_TRUE(images.ok()) << images.status().ToString();
    EXPECT_EQ(images->count, 2);
    EXPECT_EQ(images->image(1)[10 * 28 + 10], 255);
  }
  ASSERT_TRUE(WriteFile(JoinPath(*dir, "bad.gz"), Gzip(TinyIdx()).substr(0, 30)).ok());
  EXPECT_FALSE(ReadIdxImages(JoinPath(*dir, "bad.gz")).ok());
  (void)RemoveAll(*dir);
}

class ImageDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = MakeTempDir("image-data-test");
    ASSERT_TRUE(dir.ok());
    dir_ = *dir;
    ASSERT_EQ(::system(("mkdir -p '" + dir_ + "/mnist'").c_str()), 0);
    ASSERT_TRUE(WriteFile(dir_ + "/mnist/train-images-idx3-ubyte", TinyIdx()).ok());
  }
  void TearDown() override { (void)RemoveAll(dir_); }
  ImageOptions Options(ImageKind kind) const {
    ImageOptions options;
    options.data_dir = dir_;
    options.height = 64;
    options.width = 96;
    options.count = 3;
    options.kind = kind;
    return options;
  }
  std::string dir_;
};

TEST_F(ImageDataTest, DocumentsAreLightPaperWithSomeDarkInk) {
  auto images = RenderImages(Options(ImageKind::kDocument));
  ASSERT_TRUE(images.ok()) << images.status().ToString();
  ASSERT_EQ(images->size(), 3u);
  for (const auto& image : *images) {
    ASSERT_EQ(image.size(), size_t(64 * 96 * 3));
    int64_t dark = 0;
    for (size_t i = 0; i < image.size(); i += 3) dark += image[i] < 128;
    const double fraction = double(dark) / double(64 * 96);
    EXPECT_GT(fraction, 0.01);  // text present
    EXPECT_LT(fraction, 0.5);   // but mostly paper
  }
}

TEST_F(ImageDataTest, SameSeedSameImagesOtherSeedOthers) {
  for (ImageKind kind : {ImageKind::kDocument, ImageKind::kScene}) {
    ImageOptions options = Options(kind);
    auto a = RenderImages(options), b = RenderImages(options);
    options.seed = 2;
    auto c = RenderImages(options);
    ASSERT_TRUE(a.ok() && b.ok() && c.ok());
    EXPECT_EQ(*a, *b);
    EXPECT_NE(*a, *c);
  }
}

TEST_F(ImageDataTest, WritesTheRequestedLayoutAndRange) {
  const struct {
    bool nhwc;
    Normalize normalize;
    float lo, hi;
  } kCases[] = {
      {false, Normalize::kImageNet, (0 - 0.485f) / 0.229f, (1 - 0.406f) / 0.225f},
      {true, Normalize::kMinusOne, -1, 1},
      {true, Normalize::kUnit, 0, 1},
  };
  for (const auto& c : kCases) {
    ImageOptions options = Options(ImageKind::kScene);
    options.nhwc = c.nhwc;
    options.normalize = c.normalize;
    options.out = JoinPath(dir_, "out.npz");
    ASSERT_TRUE(MakeImageData(options).ok());
    auto arrays = engine::ReadNpz(options.out);
    ASSERT_TRUE(arrays.ok());
    const auto& t = (*arrays)[0].tensor;
    EXPECT_EQ(t.shape(), c.nhwc ? (engine::Shape{3, 64, 96, 3}) : (engine::Shape{3, 3, 64, 96}));
    for (int64_t i = 0; i < t.size(); ++i) {
      ASSERT_GE(t.data<float>()[i], c.lo - 1e-6f);
      ASSERT_LE(t.data<float>()[i], c.hi + 1e-6f);
    }
  }
}

}  // namespace
}  // namespace shrink::data
