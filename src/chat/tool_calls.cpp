// Incremental tool-call parser (see tool_calls.h): a byte-at-a-time state machine with a
// small hold-back buffer for markers cut between pieces, and a lexical JSON tracker that
// knows when an arguments object is complete without parsing it.
#include "chat/tool_calls.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "core/error.h"
#include "sampling/json_schema.h"

namespace pocket {

using json = nlohmann::ordered_json;

namespace {

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// Cuts s to at most n bytes without splitting a UTF-8 sequence (the text may end up in JSON).
std::string cut_utf8(std::string s, size_t n) {
  if (s.size() <= n) return s;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  s.resize(n);
  return s;
}

// Strict JSON (RFC 8259, as Python's json.loads without NaN/Infinity); nullopt when invalid.
std::optional<json> parse_json(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

// ---- formats ------------------------------------------------------------------------------

ToolCallFormat ToolCallFormat::mistral_v13() {
  ToolCallFormat f;
  f.name = "mistral-v13";
  f.syntax = ToolCallSyntax::kNameThenArgs;
  f.call_start = "[TOOL_CALLS]";
  f.args_start = "[ARGS]";
  return f;
}

ToolCallFormat ToolCallFormat::mistral_v11() {
  ToolCallFormat f = mistral_v13();
  f.name = "mistral-v11";
  f.id_start = "[CALL_ID]";
  return f;
}

ToolCallFormat ToolCallFormat::hermes() {
  ToolCallFormat f;
  f.name = "hermes";
  f.syntax = ToolCallSyntax::kJsonObject;
  f.call_start = "<tool_call>";
  f.call_end = "</tool_call>";
  return f;
}

std::optional<ToolCallFormat> ToolCallFormat::detect(std::string_view src) {
  // ref: llama.cpp common/chat.cpp — Ministral 3 templates contain [TOOL_CALLS] and [ARGS]
  // but not [CALL_ID]; Hermes-style templates contain <tool_call>.
  const auto has = [&](std::string_view s) { return src.find(s) != std::string_view::npos; };
  if (has("[TOOL_CALLS]") && has("[ARGS]")) return has("[CALL_ID]") ? mistral_v11() : mistral_v13();
  if (has("<tool_call>")) return hermes();
  return std::nullopt;
}

// ---- results ------------------------------------------------------------------------------

ChatToolCall ToolCall::to_chat() const {
  ChatToolCall c;
  c.id = id;
  c.name = name;
  c.arguments = arguments;
  return c;
}

json ToolCall::to_openai() const {
  return json{{"id", id}, {"type", "function"}, {"function", json{{"name", name}, {"arguments", raw_arguments}}}};
}

void ToolCallParseResult::append(ToolCallParseResult&& more) {
  content += more.content;
  for (ToolCall& c : more.calls) calls.push_back(std::move(c));
  for (ToolCallError& e : more.errors) errors.push_back(std::move(e));
}

ChatMessage ToolCallParseResult::to_assistant_message() const {
  ChatMessage m = ChatMessage::from_text("assistant", content);
  for (const ToolCall& c : calls) m.tool_calls.push_back(c.to_chat());
  return m;
}

std::vector<std::string> ToolCallFormat::markers() const {
  std::vector<std::string> m;
  for (const std::string* s : {&call_start, &args_start, &id_start, &call_end})
    if (!s->empty()) m.push_back(*s);
  return m;
}

std::shared_ptr<const Grammar> tool_arguments_grammar(const nlohmann::ordered_json& function) {
  const auto params = function.find("parameters");
  if (params == function.end() || !params->is_object()) return nullptr;
  const auto strict = function.find("strict");
  try {
    return compile_json_schema(params->dump());
  } catch (const Error& e) {
    if (strict != function.end() && strict->is_boolean() && strict->get<bool>())
      fail("function '{}' is strict, and its parameters {}", function.value("name", ""), e.what());
    return nullptr;
  }
}

std::optional<TriggeredToolCalls> strict_tool_calls(const ToolCallFormat& f, const nlohmann::ordered_json& tools,
                                                    const Tokenizer& tok, bool always) {
  if (!tools.is_array()) return std::nullopt;
  bool any_strict = false;
  for (const auto& t : tools)
    if (t.contains("function")) any_strict = any_strict || t["function"].value("strict", false) == true;
  if (!any_strict && !always) return std::nullopt;
  POCKET_CHECK(tok.token_id(f.call_start).has_value(),
               "strict functions and parallel_tool_calls false (with tool_choice auto) need the call marker '{}' to be "
               "one token; use tool_choice required",
               f.call_start);
  TriggeredToolCalls c;
  c.trigger = f.call_start;
  c.suffix = f.syntax == ToolCallSyntax::kJsonObject ? "}" + f.call_end : f.call_end;
  for (const auto& t : tools) {
    if (!t.contains("function") || !t["function"].contains("name") || !t["function"]["name"].is_string()) continue;
    const std::string name = t["function"]["name"].get<std::string>();
    c.choices.push_back(f.syntax == ToolCallSyntax::kJsonObject ? "{\"name\": " + json(name).dump() + ", \"arguments\": "
                                                                 : name + f.args_start);
    c.grammars.push_back(tool_arguments_grammar(t["function"]));
  }
  return c;
}

ForcedToolCall force_tool_call(const ToolCallFormat& f, const nlohmann::ordered_json& tools, std::string name) {
  std::vector<std::string> names;
  std::vector<const nlohmann::ordered_json*> functions;
  if (tools.is_array())
    for (const auto& t : tools)
      if (t.contains("function") && t["function"].contains("name") && t["function"]["name"].is_string()) {
        names.push_back(t["function"]["name"].get<std::string>());
        functions.push_back(&t["function"]);
      }
  POCKET_CHECK(!names.empty(), "a required tool call needs tools");
  POCKET_CHECK(name.empty() || std::find(names.begin(), names.end(), name) != names.end(),
               "tool_choice names '{}', which is not in the tools", name);
  if (name.empty() && names.size() == 1) name = names[0];
  ForcedToolCall c;
  const bool json_syntax = f.syntax == ToolCallSyntax::kJsonObject;
  if (name.empty()) {
    // Several tools: the model chooses among their names (the choice constraint), then writes
    // the arguments object.
    c.prefix = json_syntax ? f.call_start + "{\"name\": \"" : f.call_start;
    for (const std::string& n : names) c.choices.push_back(json_syntax ? n + "\", \"arguments\": " : n + f.args_start);
    c.suffix = json_syntax ? "}" + f.call_end : f.call_end;
  } else if (!json_syntax) {
    c.prefix = f.call_start + name + f.args_start;
    c.suffix = f.call_end;
  } else {
    c.prefix = f.call_start + "{\"name\": " + nlohmann::json(name).dump() + ", \"arguments\": ";
    c.suffix = "}" + f.call_end;
  }
  for (size_t i = 0; i < names.size(); ++i)
    if (c.choices.empty() ? names[i] == name : true) c.grammars.push_back(tool_arguments_grammar(*functions[i]));
  return c;
}

// ---- ids and names ------------------------------------------------------------------------

std::string make_tool_call_id(uint64_t seed, uint64_t index) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  // 62^9 ~ 1.35e16 < 2^64: one 64-bit draw gives nine digits with negligible bias.
  uint64_t x = splitmix64(seed ^ splitmix64(index));
  std::string id(9, '0');
  for (char& c : id) {
    c = kAlphabet[x % 62];
    x /= 62;
  }
  return id;
}

bool is_valid_tool_call_id(std::string_view id) {
  if (id.size() != 9) return false;
  for (char c : id)
    if (!is_alnum(c)) return false;
  return true;
}

bool is_valid_tool_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!is_alnum(c) && c != '_' && c != '-') return false;
  return true;
}

