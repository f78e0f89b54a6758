// Acceptance test: every case of ../shared/golden/chat/renderings.json behaves as its README
// says — byte-exact rendering when `rendered` is set, failure carrying the template's own
// message when raise_exception was called, a clean failure for any other error.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "chat/chat.h"

namespace pocket {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  EXPECT_TRUE(f.good()) << "cannot open " << path;
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(ChatGolden, AllRenderingsBehaveAsReference) {
  const std::string dir = std::string(POCKET_SHARED_DIR) + "/golden/chat/";
  const auto cases = nlohmann::ordered_json::parse(read_text(dir + "renderings.json"));
  ASSERT_TRUE(cases.is_array());
  ASSERT_GT(cases.size(), 0u);
  ChatRenderOptions opts;
  opts.now = ChatClock::parse("2026-11-24T12:00:00");  // the clock the goldens were frozen at
  size_t rendered = 0, raised = 0, failed = 0;
  for (const auto& c : cases) {
    const std::string name = c["template"].get<std::string>();
    SCOPED_TRACE(name + " / " + c["conversation"].get<std::string>() + (c["tools"].get<bool>() ? " / tools" : ""));
    const ChatTemplate tmpl(read_text(std::string(POCKET_SHARED_DIR) + "/templates/" + name));
    if (!c["rendered"].is_null()) {
      try {
        EXPECT_EQ(tmpl.render(c["context"], opts), c["rendered"].get<std::string>());
      } catch (const TemplateError& e) {
        ADD_FAILURE() << "unexpected error: " << e.what();
      }
      ++rendered;
    } else if (c["raise_exception_called"].get<bool>()) {
      try {
        tmpl.render(c["context"], opts);
        ADD_FAILURE() << "expected raise_exception";
      } catch (const TemplateError& e) {
        EXPECT_TRUE(e.raised_by_template());
        EXPECT_EQ(std::string(e.what()), c["error"].get<std::string>());
      }
      ++raised;
    } else {
      EXPECT_THROW(tmpl.render(c["context"], opts), TemplateError) << "reference error: " << c["error"];
      ++failed;
    }
  }
  EXPECT_EQ(rendered + raised + failed, cases.size());
}

}  // namespace
}  // namespace pocket
