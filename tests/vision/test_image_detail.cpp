// What an image costs: --image-max-tiles / --no-image-splitting / detail "low" against the
// reference processors' rules, and the embedding cache (an image sent again is not encoded
// again; anything that changes the tower input is a new entry; LRU within its byte budget).
//
// The expected tile counts come from this file's own implementation of the SmolVLM processor's
// size arithmetic, written from ../shared/golden/preprocess/README.md (steps 1-3) and checked
// first against every golden size case: a tile cap of N is transformers' processor with
// size.longest_edge = k * tile for the largest k whose plan has at most N tiles.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "runtime/prompt.h"
#include "test_util.h"
#include "vision/embedding_cache.h"
#include "vision/vision_encoder.h"

namespace pocket {
namespace {

using nlohmann::json;

// README steps 1-3 in float64, as the processor computes them; returns rows * cols + 1, or 1
// when the snapped image is a single tile (transformers' split_image returns it whole).
int reference_tiles(int w, int h, int longest, int tile) {
  int w1, h1;
  const double aspect = static_cast<double>(w) / h;
  if (w >= h) {
    w1 = longest;
    h1 = static_cast<int>(longest / aspect);
    if (h1 % 2) ++h1;
  } else {
    h1 = longest;
    w1 = static_cast<int>(longest * aspect);
    if (w1 % 2) ++w1;
  }
  w1 = std::max(w1, 1);
  h1 = std::max(h1, 1);
  const double a1 = static_cast<double>(w1) / h1;
  int w2, h2;
  if (w1 >= h1) {
    w2 = static_cast<int>(std::ceil(static_cast<double>(w1) / tile)) * tile;
    h2 = static_cast<int>(std::ceil(static_cast<int>(w2 / a1) / static_cast<double>(tile))) * tile;
  } else {
    h2 = static_cast<int>(std::ceil(static_cast<double>(h1) / tile)) * tile;
    w2 = static_cast<int>(std::ceil(static_cast<int>(h2 * a1) / static_cast<double>(tile))) * tile;
  }
  if (w2 <= tile && h2 <= tile) return 1;
  return (h2 / tile) * (w2 / tile) + 1;
}

std::unique_ptr<VisionEncoder> smol() { return VisionEncoder::load(test::shared_path("models/smolvlm2-small-tiny-mmproj.gguf")); }

int tiles_of(const VisionEncoder& enc, int w, int h, const ImageDetail& d) {
  return json::parse(enc.size_plan_json(w, h, d))["num_tiles"].get<int>();
}

TEST(ImageDetail, TileCapIsTheProcessorAtASmallerLongestEdge) {
  const auto enc = smol();
  const int S = static_cast<int>(enc->hparams().image_size);
  const int L = static_cast<int>(enc->hparams().preproc_image_size);
  ASSERT_EQ(L % S, 0);
  const json cases = json::parse(test::read_text(test::shared_path("golden/preprocess/size_cases.json")))["smolvlm2-small"];
  size_t n = 0;
  for (const json& c : cases) {
    const int w = c["w"].get<int>(), h = c["h"].get<int>();
    if (w < 2 || h < 2 || (n++ % 7) != 0) continue;  // a seventh of the grid keeps this fast
    SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h));
    // This file's arithmetic reproduces the golden reference plan first.
    ASSERT_EQ(reference_tiles(w, h, L, S), c["num_tiles"].get<int>());
    EXPECT_EQ(tiles_of(*enc, w, h, {}), c["num_tiles"].get<int>());
    for (int cap : {1, 2, 3, 4, 5, 7, 9, 10, 13, 16, 17}) {
      int want = 0;
      for (int k = L / S; k >= 1 && want == 0; --k)
        if (reference_tiles(w, h, k * S, S) <= cap || k == 1) want = reference_tiles(w, h, k * S, S);
      ImageDetail d;
      d.max_tiles = cap;
      EXPECT_EQ(tiles_of(*enc, w, h, d), want) << "cap " << cap;
      EXPECT_LE(want, cap);
      EXPECT_EQ(enc->planned_image_tokens(w, h, d), int64_t{want} * enc->planned_image_tokens(1, 1, {.low = true}));
    }
  }
  EXPECT_GT(n, 100u);
}

TEST(ImageDetail, LowIsOneTileWithoutSplitting) {
  const auto enc = smol();
  const int S = static_cast<int>(enc->hparams().image_size);
  for (auto [w, h] : std::vector<std::pair<int, int>>{{1920, 1080}, {32, 24}, {300, 2000}, {512, 512}}) {
    const json plan = json::parse(enc->size_plan_json(w, h, {.low = true}));
    EXPECT_EQ(plan["num_tiles"].get<int>(), 1);
    EXPECT_EQ(plan["rows"].get<int>(), 0);  // the single-image prompt (no <row_r_col_c>)
    EXPECT_EQ(plan["snapped_size"], json::array({S, S}));
  }
}

