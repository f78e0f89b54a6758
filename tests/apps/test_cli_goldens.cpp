// The `pocket` executable itself against every case of ../shared/golden/text (`pocket logits`)
// and ../shared/golden/vision (`pocket encode-image`), with the tolerances of those folders'
// READMEs: the check scripts/test runs on the aarch64 binary under qemu, and natively here.
// The kernel level is the binary's own start-up choice (POCKET_ISA overrides it).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "apps/cli_util.h"

namespace pocket {
namespace {

namespace fs = std::filesystem;

std::vector<std::pair<std::string, nlohmann::json>> cases(const std::string& folder) {
  std::vector<std::pair<std::string, nlohmann::json>> out;
  for (const auto& e : fs::directory_iterator(test::shared_path(folder))) {
    if (e.path().extension() != ".json") continue;
    out.emplace_back(e.path().stem().string(), nlohmann::json::parse(test::read_text(e.path().string())));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

std::string out_file(const std::string& name) {
  return (fs::temp_directory_path() / ("pocket_cli_golden_" + std::to_string(::getpid()) + "_" + name + ".f32")).string();
}

TEST(CliGoldens, LogitsMatchLlamaCpp) {
  const auto all = cases("golden/text");
  ASSERT_GE(all.size(), 8u);
  for (const auto& [name, meta] : all) {
    SCOPED_TRACE(name);
    const auto ids = meta.at("prompt_ids").get<std::vector<int32_t>>();
    std::string csv;
    for (int32_t id : ids) csv += (csv.empty() ? "" : ",") + std::to_string(id);
    const std::string out = out_file(name);
    const test::CmdResult r =
        test::run_pocket("logits -m " + test::shq(test::shared_path("models/" + meta.at("model").get<std::string>())) +
                         " --ids " + csv + " -o " + test::shq(out) + " -t 2");
    ASSERT_EQ(r.status, 0) << r.err;
    const std::vector<float> got = test::read_f32(out), want = test::read_f32(test::shared_path("golden/text/" + name + ".logits.f32"));
    fs::remove(out);
    const size_t nv = meta.at("n_vocab").get<size_t>();
    ASSERT_EQ(got.size(), want.size());
    ASSERT_EQ(want.size(), ids.size() * nv);
    // golden/text/README.md: NMSE <= 1e-3 over all positions, arg-max agreement >= 90%.
    const double err = test::nmse(got.data(), want.data(), got.size());
    size_t agree = 0;
    for (size_t i = 0; i < ids.size(); ++i)
      agree += test::argmax_of(got.data() + i * nv, nv) == test::argmax_of(want.data() + i * nv, nv);
    EXPECT_LE(err, 1e-3);
    EXPECT_GE(static_cast<double>(agree) / ids.size(), 0.90);
    std::printf("  %-28s nmse %.3e  argmax %zu/%zu\n", name.c_str(), err, agree, ids.size());
  }
}

TEST(CliGoldens, VisionEmbeddingsMatchLlamaCpp) {
  const auto all = cases("golden/vision");
  ASSERT_GE(all.size(), 5u);
  for (const auto& [name, meta] : all) {
    SCOPED_TRACE(name);
    const std::string out = out_file(name);
    const int64_t w = meta.at("width"), h = meta.at("height"), n_embd = meta.at("n_embd");
    const test::CmdResult r = test::run_pocket(
        "encode-image --mmproj " + test::shq(test::shared_path("models/" + meta.at("model").get<std::string>())) +
        " --pixels " + test::shq(test::shared_path("golden/vision/" + meta.at("pixels").get<std::string>())) +
        " --width " + std::to_string(w) + " --height " + std::to_string(h) + " -o " + test::shq(out) + " -t 2");
    ASSERT_EQ(r.status, 0) << r.err;
    const std::vector<float> got = test::read_f32(out);
    fs::remove(out);
    std::vector<float> want = test::read_f32(test::shared_path("golden/vision/" + meta.at("embeddings").get<std::string>()));
    if (meta.contains("merged_cols")) {
      // pixtral: encode-image writes the [IMG] rows only; the golden has an [IMG_BREAK] row after
      // every merged row but the last (golden/vision/README.md).
      const int64_t rows = meta.at("merged_rows"), cols = meta.at("merged_cols");
      std::vector<float> img;
      for (int64_t row = 0; row < rows; ++row) {
        const float* src = want.data() + row * (cols + 1) * n_embd;
        img.insert(img.end(), src, src + cols * n_embd);
      }
      want = std::move(img);
    }
    ASSERT_EQ(got.size(), want.size());
    const double err = test::nmse(got.data(), want.data(), want.size());
    EXPECT_LE(err, 1e-3);  // golden/vision/README.md
    std::printf("  %-22s nmse %.3e\n", name.c_str(), err);
  }
}

}  // namespace
}  // namespace pocket
