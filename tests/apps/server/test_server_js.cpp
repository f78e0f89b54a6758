// `pocket serve` driven by the official OpenAI Node client (openai on npm, pinned in
// js/package.json, installed by scripts/setup with `npm ci --prefix tests/apps/server/js`).
#include <filesystem>

#include "server_process.h"

namespace pocket::test {
namespace {

TEST(ServerOpenAiClient, NodeClientUnchanged) {
  const std::string js = std::string(POCKET_SOURCE_DIR) + "/tests/apps/server/js";
  ASSERT_TRUE(std::filesystem::exists(js + "/node_modules/openai/package.json"))
      << "the openai npm client is not installed: run scripts/setup (it runs `npm ci --prefix tests/apps/server/js`)";
  ASSERT_EQ(std::system("node --version > /dev/null 2>&1"), 0) << "node is not installed";
  ServerProcess main("-m " + model_path("tiny-smol-q8_0.gguf") + " --mmproj " + model_path("smolvlm2-small-tiny-mmproj.gguf") +
                     " --api-key sk-pocket-test -c 2048");
  ServerProcess tools("-m " + model_path("tiny-ministral3-f16.gguf") + " -c 1024");
  const std::string out_file = binary_path("server_js_" + std::to_string(::getpid()) + ".txt");
  const std::string cmd = "node " + js + "/openai_client.mjs " + main.base_url() + "/v1 sk-pocket-test " +
                          shared_path("images/tiny_32x24.png") + " " + tools.base_url() + "/v1 > " + out_file + " 2>&1";
  const int rc = std::system(cmd.c_str());
  const std::string out = read_text(out_file);
  std::remove(out_file.c_str());
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("ALL OK"), std::string::npos) << out;
}

}  // namespace
}  // namespace pocket::test
