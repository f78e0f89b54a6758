// The `pocket` executable itself against every case of ../shared/golden/text (`pocket logits`)
// and ../shared/golden/vision (`pocket encode-image`), with the tolerances of those folders'
// READMEs: the check scripts/test runs on the aarch64 binary under qemu, and natively here.
// The kernel level is the binary's own start-up choice (POCKET_ISA overrides it).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "apps/cli_util.h"
#include "golden_util.h"

namespace pocket {
namespace {

namespace fs = std::filesystem;

std::string out_file(const std::string& name) {
  return (fs::temp_directory_path() / ("pocket_cli_golden_" + std::to_string(::getpid()) + "_" + name + ".f32")).string();
}

TEST(CliGoldens, LogitsMatchLlamaCpp) {
  const auto all = test::golden_cases("golden/text");
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
    const double agreement = test::argmax_agreement(got.data(), want.data(), ids.size(), nv);
    EXPECT_LE(err, 1e-3);
    EXPECT_GE(agreement, 0.90);
    std::printf("  %-28s nmse %.3e  argmax %.1f%%\n", name.c_str(), err, 100 * agreement);
  }
}

TEST(CliGoldens, VisionEmbeddingsMatchLlamaCpp) {
  const auto all = test::golden_cases("golden/vision");
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
    // pixtral: encode-image writes the [IMG] rows only.
    if (meta.contains("merged_cols"))
      want = test::pixtral_img_rows(want, meta.at("merged_rows"), meta.at("merged_cols"), n_embd);
    ASSERT_EQ(got.size(), want.size());
    const double err = test::nmse(got.data(), want.data(), want.size());
    EXPECT_LE(err, 1e-3);  // golden/vision/README.md
    std::printf("  %-22s nmse %.3e\n", name.c_str(), err);
  }
}

}  // namespace
}  // namespace pocket
