// Model store acceptance tests against a loopback imitation of the Hub (fake_hub.h): listing
// (with pagination), download, resume after a dropped connection and across runs, sha256
// mismatch, 401 without a token, 404, offline with and without a cached copy, list/remove,
// resolve_model() pulling on first use; plus the progress line and model-reference parsing.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "core/error.h"
#include "core/sha256.h"
#include "runtime/fake_hub.h"
#include "runtime/hub_client.h"
#include "runtime/model_ref.h"
#include "runtime/model_store.h"
#include "test_util.h"

namespace pocket {
namespace {

namespace fs = std::filesystem;

std::string random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

std::string slurp(const std::string& path) { return test::read_text(path); }

const char* kRepo = "org/Tiny-GGUF";

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = test::binary_path("store_test_home_" + std::to_string(::getpid()));
    fs::remove_all(home_);
    ::setenv("HF_ENDPOINT", hub_.endpoint().c_str(), 1);
    ::setenv("POCKET_HOME", home_.c_str(), 1);
    for (const char* v : {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "POCKET_OFFLINE", "HF_HUB_OFFLINE"}) ::unsetenv(v);
    q8_ = random_bytes(300000, 1);
    q4_ = random_bytes(200000, 2);
    mm8_ = random_bytes(100000, 3);
    mm16_ = random_bytes(150000, 4);
    hub_.add_file(kRepo, "README.md", "# tiny\n");
    hub_.add_file(kRepo, "Tiny-Q8_0.gguf", q8_);
    hub_.add_file(kRepo, "Tiny-Q4_K_M.gguf", q4_);
    hub_.add_file(kRepo, "mmproj-Tiny-Q8_0.gguf", mm8_);
    hub_.add_file(kRepo, "mmproj-Tiny-f16.gguf", mm16_);
  }
  void TearDown() override { fs::remove_all(home_); }

  HubClient client(const std::string& token = "") const {
    HubConfig cfg = HubConfig::from_env();
    cfg.token = token;
    HubClient c(cfg, false);
    c.retry_delay_s = 0.01;
    return c;
  }
  size_t file_requests(const std::string& name) const {
    size_t n = 0;
    for (const auto& r : hub_.requests())
      if (r.path.ends_with("/resolve/main/" + name)) ++n;
    return n;
  }

  test::FakeHub hub_;
  std::string home_, q8_, q4_, mm8_, mm16_;
};

TEST_F(StoreTest, ListingFollowsPagination) {
  hub_.set_page_size(2);
  const auto files = client().list_files(kRepo);
  ASSERT_EQ(files.size(), 5u);
  size_t tree_requests = 0;
  for (const auto& r : hub_.requests()) tree_requests += r.path.find("/tree/main") != std::string::npos;
  EXPECT_EQ(tree_requests, 3u);
  for (const auto& f : files) {
    if (f.path == "Tiny-Q8_0.gguf") {
      EXPECT_EQ(f.size, q8_.size());
      EXPECT_EQ(f.sha256, sha256_hex(q8_));
    }
    if (f.path == "README.md") {
      EXPECT_EQ(f.sha256, "");
    }
  }
}

TEST_F(StoreTest, PullDefaultQuantWithMmproj) {
  ModelStore store(ModelStore::default_root());
  const StoreEntry e = store.pull(ModelRef{kRepo, ""}, client());
  EXPECT_EQ(e.quant, "Q8_0");
  EXPECT_EQ(e.model_path, home_ + "/models/org/Tiny-GGUF/Q8_0/Tiny-Q8_0.gguf");
  EXPECT_EQ(e.mmproj_path, home_ + "/models/org/Tiny-GGUF/Q8_0/mmproj-Tiny-Q8_0.gguf");
  EXPECT_EQ(slurp(e.model_path), q8_);
  EXPECT_EQ(slurp(e.mmproj_path), mm8_);
  EXPECT_EQ(e.size, q8_.size() + mm8_.size());
  EXPECT_TRUE(fs::exists(e.dir + "/manifest.json"));
  EXPECT_FALSE(fs::exists(e.dir + "/Tiny-Q4_K_M.gguf"));
  EXPECT_FALSE(fs::exists(e.dir + "/README.md"));
  // A second pull lists again but downloads nothing.
  hub_.clear_log();
  store.pull(ModelRef{kRepo, ""}, client());
  EXPECT_EQ(file_requests("Tiny-Q8_0.gguf") + file_requests("mmproj-Tiny-Q8_0.gguf"), 0u);
}

