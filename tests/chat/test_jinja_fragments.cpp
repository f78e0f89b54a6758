// Truncated and cut-out pieces of the real chat templates in ../shared/templates (prefixes and
// windows that end inside tags, strings and blocks) must render or fail with pocket::Error,
// exactly as the fuzz target treats any input. The pieces are cut here at test time rather
// than stored in the repository; under the sanitizer build this is the malformed-template
// corpus.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "chat/jinja_fuzz_input.h"

namespace pocket {
namespace {

namespace fs = std::filesystem;

std::vector<std::pair<std::string, std::string>> shared_templates() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& e : fs::directory_iterator(fs::path(POCKET_SHARED_DIR) / "templates")) {
    if (e.path().extension() != ".jinja") continue;
    std::ifstream f(e.path(), std::ios::binary);
    std::ostringstream ss;
    ss << f.rdbuf();
    out.emplace_back(e.path().filename().string(), ss.str());
  }
  return out;
}

TEST(JinjaFragments, TruncationsAndWindowsOfSharedTemplatesFailCleanly) {
  const auto templates = shared_templates();
  ASSERT_GE(templates.size(), 5u) << "../shared/templates is missing";
  size_t pieces = 0, rendered = 0;
  for (const auto& [name, text] : templates) {
    SCOPED_TRACE(name);
    jinja_fuzz::render(text);  // some raise on the fixed conversation (e.g. no tool role); either is fine
    // Prefixes ending at every 37th byte, and windows of three sizes starting every 97th byte.
    for (size_t end = 1; end < text.size(); end += 37, ++pieces) rendered += jinja_fuzz::render(text.substr(0, end));
    for (size_t len : {400, 1300, 2500})
      for (size_t start = 0; start < text.size(); start += 97, ++pieces)
        rendered += jinja_fuzz::render(text.substr(start, len));
  }
  // Most pieces are broken templates; they all came back (rendered or a clean error).
  EXPECT_GT(pieces, 1000u);
  EXPECT_LT(rendered, pieces);
}

}  // namespace
}  // namespace pocket
