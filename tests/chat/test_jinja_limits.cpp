// Robustness of the Jinja engine on malformed and hostile templates: every case must end in
// a clean pocket::TemplateError (with a line number where one applies) — never a crash, a
// hang, unbounded recursion or an allocation sized by the template.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "chat/chat.h"
#include "chat/jinja_test_util.h"

namespace pocket {
namespace {

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// What a failed render reported (copied out of the exception, which must not be sliced).
struct Failure {
  std::string what, message;
  int line = 0;
  bool raised = false;
};

Failure render_error(const std::string& tmpl, const char* ctx = "{}", ChatRenderOptions opts = test_options()) {
  try {
    const std::string out = render_chat_template(tmpl, nlohmann::ordered_json::parse(ctx), opts);
    ADD_FAILURE() << "expected an error, got " << out.size() << " bytes of output";
  } catch (const TemplateError& e) {
    return Failure{e.what(), e.message(), e.line(), e.raised_by_template()};
  }
  return Failure{};
}

TEST(JinjaLimits, DeepNestingFailsCleanly) {
  render_error(repeat("{% if true %}", 2000) + "x" + repeat("{% endif %}", 2000));
  render_error("{{ " + repeat("(", 5000) + "1" + repeat(")", 5000) + " }}");
  render_error("{{ " + repeat("[", 5000) + repeat("]", 5000) + " }}");
  render_error("{{ " + repeat("not ", 5000) + "1 }}");
  render_error("{{ " + repeat("-", 5000) + "1 }}");
  render_error("{{ 1" + repeat(" + 1", 5000) + " }}");
  render_error("{{ x" + repeat(".a", 5000) + " }}");
  render_error("{{ x" + repeat("|trim", 5000) + " }}");
  render_error("{{ 1 if 1 else " + repeat("1 if 1 else ", 3000) + "1 }}");
  // Moderate nesting, as real templates use, still works.
  EXPECT_EQ(render_for_test(repeat("{% if true %}", 40) + "x" + repeat("{% endif %}", 40), "{}"), "x");
  EXPECT_EQ(render_for_test("{{ " + repeat("(", 60) + "1" + repeat(")", 60) + " }}", "{}"), "1");
}

TEST(JinjaLimits, RecursionIsBounded) {
  render_error("{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}{{ r(0) }}");
  render_error("{% for x in [1] recursive %}{{ loop([x]) }}{% endfor %}");
  render_error("{% macro a() %}{{ b() }}{% endmacro %}{% macro b() %}{{ a() }}{% endmacro %}{{ a() }}");
  // Bounded recursion is fine.
  EXPECT_EQ(render_for_test("{% macro r(n) %}{% if n > 0 %}{{ r(n - 1) }}{{ n }}{% endif %}{% endmacro %}{{ r(20) }}", "{}"),
            "1234567891011121314151617181920");
}

TEST(JinjaLimits, HugeRangesAndLoopsFailFast) {
  const auto start = std::chrono::steady_clock::now();
  // jinja2's sandbox refuses ranges over 100000 items.
  EXPECT_NE(render_error("{{ range(10**12)|length }}").message.find("MAX_RANGE"), std::string::npos);
  render_error("{{ range(100001)|list }}");
  ChatRenderOptions small = test_options();
  small.max_work = 200'000;
  render_error("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "{}", small);
  render_error("{% set ns = namespace(n=0) %}{% for i in range(100000) %}{% for j in range(100000) %}"
               "{% set ns.n = ns.n + 1 %}{% endfor %}{% endfor %}",
               "{}", small);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(secs, 5.0);
}

TEST(JinjaLimits, OutputAndStringSizeAreCapped) {
  render_error("{{ 'x' * 10**12 }}");
  render_error("{{ [1] * 10**12 }}");
  render_error("{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}");
  ChatRenderOptions small = test_options();
  small.max_output_bytes = 1000;
  render_error("{% for i in range(1000) %}abc{% endfor %}", "{}", small);
  render_error("{{ 'x' * 2000 }}", "{}", small);
  render_error("{{ 'ab\\ncd'|indent(10**10, first=true) }}");
}

TEST(JinjaLimits, IntegerOverflowIsAnError) {
  render_error("{{ 2 ** 64 }}");
  render_error("{{ 9223372036854775807 + 1 }}");
  render_error("{{ -9223372036854775807 - 2 }}");
  render_error("{{ 99999999999999999999 }}");
  render_error("{{ 3037000500 * 3037000500 }}");
  EXPECT_EQ(render_for_test("{{ 2 ** 62 }}", "{}"), "4611686018427387904");
}

TEST(JinjaLimits, SelfReferencingNamespacesPrintWithoutLooping) {
  EXPECT_EQ(render_for_test("{% set ns = namespace(a=1) %}{% set ns.me = ns %}{{ ns }}", "{}"),
            "<Namespace {'a': 1, 'me': <Namespace {...}>}>");
  render_error("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns|tojson }}");
}

TEST(JinjaLimits, ChainsThroughObjectsAreBounded) {
  // Bound methods, loop objects and namespaces hold values too; chains built through them
  // must stay bounded (destruction and repr recurse over them).
  render_error("{% set h = namespace(v=[]) %}{% for i in range(5000) %}{% set h.v = [h.v.count] %}{% endfor %}");
  render_error("{% set h = namespace(l=none) %}{% for i in range(5000) %}{% for x in [h.l] %}{% set h.l = loop %}"
               "{% endfor %}{% endfor %}");
  render_error("{% set h = namespace(n=none) %}{% for i in range(5000) %}{% set h.n = namespace(p=h.n) %}{% endfor %}{{ h }}");
  // A loop remembering itself through loop.changed must not leak (checked under LSan).
  EXPECT_EQ(render_for_test("{% for x in [1, 2] %}{{ loop.changed(loop) }}{% endfor %}", "{}"), "TrueFalse");
}

TEST(JinjaLimits, DeepContextJsonIsRejected) {
  std::string deep = repeat("[", 1000) + repeat("]", 1000);
  render_error("{{ x }}", ("{\"x\": " + deep + "}").c_str());
  EXPECT_THROW(render_chat_template("x", nlohmann::ordered_json::array(), test_options()), TemplateError);
}

TEST(JinjaLimits, InvalidUtf8TemplateIsRejected) {
  EXPECT_THROW(render_chat_template(std::string("ab\xff{{ 1 }}"), nlohmann::ordered_json::object(), test_options()),
               TemplateError);
  EXPECT_THROW(render_chat_template(std::string("{{ '\xc3' }}"), nlohmann::ordered_json::object(), test_options()),
               TemplateError);
  EXPECT_THROW(render_chat_template("{{ '\\ud800' }}", nlohmann::ordered_json::object(), test_options()), TemplateError);
}

TEST(JinjaErrors, SyntaxErrorsCarryTheirLine) {
  EXPECT_EQ(render_error("line1\n{% if true %}\nx\n{{ 1 + }}\n{% endif %}").line, 4);
  EXPECT_EQ(render_error("a\nb\n{% nosuchtag %}").line, 3);
  EXPECT_EQ(render_error("a\n{{ 'unterminated\n}}").line, 2);
  EXPECT_EQ(render_error("{# x\n\n").line, 1);
  const Failure e = render_error("{% for x in y %}\n{{ x }}\n");
  EXPECT_NE(e.message.find("endfor"), std::string::npos) << e.what;
}

TEST(JinjaErrors, RuntimeErrorsCarryTheirLine) {
  EXPECT_EQ(render_error("a\nb\n{{ 'x' + 1 }}\n").line, 3);
  EXPECT_EQ(render_error("{% for m in [1, 2] %}\n\n{{ m.x.y }}\n{% endfor %}").line, 3);
  EXPECT_EQ(render_error("{% macro f() %}\n{{ 1 // 0 }}\n{% endmacro %}\n\n{{ f() }}").line, 2);
  const Failure e = render_error("{{ 'a' + 1 }}");
  EXPECT_NE(e.what.find("can only concatenate str"), std::string::npos) << e.what;
  EXPECT_FALSE(e.raised);
}

TEST(JinjaErrors, RaiseExceptionMessageIsVerbatim) {
  const std::string msg = "Only \"user\" and 'assistant' roles: {{ not a template }} \xc3\xa9\n!";
  const Failure e = render_error("x\n{{ raise_exception(m) }}", nlohmann::ordered_json{{"m", msg}}.dump().c_str());
  EXPECT_TRUE(e.raised);
  EXPECT_EQ(e.what, msg);
  EXPECT_EQ(e.message, msg);
  EXPECT_EQ(e.line, 2);
  // raise_exception inside a macro, a loop and a filter argument still surfaces verbatim.
  const Failure m = render_error(
      "{% macro check(r) %}{% if r != 'user' %}{{ raise_exception('bad role: ' + r) }}{% endif %}{% endmacro %}"
      "{% for r in ['user', 'bot'] %}{{ check(r) }}{% endfor %}");
  EXPECT_TRUE(m.raised);
  EXPECT_EQ(m.what, "bad role: bot");
}

TEST(JinjaErrors, TemplateIsReusableAfterErrors) {
  const ChatTemplate t("{% if x == 1 %}{{ raise_exception('one') }}{% endif %}{{ x }}");
  EXPECT_THROW(t.render(nlohmann::ordered_json{{"x", 1}}, test_options()), TemplateRaised);
  EXPECT_EQ(t.render(nlohmann::ordered_json{{"x", 2}}, test_options()), "2");
}

}  // namespace
}  // namespace pocket
