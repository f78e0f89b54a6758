// `pocket pull / list / rm` and `pocket run -m owner/name:QUANT` against a loopback fake Hub
// (tests/runtime/fake_hub.h) serving copies of the shared tiny models: pull, errors (404, 401,
// offline), list/rm, and run pulling on first use, then running offline with no request, and
// picking up the repository's mmproj for --image without --mmproj.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>

#include "apps/cli_util.h"
#include "runtime/fake_hub.h"

namespace pocket::test {
namespace {

namespace fs = std::filesystem;

const char* kRepo = "org/Tiny-Smol-GGUF";

class PullCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = binary_path("pull_cli_home_" + std::to_string(::getpid()));
    fs::remove_all(home_);
    ::setenv("HF_ENDPOINT", hub_.endpoint().c_str(), 1);
    ::setenv("POCKET_HOME", home_.c_str(), 1);
    for (const char* v : {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "POCKET_OFFLINE", "HF_HUB_OFFLINE"}) ::unsetenv(v);
    hub_.add_file(kRepo, "README.md", "tiny\n");
    hub_.add_file(kRepo, "tiny-smol-Q8_0.gguf", read_text(shared_path("models/tiny-smol-q8_0.gguf")));
    hub_.add_file(kRepo, "mmproj-tiny-smol-Q8_0.gguf", read_text(shared_path("models/smolvlm2-small-tiny-mmproj.gguf")));
  }
  void TearDown() override {
    for (const char* v : {"HF_TOKEN", "POCKET_OFFLINE", "HF_HUB_OFFLINE"}) ::unsetenv(v);
    fs::remove_all(home_);
  }
  std::string entry_dir() const { return home_ + "/models/" + kRepo + "/Q8_0"; }

  FakeHub hub_;
  std::string home_;
};

TEST_F(PullCliTest, PullListRm) {
  auto r = run_pocket(std::string("pull ") + kRepo + ":Q8_0");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, entry_dir() + "/tiny-smol-Q8_0.gguf\n");
  EXPECT_EQ(read_text(entry_dir() + "/tiny-smol-Q8_0.gguf"), read_text(shared_path("models/tiny-smol-q8_0.gguf")));
  EXPECT_EQ(r.err.find('\r'), std::string::npos) << "no progress bar when stderr is not a terminal";

  r = run_pocket("list");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("NAME", 0), 0u) << r.out;
  EXPECT_NE(r.out.find(std::string(kRepo) + "  Q8_0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("8.7 MiB"), std::string::npos) << r.out;  // model + mmproj
  EXPECT_NE(r.out.find(entry_dir() + "/tiny-smol-Q8_0.gguf"), std::string::npos) << r.out;

  r = run_pocket(std::string("rm ") + kRepo);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(fs::exists(entry_dir()));
  r = run_pocket("list");
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("no models"), std::string::npos) << r.err;
  r = run_pocket(std::string("rm ") + kRepo + ":Q8_0");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("not in the model store"), std::string::npos) << r.err;
}

TEST_F(PullCliTest, PullErrorsAreClear) {
  auto r = run_pocket("pull org/Missing-GGUF");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("404"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("org/Missing-GGUF"), std::string::npos) << r.err;

  hub_.add_file("org/Gated-GGUF", "g-Q8_0.gguf", "GGUF-ish bytes");
  hub_.set_gated("org/Gated-GGUF", "hf_cli_token");
  r = run_pocket("pull org/Gated-GGUF");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("401"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("HF_TOKEN"), std::string::npos) << r.err;
  ::setenv("HF_TOKEN", "hf_cli_token", 1);
  r = run_pocket("pull -q org/Gated-GGUF");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");

  r = run_pocket("pull not-a-model");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("smolvlm2-256m"), std::string::npos) << r.err;  // lists the short names
}

TEST_F(PullCliTest, OfflineWithAndWithoutCachedCopy) {
  auto r = run_pocket(std::string("pull --offline ") + kRepo);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("offline"), std::string::npos) << r.err;
  ::setenv("POCKET_OFFLINE", "1", 1);
  r = run_pocket(std::string("pull ") + kRepo);
  EXPECT_EQ(r.status, 1);
  ::unsetenv("POCKET_OFFLINE");
  EXPECT_TRUE(hub_.requests().empty());

  ASSERT_EQ(run_pocket(std::string("pull ") + kRepo).status, 0);
  hub_.clear_log();
  r = run_pocket(std::string("pull --offline ") + kRepo);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, entry_dir() + "/tiny-smol-Q8_0.gguf\n");
  EXPECT_TRUE(hub_.requests().empty());
}

TEST_F(PullCliTest, RunPullsOnFirstUseThenRunsOffline) {
  const std::string gen = " -p hi -n 4 --temp 0 -q";
  const auto ref = run_pocket("run -m " + shq(shared_path("models/tiny-smol-q8_0.gguf")) + gen);
  ASSERT_EQ(ref.status, 0) << ref.err;

  auto r = run_pocket(std::string("run -m ") + kRepo + ":Q8_0" + gen);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, ref.out);
  EXPECT_FALSE(hub_.requests().empty());
  EXPECT_TRUE(fs::exists(entry_dir() + "/manifest.json"));

  hub_.clear_log();
  ::setenv("HF_HUB_OFFLINE", "1", 1);
  r = run_pocket(std::string("run -m ") + kRepo + ":Q8_0" + gen);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, ref.out);
  ::unsetenv("HF_HUB_OFFLINE");
  r = run_pocket(std::string("run --offline -m ") + kRepo + gen);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, ref.out);
  EXPECT_TRUE(hub_.requests().empty());

  // The store's mmproj comes along for --image, matching an explicit --mmproj run.
  const std::string img = " --image " + shq(shared_path("images/tiny_32x24.png")) + " -p what -n 3 --temp 0 -q";
  const auto ref_img = run_pocket("run -m " + shq(shared_path("models/tiny-smol-q8_0.gguf")) + " --mmproj " +
                                  shq(shared_path("models/smolvlm2-small-tiny-mmproj.gguf")) + img);
  ASSERT_EQ(ref_img.status, 0) << ref_img.err;
  r = run_pocket(std::string("run --offline -m ") + kRepo + ":q8_0" + img);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, ref_img.out);

  // Not cached and offline: a clear error.
  r = run_pocket("run --offline -m org/Other-GGUF" + gen);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("offline"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pocket::test
