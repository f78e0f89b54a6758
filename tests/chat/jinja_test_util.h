// Helpers for the Jinja engine's unit tests: render a template with a JSON context and the
// golden clock (2026-11-24 12:00:00), and check the outcome.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "chat/chat.h"

namespace pocket {

inline ChatRenderOptions test_options() {
  ChatRenderOptions o;
  o.now = ChatClock{2026, 11, 24, 12, 0, 0, 0};
  return o;
}

inline std::string render_for_test(const std::string& tmpl, const char* context_json) {
  return render_chat_template(tmpl, nlohmann::ordered_json::parse(context_json), test_options());
}

inline void expect_render(const std::string& tmpl, const char* ctx, const std::string& expected) {
  SCOPED_TRACE("template: " + tmpl);
  try {
    EXPECT_EQ(render_for_test(tmpl, ctx), expected);
  } catch (const TemplateError& e) {
    ADD_FAILURE() << "unexpected error: " << e.what();
  }
}

// raise_exception(msg): the error must carry the template's message verbatim.
inline void expect_raise(const std::string& tmpl, const char* ctx, const std::string& message) {
  SCOPED_TRACE("template: " + tmpl);
  try {
    const std::string out = render_for_test(tmpl, ctx);
    ADD_FAILURE() << "expected raise_exception, got output: " << out;
  } catch (const TemplateError& e) {
    EXPECT_TRUE(e.raised_by_template()) << e.what();
    EXPECT_EQ(std::string(e.what()), message);
  }
}

// Any other failure: a clean TemplateError, never a crash or a different exception type.
inline void expect_fail(const std::string& tmpl, const char* ctx) {
  SCOPED_TRACE("template: " + tmpl);
  try {
    const std::string out = render_for_test(tmpl, ctx);
    ADD_FAILURE() << "expected an error, got output: " << out;
  } catch (const TemplateError& e) {
    EXPECT_FALSE(e.raised_by_template()) << e.what();
  }
}

}  // namespace pocket

#define EXPECT_RENDER(tmpl, ctx, expected) ::pocket::expect_render(tmpl, ctx, expected)
#define EXPECT_RAISE(tmpl, ctx, message) ::pocket::expect_raise(tmpl, ctx, message)
#define EXPECT_FAIL(tmpl, ctx) ::pocket::expect_fail(tmpl, ctx)