// ---- parser -------------------------------------------------------------------------------

ToolCallParser::ToolCallParser(ToolCallFormat format, ToolCallParserOptions options)
    : format_(std::move(format)), opt_(options) {
  POCKET_CHECK(!format_.call_start.empty(), "tool-call format '{}' has no start marker", format_.name);
  POCKET_CHECK(format_.syntax != ToolCallSyntax::kNameThenArgs || !format_.args_start.empty(),
               "tool-call format '{}' has no arguments marker", format_.name);
  markers_[kStart] = format_.call_start;
  markers_[kArgsMark] = format_.args_start;
  markers_[kIdMark] = format_.id_start;
  markers_[kEnd] = format_.call_end;
  for (int a = 0; a < kNumMarkers; ++a)
    for (int b = 0; b < kNumMarkers; ++b)
      if (a != b && !markers_[a].empty() && !markers_[b].empty())
        POCKET_CHECK(markers_[b].compare(0, markers_[a].size(), markers_[a]) != 0,
                     "tool-call format '{}': marker '{}' is a prefix of '{}'", format_.name, markers_[a], markers_[b]);
}

bool ToolCallParser::in_tool_call() const { return state_ != State::kContent; }

std::string ToolCallParser::current_call_id() const {
  return !call_id_.empty() ? call_id_ : make_tool_call_id(opt_.id_seed, n_calls_);
}

