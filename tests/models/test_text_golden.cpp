// Decoder logits vs llama.cpp's on every case in ../shared/golden/text, at every kernel level this
// build and CPU can run (the scalar reference included). Tolerance from that folder's README:
// NMSE <= 1e-3 over all positions, arg-max agreement >= 90%, and greedy decoding must not
// diverge at the first generated token.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "kernels/dispatch.h"
#include "core/error.h"
#include "runtime/engine.h"
#include "golden_util.h"

namespace pocket {
namespace {

class TextGolden : public ::testing::TestWithParam<kernels::Isa> {};

TEST_P(TextGolden, LogitsMatchLlamaCpp) {
  const kernels::Isa level = GetParam();
  const bool ref = level == kernels::Isa::Ref;
  const auto cases = test::golden_cases("golden/text");
  ASSERT_GE(cases.size(), 8u) << "golden/text cases missing";
  for (const test::GoldenCase& c : cases) {
    SCOPED_TRACE(c.name + " [" + kernels::isa_name(level) + " kernels]");
    EngineOptions eo;
    eo.n_threads = 2;
    eo.no_repack = ref;  // the reference kernels read the file's layout
    kernels::set_isa(level);  // process-wide, reset below
    auto engine = Engine::load(test::shared_path("models/" + c.meta["model"].get<std::string>()), eo);
    const int64_t nv = c.meta["n_vocab"].get<int64_t>();
    ASSERT_EQ(engine->hparams().n_vocab, nv);
    const std::vector<int32_t> ids = c.meta["prompt_ids"].get<std::vector<int32_t>>();
    const std::vector<float> want = test::read_f32(test::shared_path("golden/text/" + c.name + ".logits.f32"));
    ASSERT_EQ(want.size(), ids.size() * static_cast<size_t>(nv));

    SessionOptions so;
    so.n_ctx = static_cast<int64_t>(ids.size()) + 16;
    so.n_batch = 64;  // several batches for the longer prompts: exercises KV reuse across calls
    Session s(*engine, so);
    std::vector<float> got(want.size());
    s.eval_all(ids, [&](int64_t i, const float* row) { std::copy(row, row + nv, got.begin() + i * nv); });

    const double err = test::nmse(got.data(), want.data(), got.size());
    const double agreement = test::argmax_agreement(got.data(), want.data(), ids.size(), nv);
    EXPECT_LE(err, 1e-3);
    EXPECT_GE(agreement, 0.90);
    RecordProperty(c.name + "_" + kernels::isa_name(level) + "_nmse", std::to_string(err));

    // Greedy continuation: the first generated token must match.
    Session g(*engine, so);
    GenerateOptions go;
    go.max_tokens = 16;
    go.sampling.temperature = 0;
    go.stop_at_eog = false;
    GenerateResult r = g.generate(ids, go);
    const auto greedy = c.meta["greedy_ids"].get<std::vector<int32_t>>();
    ASSERT_FALSE(r.tokens.empty());
    EXPECT_EQ(r.tokens[0], greedy[0]);
    size_t same = 0;
    while (same < r.tokens.size() && same < greedy.size() && r.tokens[same] == greedy[same]) ++same;
    std::printf("  %-28s %-10s nmse %.3e  argmax %.1f%%  greedy prefix %zu/16\n", c.name.c_str(), kernels::isa_name(level), err,
                100 * agreement, same);
  }
  kernels::set_isa(kernels::startup_isa());
}

INSTANTIATE_TEST_SUITE_P(Kernels, TextGolden, ::testing::ValuesIn(kernels::available_isas()),
                         [](const auto& info) { return std::string(kernels::isa_name(info.param)); });

}  // namespace
}  // namespace pocket
