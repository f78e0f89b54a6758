// libFuzzer target for the JSON Schema compiler and the grammar matcher: any input either
// compiles or throws pocket::Error (never crashes, hangs or allocates without bound); a schema
// that compiles then has its grammar walked: a few bytes of the input are pushed (refused ones
// skipped), each prefix must close with closing_suffix() into an accepted text.
// Input layout: the schema text, then optionally "\n--\n" and bytes to feed the matcher.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/error.h"
#include "sampling/json_schema.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t split = in.find("\n--\n");
  const std::string_view schema = in.substr(0, split);
  const std::string_view feed = split == std::string_view::npos ? std::string_view() : in.substr(split + 4, 256);
  std::shared_ptr<const pocket::Grammar> g;
  try {
    g = pocket::compile_json_schema(schema);
  } catch (const pocket::Error&) {
    return 0;
  }
  pocket::GrammarMatcher m(*g);
  for (char c : feed)
    if (m.push(static_cast<uint8_t>(c))) m.commit();
  pocket::GrammarMatcher closing = m;
  if (!closing.advance(m.closing_suffix()) || !closing.accepting()) std::abort();
  return 0;
}