bool ToolCallParser::watching(Marker m) const {
  if (markers_[m].empty()) return false;
  switch (state_) {
    case State::kContent:
      return m == kStart;
    case State::kName:
      return m == kStart || m == kArgsMark || m == kIdMark;
    case State::kCallId:
      return m == kStart || m == kArgsMark;
    case State::kArgs:
      // Inside a JSON string a marker is data: models echo such text through ordinary tokens.
      if (in_string_) return false;
      return m == kStart || m == kEnd;
    case State::kArgsStart:
    case State::kAfterCall:
    case State::kTrailing:
    case State::kSkip:
      return m == kStart || m == kEnd;
  }
  return false;
}

ToolCallParseResult ToolCallParser::feed(std::string_view piece) {
  size_t i = 0;
  while (i < piece.size()) {
    // Fast path for plain content: copy up to the next byte that could open a marker.
    if (state_ == State::kContent && hold_.empty()) {
      const void* p = std::memchr(piece.data() + i, markers_[kStart][0], piece.size() - i);
      const size_t stop = p ? static_cast<size_t>(static_cast<const char*>(p) - piece.data()) : piece.size();
      out_.content.append(piece.data() + i, stop - i);
      i = stop;
      if (i == piece.size()) break;
    }
    push(piece[i++]);
  }
  return std::exchange(out_, {});
}

ToolCallParseResult ToolCallParser::finish() {
  // A held prefix can no longer become a marker: it is ordinary text of the current state.
  const std::string held = std::exchange(hold_, {});
  for (char c : held) plain(c);
  interrupt();
  state_ = State::kContent;
  reset_call();
  return std::exchange(out_, {});
}

void ToolCallParser::push(char c) {
  if (hold_.empty()) {
    bool opens = false;
    for (int m = 0; m < kNumMarkers && !opens; ++m) opens = watching(Marker(m)) && markers_[m][0] == c;
    if (!opens) {
      plain(c);
      return;
    }
  }
  hold_ += c;
  bool prefix = false;
  for (int m = 0; m < kNumMarkers; ++m) {
    if (!watching(Marker(m))) continue;
    if (hold_ == markers_[m]) {
      hold_.clear();
      on_marker(Marker(m));
      return;
    }
    if (markers_[m].compare(0, hold_.size(), hold_) == 0) prefix = true;
  }
  if (prefix) return;
  // No marker starts at the held position: its first byte is ordinary text; the rest may
  // still start a marker, so it is scanned again (at most marker-length bytes).
  const std::string held = std::exchange(hold_, {});
  plain(held[0]);
  for (size_t k = 1; k < held.size(); ++k) push(held[k]);
}