TEST_F(StoreTest, ResumeAfterDroppedConnection) {
  const size_t cut = q8_.size() / 2;
  hub_.cut_next("Tiny-Q8_0.gguf", cut);
  ModelStore store(ModelStore::default_root());
  const StoreEntry e = store.pull(ModelRef{kRepo, "Q8_0"}, client());
  EXPECT_EQ(slurp(e.model_path), q8_);
  std::vector<std::string> ranges;
  for (const auto& r : hub_.requests())
    if (r.path.ends_with("/Tiny-Q8_0.gguf")) ranges.push_back(r.range);
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0], "");
  // The retry asks for the rest only: "bytes=<what arrived>-".
  ASSERT_EQ(ranges[1].rfind("bytes=", 0), 0u) << ranges[1];
  const size_t from = std::stoul(ranges[1].substr(6));
  EXPECT_GT(from, 0u);
  EXPECT_LE(from, cut);
  EXPECT_EQ(ranges[1], "bytes=" + std::to_string(from) + "-");
  EXPECT_FALSE(fs::exists(e.model_path + ".part"));
}

TEST_F(StoreTest, ResumeAcrossRunsFromPartFile) {
  ModelStore store(ModelStore::default_root());
  const std::string dir = store.entry_dir(kRepo, "Q4_K_M");
  fs::create_directories(dir);
  std::ofstream(dir + "/Tiny-Q4_K_M.gguf.part", std::ios::binary) << q4_.substr(0, 12345);
  const StoreEntry e = store.pull(ModelRef{kRepo, "q4_k_m"}, client());
  EXPECT_EQ(e.quant, "Q4_K_M");
  EXPECT_EQ(slurp(e.model_path), q4_);
  std::vector<std::string> ranges;
  for (const auto& r : hub_.requests())
    if (r.path.ends_with("/Tiny-Q4_K_M.gguf")) ranges.push_back(r.range);
  EXPECT_EQ(ranges, std::vector<std::string>{"bytes=12345-"});
  // No Q4 projector: the closest bit width.
  EXPECT_EQ(fs::path(e.mmproj_path).filename(), "mmproj-Tiny-Q8_0.gguf");
}

TEST_F(StoreTest, Sha256MismatchRejectedAndPartialDeleted) {
  hub_.corrupt_sha("Tiny-Q8_0.gguf");
  ModelStore store(ModelStore::default_root());
  try {
    store.pull(ModelRef{kRepo, "Q8_0"}, client());
    FAIL() << "expected a sha256 error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sha256 mismatch"), std::string::npos) << e.what();
  }
  const std::string dir = store.entry_dir(kRepo, "Q8_0");
  EXPECT_FALSE(fs::exists(dir + "/Tiny-Q8_0.gguf"));
  EXPECT_FALSE(fs::exists(dir + "/Tiny-Q8_0.gguf.part"));
  EXPECT_FALSE(store.find(ModelRef{kRepo, "Q8_0"}));

  // A corrupt .part left by an earlier run is caught the same way.
  hub_.corrupt_sha("none");
  test::FakeHub clean;
  clean.add_file(kRepo, "Tiny-Q8_0.gguf", q8_);
  ::setenv("HF_ENDPOINT", clean.endpoint().c_str(), 1);
  std::ofstream(dir + "/Tiny-Q8_0.gguf.part", std::ios::binary) << std::string(1000, 'x');
  EXPECT_THROW(store.pull(ModelRef{kRepo, "Q8_0"}, client()), Error);
  EXPECT_FALSE(fs::exists(dir + "/Tiny-Q8_0.gguf.part"));
  EXPECT_EQ(slurp(store.pull(ModelRef{kRepo, "Q8_0"}, client()).model_path), q8_);  // and the next pull succeeds
}