TEST(ImageDetail, RefusedWhereTheFamilyHasNoTiles) {
  const auto pix = VisionEncoder::load(test::shared_path("models/tiny-pixtral-mmproj.gguf"));
  EXPECT_FALSE(pix->splits_images());
  EXPECT_THROW(pix->check_detail({.max_tiles = 4}), Error);
  EXPECT_THROW(pix->planned_image_tokens(64, 64, {.max_tiles = 4}), Error);
  // Low fits the image in 512 x 512 (never above the model's own maximum).
  const json low = json::parse(pix->size_plan_json(1540, 1100, {.low = true}));
  EXPECT_LE(low["size"][0].get<int>(), 512 + 28);
  EXPECT_LE(pix->planned_image_tokens(1540, 1100, {.low = true}), pix->planned_image_tokens(1540, 1100, {}));
  const auto enc = smol();
  EXPECT_THROW(enc->check_detail({.max_tiles = -1}), Error);
}

TEST(EmbeddingCache, LeastRecentlyUsedWithinItsBudget) {
  EmbeddingCache cache(3 * 4 * sizeof(float));  // three entries of 4 floats
  std::vector<float> px(3 * 2 * 2, 0.5f), got;
  const auto key = [&](float v) {
    px[5] = v;
    return EmbeddingCache::key_of(px.data(), 2, 2);
  };
  EXPECT_NE(key(1), key(2));
  EXPECT_NE(EmbeddingCache::key_of(px.data(), 2, 2), EmbeddingCache::key_of(px.data(), 4, 1));  // same floats, other size
  EXPECT_FALSE(cache.find(key(1), got));
  for (float v : {1.f, 2.f, 3.f}) cache.put(key(v), std::vector<float>(4, v));
  ASSERT_TRUE(cache.find(key(1), got));  // 1 is now the most recent; 2 the least
  EXPECT_EQ(got, std::vector<float>(4, 1.f));
  cache.put(key(4), std::vector<float>(4, 4.f));
  EXPECT_FALSE(cache.find(key(2), got));
  EXPECT_TRUE(cache.find(key(3), got));
  EXPECT_TRUE(cache.find(key(4), got));
  cache.put(key(5), std::vector<float>(13, 5.f));  // larger than the whole budget: not kept
  EXPECT_FALSE(cache.find(key(5), got));
  const EmbeddingCacheStats s = cache.stats();
  EXPECT_EQ(s.hits, 3u);
  EXPECT_EQ(s.misses, 3u);
  EXPECT_EQ(s.entries, 3u);
  EXPECT_EQ(s.bytes, 12 * sizeof(float));
}

// Through the prompt builder: a second prompt with the same image encodes nothing; a capped
// one is new tower input; the cached rows are the ones the tower made.
TEST(EmbeddingCache, ASecondPromptWithTheSameImageEncodesNothing) {
  EngineOptions eo;
  eo.n_threads = 2;
  auto engine = Engine::load(test::shared_path("models/tiny-smol-q8_0.gguf"), eo);
  auto enc = smol();
  auto cache = std::make_shared<EmbeddingCache>(kDefaultEmbeddingCacheBytes);
  enc->set_cache(cache);
  PromptMedia m;
  m.images = {enc->load_image_file(test::shared_path("images/photo_1920x1080.jpg"))};
  std::vector<std::pair<int64_t, int64_t>> seen;
  m.progress = [&](int64_t done, int64_t total) { seen.emplace_back(done, total); };
  const std::string rendered = "<|im_start|>User:<image>What is this?<end_of_utterance>\nAssistant:";
  const Prompt a = tokenize_prompt(*engine, enc.get(), rendered, {}, m, engine->pool());
  ASSERT_EQ(a.n_tiles, reference_tiles(1920, 1080, 2048, 512));
  ASSERT_EQ(seen.size(), static_cast<size_t>(a.n_tiles));
  EXPECT_EQ(seen.back(), std::make_pair(a.n_tiles, a.n_tiles));
  EXPECT_EQ(cache->stats().misses, static_cast<uint64_t>(a.n_tiles));
  const Prompt b = tokenize_prompt(*engine, enc.get(), rendered, {}, m, engine->pool());
  EXPECT_EQ(cache->stats().hits, static_cast<uint64_t>(a.n_tiles));
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.storage, b.storage);
  // The rows equal an uncached encode's.
  enc->set_cache(nullptr);
  const Prompt c = tokenize_prompt(*engine, enc.get(), rendered, {}, m, engine->pool());
  EXPECT_EQ(a.storage, c.storage);
  enc->set_cache(cache);
  // A cap of 5 tiles: 1920x1080 at longest edge 1024 is 2 x 2 crops + the global tile.
  m.image_detail = {{.max_tiles = 5}};
  const uint64_t misses = cache->stats().misses;
  const Prompt d = tokenize_prompt(*engine, enc.get(), rendered, {}, m, engine->pool());
  EXPECT_EQ(d.n_tiles, 5);
  EXPECT_EQ(d.n_tiles, reference_tiles(1920, 1080, 1024, 512));
  EXPECT_EQ(cache->stats().misses, misses + 5);
  EXPECT_LT(d.tokens.size(), a.tokens.size());
}

}  // namespace
}  // namespace pocket