void ToolCallParser::plain(char c) {
  switch (state_) {
    case State::kContent:
      out_.content += c;
      return;
    case State::kName:
      if (name_.size() >= opt_.max_name_bytes) {
        add_error(fmt::format("tool name longer than {} bytes", opt_.max_name_bytes), name_ + c);
        skip_rest();
        return;
      }
      name_ += c;
      return;
    case State::kCallId:
      if (call_id_.size() >= opt_.max_id_bytes) {
        add_error(fmt::format("tool call id longer than {} bytes", opt_.max_id_bytes), call_id_ + c);
        skip_rest();
        return;
      }
      call_id_ += c;
      return;
    case State::kArgsStart:
      if (is_json_space(c)) return;  // json.loads accepts surrounding whitespace
      state_ = State::kArgs;
      container_ = (c == '{' || c == '[');
      json_byte(c);
      return;
    case State::kArgs:
      json_byte(c);
      return;
    case State::kAfterCall:
      if (is_json_space(c)) return;
      state_ = State::kTrailing;
      trailing_.clear();
      [[fallthrough]];
    case State::kTrailing:
      // One byte past the cap tells add_error to cut (on a UTF-8 boundary).
      if (trailing_.size() <= opt_.max_error_raw_bytes) trailing_ += c;
      return;
    case State::kSkip:
      return;
  }
}

void ToolCallParser::json_byte(char c) {
  if (raw_.size() >= opt_.max_argument_bytes) {
    add_error(fmt::format("tool call arguments longer than {} bytes", opt_.max_argument_bytes), raw_);
    skip_rest();
    return;
  }
  raw_ += c;
  if (in_string_) {
    if (escape_) {
      escape_ = false;
    } else if (c == '\\') {
      escape_ = true;
    } else if (c == '"') {
      in_string_ = false;
    }
    return;
  }
  if (c == '"') {
    in_string_ = true;
    return;
  }
  if (!container_) return;  // a scalar ends only at a marker or the end of text
  if (c == '{' || c == '[') {
    if (static_cast<int>(brackets_.size()) >= opt_.max_nesting) {
      add_error(fmt::format("tool call arguments nested deeper than {}", opt_.max_nesting), raw_);
      skip_rest();
      return;
    }
    brackets_ += c;
  } else if (c == '}' || c == ']') {
    const char open = c == '}' ? '{' : '[';
    if (brackets_.empty() || brackets_.back() != open) {
      add_error("invalid JSON in tool call arguments (mismatched bracket)", raw_);
      skip_rest();
      return;
    }
    brackets_.pop_back();
    if (brackets_.empty()) finish_arguments(/*container_closed=*/true);
  }
}

void ToolCallParser::on_marker(Marker m) {
  switch (m) {
    case kStart:
      interrupt();
      begin_call();
      return;
    case kIdMark:  // only watched in kName
      end_name();
      if (state_ == State::kName) state_ = State::kCallId;
      return;
    case kArgsMark:  // watched in kName and kCallId
      if (state_ == State::kName) end_name();
      if (state_ == State::kName || state_ == State::kCallId) {
        state_ = State::kArgsStart;
        raw_.clear();
      }
      return;
    case kEnd:
      interrupt();
      state_ = State::kContent;
      reset_call();
      return;
    case kNumMarkers:
      return;
  }
}

void ToolCallParser::end_name() {
  // ref: mistral-common validator.py (_validate_function_call): names that the API would
  // refuse to encode back into a conversation are errors here, not calls.
  if (opt_.validate_names && !is_valid_tool_name(name_))
    call_error_ = name_.empty() ? "empty tool name" : "invalid tool name (expected ^[a-zA-Z0-9_-]{1,64}$)";
}

void ToolCallParser::interrupt() {
  switch (state_) {
    case State::kContent:
    case State::kAfterCall:
    case State::kSkip:
      break;
    case State::kName:
      add_error(fmt::format("tool call without {}", markers_[kArgsMark]), "");
      break;
    case State::kCallId:
      add_error(fmt::format("tool call without {}", markers_[kArgsMark]), call_id_);
      break;
    case State::kArgsStart:
      // ref: mistral-common tools.py — json.loads("") fails: InvalidArgsToolCallError.
      add_error("tool call without arguments", "");
      break;
    case State::kArgs:
      finish_arguments(/*container_closed=*/false);
      break;
    case State::kTrailing:
      // mistral-common decodes everything after [ARGS] as the arguments, so text after the
      // JSON would make the call invalid there; the complete call is kept and the text reported.
      add_error("unexpected text after a tool call", trailing_);
      trailing_.clear();
      break;
  }
}