TEST_F(StoreTest, GatedRepoNeedsToken) {
  hub_.add_file("org/Gated-GGUF", "Gated-Q8_0.gguf", q4_);
  hub_.set_gated("org/Gated-GGUF", "hf_secret");
  ModelStore store(ModelStore::default_root());
  try {
    store.pull(ModelRef{"org/Gated-GGUF", ""}, client());
    FAIL() << "expected 401";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("401"), std::string::npos) << msg;
    EXPECT_NE(msg.find("HF_TOKEN"), std::string::npos) << msg;
  }
  try {
    store.pull(ModelRef{"org/Gated-GGUF", ""}, client("hf_wrong"));
    FAIL() << "expected 401";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("rejected"), std::string::npos) << e.what();
  }
  hub_.clear_log();
  ::setenv("HF_TOKEN", "hf_secret", 1);  // from the environment, as users set it
  const StoreEntry e = store.pull(ModelRef{"org/Gated-GGUF", ""}, client(HubConfig::from_env().token));
  EXPECT_EQ(slurp(e.model_path), q4_);
  for (const auto& r : hub_.requests()) EXPECT_EQ(r.auth, "Bearer hf_secret") << r.path;
}

TEST_F(StoreTest, MissingRepo404) {
  ModelStore store(ModelStore::default_root());
  try {
    store.pull(ModelRef{"org/Nope", ""}, client());
    FAIL() << "expected 404";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("404"), std::string::npos) << msg;
    EXPECT_NE(msg.find("org/Nope"), std::string::npos) << msg;
  }
  // A quant the repository does not have names the ones it has.
  try {
    store.pull(ModelRef{kRepo, "Q2_K"}, client());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Q4_K_M, Q8_0"), std::string::npos) << e.what();
  }
}

TEST_F(StoreTest, ResolveModelPullsOnFirstUseThenWorksOffline) {
  const std::string spec = std::string(kRepo) + ":Q8_0";
  // Offline and not cached: a clear error, no request.
  for (const char* var : {"POCKET_OFFLINE", "HF_HUB_OFFLINE"}) {
    ::setenv(var, "1", 1);
    try {
      resolve_model(spec, ResolveOptions{false, true});
      FAIL() << "expected an offline error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("offline"), std::string::npos) << e.what();
    }
    ::unsetenv(var);
  }
  EXPECT_THROW(resolve_model(spec, ResolveOptions{true, true}), Error);
  EXPECT_TRUE(hub_.requests().empty());

  const ResolvedModel r = resolve_model(spec, ResolveOptions{false, true});
  EXPECT_EQ(slurp(r.model_path), q8_);
  EXPECT_EQ(slurp(r.mmproj_path), mm8_);

  // Cached: no network, offline or not, with or without the tag.
  hub_.clear_log();
  ::setenv("HF_HUB_OFFLINE", "1", 1);
  EXPECT_EQ(resolve_model(spec, ResolveOptions{false, true}).model_path, r.model_path);
  EXPECT_EQ(resolve_model(kRepo, ResolveOptions{true, true}).mmproj_path, r.mmproj_path);
  ::unsetenv("HF_HUB_OFFLINE");
  EXPECT_EQ(resolve_model(spec, ResolveOptions{false, true}).model_path, r.model_path);
  EXPECT_TRUE(hub_.requests().empty());

  // Local paths resolve to themselves; path-like names never reach the Hub.
  EXPECT_EQ(resolve_model(r.model_path).model_path, r.model_path);
  EXPECT_THROW(resolve_model("missing/model.gguf"), Error);
  EXPECT_THROW(resolve_model("./x"), Error);
  EXPECT_TRUE(hub_.requests().empty());
}

TEST_F(StoreTest, CheckpointRepository) {
  const char* repo = "org/Tiny-Checkpoint";
  hub_.add_file(repo, "config.json", R"({"model_type":"llama"})");
  hub_.add_file(repo, "model.safetensors", random_bytes(5000, 9));
  hub_.add_file(repo, "tokenizer.json", "{}");
  hub_.add_file(repo, "README.md", "x");
  const ResolvedModel r = resolve_model(repo, ResolveOptions{false, true});
  EXPECT_EQ(r.model_path, home_ + "/models/org/Tiny-Checkpoint/safetensors");
  EXPECT_EQ(r.mmproj_path, "");
  EXPECT_TRUE(fs::exists(r.model_path + "/config.json"));
  EXPECT_TRUE(fs::exists(r.model_path + "/model.safetensors"));
  EXPECT_TRUE(fs::exists(r.model_path + "/tokenizer.json"));
  EXPECT_FALSE(fs::exists(r.model_path + "/README.md"));
}

