// Literal spans of caller text in a rendered chat prompt, and the per-model tokenization
// policy (see prompt_tokens.h for why).
#include "chat/prompt_tokens.h"

#include <algorithm>
#include <functional>

namespace pocket {

namespace {

using ojson = nlohmann::ordered_json;
using Visit = std::function<void(std::string&)>;

// Markers are private-use characters, which tojson (ensure_ascii=False) leaves unescaped and
// no chat template matches on.
constexpr std::string_view kMarkOpen = "\xEE\x80\x80";   // U+E000
constexpr std::string_view kMarkClose = "\xEE\x80\x81";  // U+E001
constexpr std::string_view kMarkPad = "\xEE\x80\x82";    // U+E002

// Marker k for string s: as many characters as s where possible, so that templates checking
// a length (Mistral's 9-character tool-call ids) take the same branch.
std::string marker(size_t k, const std::string& s) {
  size_t n_chars = 0;
  for (char c : s) n_chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  const std::string digits = std::to_string(k);
  std::string m(kMarkOpen);
  m += digits;
  for (size_t n = 2 + digits.size(); n < n_chars; ++n) m += kMarkPad;
  m += kMarkClose;
  return m;
}

void visit_json(ojson& j, bool keys, const Visit& f, const char* parent_key = nullptr) {
  if (j.is_string()) {
    // Schema enums such as "type": "function" / "object" are structure that templates test.
    if (parent_key && std::string_view(parent_key) == "type") return;
    f(j.get_ref<std::string&>());
  } else if (j.is_array()) {
    for (ojson& e : j) visit_json(e, keys, f, parent_key);
  } else if (j.is_object()) {
    ojson out = ojson::object();
    for (auto it = j.begin(); it != j.end(); ++it) {
      std::string key = it.key();
      if (keys) f(key);
      ojson v = it.value();
      visit_json(v, keys, f, keys ? nullptr : it.key().c_str());
      out[key] = std::move(v);
    }
    j = std::move(out);
  }
}

// Every caller string of the request, in a fixed order (the same for reading and replacing).
void visit_request(ChatRequest& r, const Visit& raw) {
  const Visit f = [&](std::string& s) {
    if (!s.empty()) raw(s);
  };
  for (ChatMessage& m : r.messages) {
    if (m.text) f(*m.text);
    for (ChatContentPart& p : m.parts)
      if (p.type == "text") f(p.text);
    for (ChatToolCall& tc : m.tool_calls) {
      f(tc.id);
      f(tc.name);
      if (tc.arguments.is_string()) f(tc.arguments.get_ref<std::string&>());
      else visit_json(tc.arguments, true, f);
    }
    f(m.tool_call_id);
    f(m.name);
  }
  if (r.tools.is_array()) visit_json(r.tools, false, f);
}

std::string json_inner(const std::string& s) {
  const std::string q = ojson(s).dump(-1, ' ', false, ojson::error_handler_t::replace);
  return q.substr(1, q.size() - 2);
}

// The forms a template may write a caller string in: as is, JSON-escaped (tojson), trimmed
// (Jinja's trim / Python's strip). Longest first, so a match never leaves caller bytes out.
std::vector<std::string> forms_of(const std::string& s) {
  std::vector<std::string> f{s};
  const std::string j = json_inner(s);
  if (j != s) f.push_back(j);
  constexpr const char* kWs = " \t\n\r\f\v";
  const size_t b = s.find_first_not_of(kWs), e = s.find_last_not_of(kWs);
  if (b != std::string::npos) {
    f.push_back(s.substr(b));
    f.push_back(s.substr(0, e + 1));
    f.push_back(s.substr(b, e + 1 - b));
  }
  std::vector<std::string> out;
  for (std::string& x : f)
    if (!x.empty() && std::find(out.begin(), out.end(), x) == out.end()) out.push_back(std::move(x));
  std::stable_sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return out;
}

std::vector<TextSpan> normalise(std::vector<TextSpan> spans) {
  std::sort(spans.begin(), spans.end(), [](const TextSpan& a, const TextSpan& b) { return a.begin < b.begin; });
  std::vector<TextSpan> out;
  for (const TextSpan& s : spans) {
    if (s.end <= s.begin) continue;
    if (!out.empty() && s.begin <= out.back().end) out.back().end = std::max(out.back().end, s.end);
    else out.push_back(s);
  }
  return out;
}

// Aligns `text` with the marker rendering: returns false when the structure differs.
bool align(const std::string& text, const std::string& marked, const std::vector<std::string>& pieces,
           std::vector<TextSpan>& spans) {
  // Split the marker rendering into template text and piece indices.
  std::vector<std::string> tmpl_text{""};
  std::vector<size_t> order;
  size_t pos = 0;
  while (pos < marked.size()) {
    const size_t m = marked.find(kMarkOpen, pos);
    if (m == std::string::npos) {
      tmpl_text.back() += marked.substr(pos);
      break;
    }
    tmpl_text.back() += marked.substr(pos, m - pos);
    size_t d = m + kMarkOpen.size(), k = 0, n_digits = 0;
    for (; d < marked.size() && marked[d] >= '0' && marked[d] <= '9' && n_digits < 9; ++d, ++n_digits)
      k = k * 10 + static_cast<size_t>(marked[d] - '0');
    while (marked.compare(d, kMarkPad.size(), kMarkPad) == 0) d += kMarkPad.size();
    if (n_digits == 0 || marked.compare(d, kMarkClose.size(), kMarkClose) != 0) return false;
    const size_t c = d;
    if (k >= pieces.size()) return false;
    order.push_back(k);
    tmpl_text.emplace_back();
    pos = c + kMarkClose.size();
  }
  size_t cur = 0;
  auto at = [&](size_t p, const std::string& s) { return p <= text.size() && text.compare(p, s.size(), s) == 0; };
  for (size_t i = 0; i < order.size(); ++i) {
    if (!at(cur, tmpl_text[i])) return false;
    cur += tmpl_text[i].size();
    const std::string& next = tmpl_text[i + 1];
    bool found = false;
    for (const std::string& f : forms_of(pieces[order[i]])) {
      // The template text that follows must follow this form too (or the next piece does).
      if (at(cur, f) && (next.empty() || at(cur + f.size(), next))) {
        spans.push_back({cur, cur + f.size()});
        cur += f.size();
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return at(cur, tmpl_text.back()) && cur + tmpl_text.back().size() == text.size();
}

}  // namespace

std::vector<std::string> caller_strings(const ChatRequest& request) {
  ChatRequest copy = request;
  std::vector<std::string> out;
  visit_request(copy, [&](std::string& s) { out.push_back(s); });
  return out;
}

std::vector<TextSpan> locate_literal_spans(std::string_view text, const std::vector<std::string>& pieces,
                                           size_t* n_unlocated) {
  std::vector<TextSpan> spans;
  size_t cur = 0, missing = 0;
  for (const std::string& p : pieces) {
    if (p.empty()) continue;
    size_t best = std::string_view::npos, len = 0;
    for (const std::string& f : forms_of(p)) {
      const size_t at = text.find(f, cur);
      if (at != std::string_view::npos && (best == std::string_view::npos || at < best)) best = at, len = f.size();
    }
    if (best == std::string_view::npos) {
      ++missing;
      continue;
    }
    spans.push_back({best, best + len});
    cur = best + len;
  }
  if (n_unlocated) *n_unlocated = missing;
  return normalise(std::move(spans));
}

LiteralPrompt render_with_literal_spans(const ChatTemplate& tmpl, const ChatRequest& request,
                                        const ChatRenderOptions& options) {
  ChatRenderOptions opt = options;
  if (!opt.now) opt.now = ChatClock::local_now();
  LiteralPrompt out;
  out.text = tmpl.render(request.to_context(), opt);
  const std::vector<std::string> pieces = caller_strings(request);
  out.n_pieces = pieces.size();
  if (pieces.empty()) return out;

  bool marker_free = out.text.find(kMarkOpen) == std::string::npos;
  for (const std::string& p : pieces) marker_free = marker_free && p.find(kMarkOpen) == std::string::npos;
  if (marker_free) {
    ChatRequest marked = request;
    size_t k = 0;
    visit_request(marked, [&](std::string& s) { s = marker(k++, s); });
    try {
      const std::string mtext = tmpl.render(marked.to_context(), opt);
      std::vector<TextSpan> spans;
      if (align(out.text, mtext, pieces, spans)) {
        out.literal = normalise(std::move(spans));
        out.aligned = true;
        return out;
      }
    } catch (const std::exception&) {
      // A template that rejects the markers (e.g. it parses a string): search instead.
    }
  }
  out.literal = locate_literal_spans(out.text, pieces, &out.n_unlocated);
  return out;
}

std::vector<int32_t> tokenize_chat_prompt(const Tokenizer& tok, std::string_view text,
                                          const std::vector<TextSpan>& literal) {
  if (!tok.literal_control_text()) return tok.encode(text, false, true);
  return tok.encode_with_literal(text, false, literal);
}

}  // namespace pocket
