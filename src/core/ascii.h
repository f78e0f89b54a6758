// ASCII case folding for protocol text (HTTP header names and media types, host names, file
// extensions, hex digests, quant tags): bytes outside A-Z are left as they are, whatever the
// locale. Not for user text (the tokenizer and Jinja fold Unicode through utf8proc).
#pragma once

#include <string>
#include <string_view>

namespace pocket {

inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace pocket