TEST_F(StoreTest, ListAndRemove) {
  ModelStore store(ModelStore::default_root());
  EXPECT_TRUE(store.list().empty());
  store.pull(ModelRef{kRepo, "Q8_0"}, client());
  store.pull(ModelRef{kRepo, "Q4_K_M"}, client());
  auto entries = store.list();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].quant, "Q4_K_M");
  EXPECT_EQ(entries[1].quant, "Q8_0");
  EXPECT_EQ(entries[1].size, q8_.size() + mm8_.size());
  // Without a tag, the preferred cached quant.
  EXPECT_EQ(store.find(ModelRef{kRepo, ""})->quant, "Q8_0");
  // An entry with a missing file is not complete.
  fs::remove(entries[0].model_path);
  EXPECT_EQ(store.list().size(), 1u);
  EXPECT_EQ(store.remove(ModelRef{kRepo, "Q8_0"}), 1);
  EXPECT_TRUE(store.list().empty());
  EXPECT_EQ(store.remove(ModelRef{kRepo, ""}), 1);  // the broken Q4_K_M entry goes too
  EXPECT_FALSE(fs::exists(home_ + "/models/org"));
}

TEST(ModelRefParse, ShortNamesReposAndPaths) {
  auto r = parse_model_ref("smolvlm2-256m");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->repo, "ggml-org/SmolVLM2-256M-Video-Instruct-GGUF");
  EXPECT_EQ(r->quant, "");
  r = parse_model_ref("SmolVLM2-2.2B:Q4_K_M");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->repo, "ggml-org/SmolVLM2-2.2B-Instruct-GGUF");
  EXPECT_EQ(r->quant, "Q4_K_M");
  EXPECT_EQ(parse_model_ref("ministral3-3b")->repo, "mistralai/Ministral-3-3B-Instruct-2512-GGUF");
  EXPECT_EQ(parse_model_ref("smolvlm2-500m")->repo, "ggml-org/SmolVLM2-500M-Video-Instruct-GGUF");
  r = parse_model_ref("owner/name:q8_0");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->repo, "owner/name");
  EXPECT_EQ(r->quant, "q8_0");
  for (const char* bad : {"", "unknown-short", "/abs/path", "./rel/x", "~/m", "dir/model.gguf", "a/b/c", "owner/name:",
                          "owner/name:Q8 0", "owner/x.safetensors"})
    EXPECT_FALSE(parse_model_ref(bad)) << bad;
}

TEST(Progress, Formatting) {
  EXPECT_EQ(format_byte_size(0), "0 B");
  EXPECT_EQ(format_byte_size(1023), "1023 B");
  EXPECT_EQ(format_byte_size(1536), "1.5 KiB");
  EXPECT_EQ(format_byte_size(273ull << 20), "273.0 MiB");
  EXPECT_EQ(format_byte_size(5014374318ull), "4.67 GiB");
  EXPECT_EQ(format_eta(7), "0:07");
  EXPECT_EQ(format_eta(754), "12:34");
  EXPECT_EQ(format_eta(3723), "1:02:03");
  EXPECT_EQ(format_eta(-1), "--:--");
  EXPECT_EQ(format_eta(1e9), "--:--");
  EXPECT_EQ(format_progress("model.gguf", 50, 100, 10, 100),
            "model.gguf   50% [##########          ] 50 B / 100 B  10 B/s  ETA 0:05");
  EXPECT_EQ(format_progress("model.gguf", 0, 2048, 0, 100),
            "model.gguf    0% [                    ] 0 B / 2.0 KiB  --/s  ETA --:--");
  EXPECT_EQ(format_progress("m", 3ull << 20, 3ull << 20, 1 << 20, 100),
            "m  100% [####################] 3.0 MiB / 3.0 MiB  1.0 MiB/s  ETA 0:00");
  EXPECT_EQ(format_progress("x.bin", 2048, 0, 0, 100), "x.bin  2.0 KiB  --/s");
  const std::string long_name(200, 'n');
  const std::string line = format_progress(long_name, 1, 2, 1, 90);
  EXPECT_EQ(line.size(), 90u);
  EXPECT_NE(line.find("...   50%"), std::string::npos) << line;
}

}  // namespace
}  // namespace pocket
