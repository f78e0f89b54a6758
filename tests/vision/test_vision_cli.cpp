// `pocket encode-image` (apps/cli/cmd_encode_image.cpp, compiled into this test) on golden
// inputs: the written file matches llama.cpp's embeddings ([IMG] rows only for pixtral) within the
// golden/vision README tolerance, and bad inputs surface as pocket::Error.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/error.h"
#include "kernels/dispatch.h"

void register_encode_image(CLI::App& app);

namespace {

namespace fs = std::filesystem;
const fs::path kGolden = fs::path(POCKET_SHARED_DIR) / "golden" / "vision";
const fs::path kModels = fs::path(POCKET_SHARED_DIR) / "models";

std::vector<float> read_f32(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<float> v(fs::file_size(p) / sizeof(float));
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float)));
  return v;
}

double nmse(const std::vector<float>& a, const std::vector<float>& ref) {
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    num += (a[i] - static_cast<double>(ref[i])) * (a[i] - static_cast<double>(ref[i]));
    den += static_cast<double>(ref[i]) * ref[i];
  }
  return num / den;
}

class EncodeImageCli : public ::testing::Test {
 protected:
  void TearDown() override {
    pocket::kernels::set_isa(pocket::kernels::startup_isa());
    fs::remove(out_);
  }
  void run(std::vector<std::string> args) {
    CLI::App app;
    register_encode_image(app);
    args.insert(args.begin(), {"pocket", "encode-image"});
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    app.parse(static_cast<int>(argv.size()), argv.data());
  }
  const std::string out_ = (fs::temp_directory_path() / ("pocket_encode_image_" + std::to_string(::getpid()) + ".f32")).string();
};

TEST_F(EncodeImageCli, Idefics3MatchesGolden) {
  run({"--mmproj", (kModels / "tiny-idefics3-mmproj.gguf").string(), "--pixels",
       (kGolden / "idefics3-tile64-a.pixels.f32").string(), "--width", "64", "--height", "64", "-o", out_, "-t", "2"});
  const auto want = read_f32(kGolden / "idefics3-tile64-a.embd.f32");
  const auto got = read_f32(out_);
  ASSERT_EQ(got.size(), want.size());
  EXPECT_LE(nmse(got, want), 1e-3);
}

TEST_F(EncodeImageCli, PixtralWritesImgRowsOnly) {
  run({"--mmproj", (kModels / "tiny-pixtral-mmproj.gguf").string(), "--pixels",
       (kGolden / "pixtral-112x56.pixels.f32").string(), "--width", "112", "--height", "56", "-o", out_,
       "--ref-kernels", "-t", "1"});
  const auto golden = read_f32(kGolden / "pixtral-112x56.embd.f32");  // 2 rows of 4 [IMG] + 1 break row
  const size_t d = 256, cols = 4;
  std::vector<float> want(golden.begin(), golden.begin() + cols * d);
  want.insert(want.end(), golden.begin() + (cols + 1) * d, golden.begin() + (2 * cols + 1) * d);
  const auto got = read_f32(out_);
  ASSERT_EQ(got.size(), want.size());
  EXPECT_LE(nmse(got, want), 1e-3);
}

TEST_F(EncodeImageCli, BadInputsAreErrors) {
  const std::string idefics = (kModels / "tiny-idefics3-mmproj.gguf").string();
  const std::string px64 = (kGolden / "idefics3-tile64-a.pixels.f32").string();
  // Pixel file size does not match the stated size (but the size itself is a valid tile).
  EXPECT_THROW(run({"--mmproj", (kModels / "tiny-pixtral-mmproj.gguf").string(), "--pixels", px64, "--width", "56",
                    "--height", "56", "-o", out_}),
               pocket::Error);
  // Size the tower does not accept.
  EXPECT_THROW(run({"--mmproj", idefics, "--pixels", px64, "--width", "32", "--height", "128", "-o", out_}),
               pocket::Error);
  // Missing pixel file; a text model instead of an mmproj.
  EXPECT_THROW(run({"--mmproj", idefics, "--pixels", out_ + ".missing", "--width", "64", "--height", "64", "-o", out_}),
               pocket::Error);
  EXPECT_THROW(run({"--mmproj", (kModels / "tiny-smol-f16.gguf").string(), "--pixels", px64, "--width", "64",
                    "--height", "64", "-o", out_}),
               pocket::Error);
  // Usage errors stay CLI11 errors (exit status 2 in main).
  EXPECT_THROW(run({"--mmproj", idefics, "--pixels", px64, "--width", "0", "--height", "64", "-o", out_}),
               CLI::ParseError);
}

}  // namespace