void ToolCallParser::begin_call() {
  reset_call();
  state_ = format_.syntax == ToolCallSyntax::kNameThenArgs ? State::kName : State::kArgsStart;
}

void ToolCallParser::reset_call() {
  name_.clear();
  call_id_.clear();
  raw_.clear();
  call_error_.clear();
  brackets_.clear();
  container_ = in_string_ = escape_ = false;
  trailing_.clear();
}

void ToolCallParser::finish_arguments(bool container_closed) {
  if (!container_closed && container_) {
    add_error("incomplete JSON in tool call arguments", raw_);
    skip_rest();
    return;
  }
  // For a scalar the text may carry trailing whitespace before the marker; json.loads ignores it.
  std::optional<json> value = parse_json(raw_);
  if (!value) {
    add_error("invalid JSON in tool call arguments", raw_);
    skip_rest();
    return;
  }
  if (format_.syntax == ToolCallSyntax::kJsonObject) {
    // The body is {"name": ..., "arguments": {...}} (Llama-3-style "parameters" accepted too).
    if (!value->is_object()) {
      add_error("tool call is not a JSON object", raw_);
      skip_rest();
      return;
    }
    const auto name = value->find("name");
    if (name == value->end() || !name->is_string()) {
      add_error("tool call without a string \"name\"", raw_);
      skip_rest();
      return;
    }
    if (name->get_ref<const std::string&>().size() > opt_.max_name_bytes) {
      add_error(fmt::format("tool name longer than {} bytes", opt_.max_name_bytes), raw_);
      skip_rest();
      return;
    }
    name_ = name->get<std::string>();
    end_name();
    auto args = value->find("arguments");
    if (args == value->end()) args = value->find("parameters");
    json arguments = args == value->end() ? json::object() : *args;
    if (arguments.is_string()) {
      // Some models write the arguments as a JSON string (OpenAI's wire form).
      raw_ = arguments.get<std::string>();
      std::optional<json> inner = parse_json(raw_);
      if (!inner) {
        add_error("invalid JSON in tool call arguments", raw_);
        skip_rest();
        return;
      }
      arguments = std::move(*inner);
    } else {
      raw_ = arguments.dump();
    }
    value = std::move(arguments);
  }
  // ref: mistral-common tool_calls.py FunctionCall.validate_arguments — None becomes {}.
  if (value->is_null()) value = json::object();
  if (!value->is_object()) {
    add_error("tool call arguments are not a JSON object", raw_);
    skip_rest();
    return;
  }
  emit_call(std::move(*value));
}

void ToolCallParser::emit_call(json arguments) {
  if (!call_error_.empty()) {
    add_error(std::exchange(call_error_, {}), raw_);
  } else {
    ToolCall call;
    call.id = !call_id_.empty() ? call_id_ : make_tool_call_id(opt_.id_seed, n_calls_);
    call.name = name_;
    call.arguments = std::move(arguments);
    call.raw_arguments = raw_;
    out_.calls.push_back(std::move(call));
    ++n_calls_;
  }
  reset_call();
  state_ = State::kAfterCall;
}

void ToolCallParser::add_error(std::string message, std::string raw) {
  out_.errors.push_back(ToolCallError{std::move(message), name_, cut_utf8(std::move(raw), opt_.max_error_raw_bytes)});
}

void ToolCallParser::skip_rest() {
  // After an error nothing of this call is usable: discard up to the next call (or its end).
  reset_call();
  state_ = State::kSkip;
}

ToolCallParseResult parse_tool_calls(std::string_view text, const ToolCallFormat& format,
                                     const ToolCallParserOptions& options) {
  ToolCallParser parser(format, options);
  ToolCallParseResult result = parser.feed(text);
  result.append(parser.finish());
  return result;
}

}  // namespace pocket
