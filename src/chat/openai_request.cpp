// Parsing and validation of OpenAI request bodies (see openai_request.h).
#include "chat/openai_request.h"

#include "sampling/json_schema.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace pocket {

using json = nlohmann::ordered_json;

ApiError::ApiError(int status, std::string message, std::string type, std::string code, std::string param)
    : Error(message), status_(status), type_(std::move(type)), code_(std::move(code)), param_(std::move(param)) {}

std::string ApiError::body() const {
  json e = json::object();
  e["message"] = what();
  e["type"] = type_;
  e["param"] = param_.empty() ? json(nullptr) : json(param_);
  e["code"] = code_.empty() ? json(nullptr) : json(code_);
  return json{{"error", std::move(e)}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {

[[noreturn]] void bad(const std::string& param, const std::string& message, const std::string& code = "invalid_value") {
  throw ApiError(400, message, "invalid_request_error", code, param);
}

json parse_body(std::string_view body) {
  // Depth is bounded by nlohmann's recursive parser only through the body size limit the
  // server enforces first; reject absurd nesting here so the fuzzer cannot blow the stack.
  int depth = 0, max_depth = 0;
  bool in_string = false, escape = false;
  for (char c : body) {
    if (in_string) {
      if (escape) escape = false;
      else if (c == '\\') escape = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') max_depth = std::max(max_depth, ++depth);
    else if (c == '}' || c == ']') --depth;
  }
  if (max_depth > 64) bad("", "request JSON is nested too deeply", "invalid_json");
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) bad("", "request body is not valid JSON", "invalid_json");
  if (!j.is_object()) bad("", "request body must be a JSON object", "invalid_json");
  return j;
}

const json* field(const json& j, const char* name) {
  const auto it = j.find(name);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

double number(const json& j, const char* name, double def, double lo, double hi) {
  const json* f = field(j, name);
  if (!f) return def;
  if (!f->is_number()) bad(name, fmt::format("'{}' must be a number", name), "invalid_type");
  const double v = f->get<double>();
  if (!std::isfinite(v) || v < lo || v > hi) bad(name, fmt::format("'{}' must be between {} and {}", name, lo, hi));
  return v;
}

bool boolean(const json& j, const char* name, bool def) {
  const json* f = field(j, name);
  if (!f) return def;
  if (!f->is_boolean()) bad(name, fmt::format("'{}' must be a boolean", name), "invalid_type");
  return f->get<bool>();
}

void check_string(const std::string& s, const char* param, const OpenAiLimits& limits) {
  if (s.size() > limits.max_string_bytes) throw ApiError(413, fmt::format("'{}' is too long", param), "invalid_request_error", "string_too_long", param);
}

OpenAiGenerationParams parse_gen(const json& j, const OpenAiLimits& limits, bool chat) {
  OpenAiGenerationParams g;
  if (const json* m = field(j, "model")) {
    if (!m->is_string()) bad("model", "'model' must be a string", "invalid_type");
    g.model = m->get<std::string>();
  }
  g.max_tokens = limits.default_max_tokens;
  for (const char* name : {"max_tokens", "max_completion_tokens"}) {
    if (!chat && std::string_view(name) == "max_completion_tokens") continue;
    const json* f = field(j, name);
    if (!f) continue;
    if (!f->is_number_integer()) bad(name, fmt::format("'{}' must be an integer", name), "invalid_type");
    const int64_t v = f->is_number_unsigned() && f->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : f->get<int64_t>();
    if (v < 1) bad(name, fmt::format("'{}' must be at least 1", name));
    if (v > limits.max_tokens)
      bad(name, fmt::format("'{}' is {} but this server allows at most {}", name, v, limits.max_tokens), "max_tokens_exceeded");
    g.max_tokens = v;
  }
  g.temperature = number(j, "temperature", 1.0, 0.0, 2.0);
  g.top_p = number(j, "top_p", 1.0, 0.0, 1.0);
  if (const json* s = field(j, "seed")) {
    if (!s->is_number_integer()) bad("seed", "'seed' must be an integer", "invalid_type");
    g.seed = s->is_number_unsigned() ? s->get<uint64_t>() : static_cast<uint64_t>(s->get<int64_t>());
  }
  if (const json* n = field(j, "n")) {
    if (!n->is_number_integer()) bad("n", "'n' must be an integer", "invalid_type");
    const int64_t v = n->get<int64_t>();
    if (v < 1 || v > static_cast<int64_t>(limits.max_n))
      bad("n", fmt::format("'n' must be between 1 and {}", limits.max_n));
    g.n = static_cast<int>(v);
  }
  if (const json* s = field(j, "stop")) {
    if (s->is_string()) {
      g.stop.push_back(s->get<std::string>());
    } else if (s->is_array()) {
      if (s->size() > limits.max_stop) bad("stop", fmt::format("at most {} stop sequences", limits.max_stop));
      for (const json& x : *s) {
        if (!x.is_string()) bad("stop", "'stop' must be a string or a list of strings", "invalid_type");
        g.stop.push_back(x.get<std::string>());
      }
    } else {
      bad("stop", "'stop' must be a string or a list of strings", "invalid_type");
    }
    for (const std::string& x : g.stop) {
      if (x.empty()) bad("stop", "stop sequences must not be empty");
      if (x.size() > limits.max_stop_bytes) bad("stop", fmt::format("stop sequences are limited to {} bytes", limits.max_stop_bytes));
    }
  }
  g.stream = boolean(j, "stream", false);
  if (const json* so = field(j, "stream_options")) {
    if (!so->is_object()) bad("stream_options", "'stream_options' must be an object", "invalid_type");
    g.include_usage = boolean(*so, "include_usage", false);
  }
  if (chat) {  // logprobs: true, top_logprobs 0..20
    const bool lp = boolean(j, "logprobs", false);
    int64_t top = 0;
    if (const json* t = field(j, "top_logprobs")) {
      if (!t->is_number_integer() || t->get<int64_t>() < 0 || t->get<int64_t>() > 20)
        bad("top_logprobs", "'top_logprobs' must be an integer from 0 to 20");
      top = t->get<int64_t>();
      if (top > 0 && !lp) bad("top_logprobs", "'top_logprobs' needs 'logprobs': true");
    }
    if (lp) g.logprobs = static_cast<int>(top);
  } else if (const json* lp = field(j, "logprobs")) {  // legacy completions: an integer 0..5
    if (!lp->is_number_integer() || lp->get<int64_t>() < 0 || lp->get<int64_t>() > 5)
      bad("logprobs", "'logprobs' must be an integer from 0 to 5");
    g.logprobs = static_cast<int>(lp->get<int64_t>());
  }
  if (!chat && boolean(j, "echo", false)) bad("echo", "echo is not supported", "unsupported_value");
  if (const json* b = field(j, "best_of")) {
    if (!b->is_number_integer() || b->get<int64_t>() != 1) bad("best_of", "only best_of = 1 is supported", "unsupported_value");
  }
  g.presence_penalty = number(j, "presence_penalty", 0.0, -2.0, 2.0);
  g.frequency_penalty = number(j, "frequency_penalty", 0.0, -2.0, 2.0);
  g.min_p = number(j, "min_p", 0.0, 0.0, 1.0);
  g.repetition_penalty = number(j, "repetition_penalty", 1.0, 0.01, 10.0);
  if (const json* k = field(j, "top_k")) {
    if (!k->is_number_integer() || k->get<int64_t>() < 0) bad("top_k", "'top_k' must be a non-negative integer", "invalid_type");
    g.top_k = std::min<int64_t>(k->get<int64_t>(), 1 << 20);
  }
  if (const json* lb = field(j, "logit_bias")) {
    // {"token id": bias}: the id as a decimal string (OpenAI's form), the bias in [-100, 100].
    if (!lb->is_object()) bad("logit_bias", "'logit_bias' must be an object of token id -> bias", "invalid_type");
    if (lb->size() > 1024) bad("logit_bias", "at most 1024 logit_bias entries");
    for (const auto& [key, value] : lb->items()) {
      int64_t id = -1;
      const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
      if (ec != std::errc() || end != key.data() + key.size() || id < 0 || id > INT32_MAX)
        bad("logit_bias", fmt::format("logit_bias key '{}' is not a token id", key));
      if (!value.is_number() || !std::isfinite(value.get<double>()) || value.get<double>() < -100 || value.get<double>() > 100)
        bad("logit_bias", "logit_bias values must be numbers between -100 and 100");
      g.logit_bias.emplace_back(static_cast<int32_t>(id), value.get<float>());
    }
  }
  // Thinking budget of a reasoning model (the server refuses it for a model that does not
  // reason): OpenAI's effort levels, or an exact count (extension). Chat only: a raw completion
  // has no thinking block to budget.
  if (!chat)
    for (const char* name : {"reasoning_effort", "max_reasoning_tokens"})
      if (field(j, name)) bad(name, fmt::format("'{}' is not supported", name), "unsupported_value");
  if (const json* e = field(j, "reasoning_effort")) {
    static const std::pair<const char*, int64_t> kEffort[] = {
        {"none", 0}, {"minimal", 256}, {"low", 1024}, {"medium", 4096}, {"high", -1}};
    if (!e->is_string()) bad("reasoning_effort", "'reasoning_effort' must be a string", "invalid_type");
    const auto it = std::find_if(std::begin(kEffort), std::end(kEffort), [&](const auto& k) { return *e == k.first; });
    if (it == std::end(kEffort))
      bad("reasoning_effort", "'reasoning_effort' must be one of none, minimal, low, medium, high");
    g.max_reasoning_tokens = it->second;
  }
  if (const json* m = field(j, "max_reasoning_tokens")) {
    if (!m->is_number_integer() || m->get<int64_t>() < 0)
      bad("max_reasoning_tokens", "'max_reasoning_tokens' must be a non-negative integer", "invalid_type");
    g.max_reasoning_tokens = std::min<int64_t>(m->get<int64_t>(), limits.max_tokens);
  }
  // Known OpenAI fields Pocket does not implement: refused by name rather than ignored.
  if (const json* m = field(j, "modalities"); m && *m != json::array({"text"}))
    bad("modalities", "only the text modality is supported", "unsupported_value");
  for (const char* name : {"audio", "prediction", "web_search_options"})
    if (field(j, name)) bad(name, fmt::format("'{}' is not supported", name), "unsupported_value");
  return g;
}

std::string media_url(const json& part, const char* key, const OpenAiLimits& limits) {
  const json* f = field(part, key);
  if (!f) bad("messages", fmt::format("a part of this type needs '{}'", key));
  const json* url = f;
  if (f->is_object()) url = field(*f, "url");
  if (!url || !url->is_string()) bad("messages", fmt::format("'{}' needs a string 'url'", key), "invalid_type");
  std::string u = url->get<std::string>();
  check_string(u, key, limits);
  if (u.empty()) bad("messages", fmt::format("'{}' has an empty url", key));
  return u;
}

// OpenAI's image_url.detail: "low" (a cheap, low-resolution encoding), "high" or "auto" (Pocket's
// auto is the reference processor's own encoding). Video parts have no detail.
bool low_detail(const json& part, const std::string& type) {
  const json* f = field(part, type.c_str());
  const json* d = f && f->is_object() ? field(*f, "detail") : nullptr;
  if (!d || d->is_null()) return false;
  if (type != "image_url") bad("messages", "'detail' applies to image_url parts only", "unsupported_value");
  if (!d->is_string()) bad("messages", "image_url 'detail' must be \"low\", \"high\" or \"auto\"", "invalid_type");
  const std::string v = d->get<std::string>();
  if (v != "low" && v != "high" && v != "auto")
    bad("messages", fmt::format("image_url 'detail' must be \"low\", \"high\" or \"auto\", not \"{}\"", v.substr(0, 32)));
  return v == "low";
}

}  // namespace

OpenAiChatRequest parse_chat_request(std::string_view body, const OpenAiLimits& limits) {
  const json j = parse_body(body);
  OpenAiChatRequest r;
  r.gen = parse_gen(j, limits, true);
  const json* msgs = field(j, "messages");
  if (!msgs || !msgs->is_array()) bad("messages", "'messages' must be a list of messages", "invalid_type");
  if (msgs->empty()) bad("messages", "'messages' must not be empty");
  if (msgs->size() > limits.max_messages) bad("messages", fmt::format("at most {} messages", limits.max_messages));
  // Shapes first (OpenAI's own rules, which from_openai is more lenient about).
  for (const json& m : *msgs) {
    if (!m.is_object()) bad("messages", "each message must be an object", "invalid_type");
    const json* role = field(m, "role");
    if (!role || !role->is_string()) bad("messages", "each message needs a string 'role'", "invalid_type");
    const std::string rs = role->get<std::string>();
    if (rs != "system" && rs != "developer" && rs != "user" && rs != "assistant" && rs != "tool")
      bad("messages", fmt::format("unknown role '{}'", rs));
    const json* content = field(m, "content");
    if (!content && rs != "assistant") bad("messages", fmt::format("a '{}' message needs 'content'", rs));
    if (content && content->is_string()) check_string(content->get<std::string>(), "content", limits);
    if (content && content->is_array()) {
      for (const json& p : *content) {
        if (!p.is_object()) bad("messages", "content parts must be objects", "invalid_type");
        const json* type = field(p, "type");
        if (!type || !type->is_string()) bad("messages", "content parts need a string 'type'", "invalid_type");
        const std::string t = type->get<std::string>();
        if (t == "text") {
          const json* text = field(p, "text");
          if (!text || !text->is_string()) bad("messages", "text parts need a string 'text'", "invalid_type");
          check_string(text->get<std::string>(), "text", limits);
        } else if (t == "image_url" || t == "video_url") {
          if (rs != "user") bad("messages", "images and videos are only accepted in user messages");
          if (r.media.size() >= limits.max_media) bad("messages", fmt::format("at most {} images and videos", limits.max_media));
          r.media.push_back({t == "video_url", media_url(p, t.c_str(), limits), low_detail(p, t)});
        } else {
          bad("messages", fmt::format("unsupported content part type '{}'", t), "unsupported_value");
        }
      }
    } else if (content && !content->is_string()) {
      bad("messages", "message content must be a string or a list of parts", "invalid_type");
    }
  }
  try {
    r.chat = ChatRequest::from_openai(j);
  } catch (const ApiError&) {
    throw;
  } catch (const Error& e) {
    bad("messages", e.what());
  }
  for (ChatMessage& m : r.chat.messages)
    if (m.role == "developer") m.role = "system";
  if (const json* tools = field(j, "tools")) {
    if (!tools->is_array()) bad("tools", "'tools' must be a list", "invalid_type");
    if (tools->size() > limits.max_tools) bad("tools", fmt::format("at most {} tools", limits.max_tools));
    for (const json& t : *tools) {
      const json* fn = t.is_object() ? field(t, "function") : nullptr;
      const json* type = t.is_object() ? field(t, "type") : nullptr;
      if (!type || !type->is_string() || type->get<std::string>() != "function" || !fn || !fn->is_object())
        bad("tools", "each tool must be {\"type\": \"function\", \"function\": {...}}");
      const json* name = field(*fn, "name");
      if (!name || !name->is_string() || name->get<std::string>().empty() || name->get<std::string>().size() > 64)
        bad("tools", "each function needs a 'name' of 1 to 64 characters");
      for (char c : name->get<std::string>())
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') bad("tools", "function names may contain only a-z, A-Z, 0-9, _ and -");
      if (const json* params = field(*fn, "parameters"); params && !params->is_object())
        bad("tools", "function 'parameters' must be a JSON Schema object", "invalid_type");
    }
  }
  const bool have_tools = r.chat.tools.is_array() && !r.chat.tools.empty();
  if (const json* tc = field(j, "tool_choice")) {
    if (tc->is_string()) {
      const std::string s = tc->get<std::string>();
      if (s == "auto") r.tool_choice = ToolChoice::kAuto;
      else if (s == "none") r.tool_choice = ToolChoice::kNone;
      else if (s == "required") r.tool_choice = ToolChoice::kRequired;
      else bad("tool_choice", "'tool_choice' must be none, auto, required or a function");
    } else if (tc->is_object()) {
      const json* fn = field(*tc, "function");
      const json* name = fn && fn->is_object() ? field(*fn, "name") : nullptr;
      if (!name || !name->is_string()) bad("tool_choice", "'tool_choice' needs function.name", "invalid_type");
      r.tool_choice = ToolChoice::kNamed;
      r.tool_name = name->get<std::string>();
      bool found = false;
      if (have_tools)
        for (const json& t : r.chat.tools) found = found || t["function"]["name"] == r.tool_name;
      if (!found) bad("tool_choice", fmt::format("tool_choice names '{}', which is not in 'tools'", r.tool_name));
    } else {
      bad("tool_choice", "'tool_choice' must be a string or an object", "invalid_type");
    }
    if (r.tool_choice == ToolChoice::kRequired && !have_tools) bad("tool_choice", "tool_choice 'required' needs 'tools'");
  }
  r.parallel_tool_calls = boolean(j, "parallel_tool_calls", true);
  if (const json* rf = field(j, "response_format")) {
    const json* type = rf->is_object() ? field(*rf, "type") : nullptr;
    if (!type || !type->is_string()) bad("response_format", "'response_format' needs a string 'type'", "invalid_type");
    const std::string t = type->get<std::string>();
    if (t == "json_object") {
      r.json_object = true;
    } else if (t == "json_schema") {
      // {"type": "json_schema", "json_schema": {"name", "schema", "strict", "description"}}.
      // The schema is always enforced (strict or not): a superset of what strict promises.
      const json* js = field(*rf, "json_schema");
      if (!js || !js->is_object()) bad("response_format", "response_format json_schema needs a 'json_schema' object", "invalid_type");
      const json* name = field(*js, "name");
      if (name && !name->is_string()) bad("response_format", "'json_schema.name' must be a string", "invalid_type");
      const json* strict = field(*js, "strict");
      if (strict && !strict->is_boolean() && !strict->is_null()) bad("response_format", "'json_schema.strict' must be a boolean", "invalid_type");
      const json* schema = field(*js, "schema");
      if (!schema || !(schema->is_object() || schema->is_boolean()))
        bad("response_format", "'json_schema.schema' must be a JSON Schema object", "invalid_type");
      try {
        r.grammar = compile_json_schema(schema->dump());
      } catch (const Error& e) {
        bad("response_format", e.what(), "unsupported_value");
      }
    } else if (t != "text") {
      bad("response_format", fmt::format("response_format '{}' is not supported (text, json_object, json_schema)", t), "unsupported_value");
    }
  }
  if ((r.json_object || r.grammar) && (r.tool_choice == ToolChoice::kRequired || r.tool_choice == ToolChoice::kNamed))
    bad("response_format", "response_format json_object or json_schema cannot be combined with a forced tool call");
  return r;
}

OpenAiCompletionRequest parse_completion_request(std::string_view body, const OpenAiLimits& limits) {
  const json j = parse_body(body);
  OpenAiCompletionRequest r;
  r.gen = parse_gen(j, limits, false);
  const json* p = field(j, "prompt");
  if (!p) bad("prompt", "'prompt' is required");
  if (p->is_array() && p->size() == 1 && (*p)[0].is_string()) p = &(*p)[0];
  if (!p->is_string()) bad("prompt", "'prompt' must be a string (or a list of one string)", "invalid_type");
  r.prompt = p->get<std::string>();
  check_string(r.prompt, "prompt", limits);
  if (field(j, "suffix")) bad("suffix", "'suffix' is not supported", "unsupported_value");
  return r;
}

std::string decode_data_uri(std::string_view uri, size_t max_bytes, std::string* mime) {
  if (uri.substr(0, 5) != "data:") bad("messages", "not a data: URI");
  const size_t comma = uri.find(',');
  if (comma == std::string_view::npos) bad("messages", "malformed data: URI (no comma)");
  std::string_view meta = uri.substr(5, comma - 5);
  const std::string_view payload = uri.substr(comma + 1);
  const bool base64 = meta.size() >= 7 && meta.substr(meta.size() - 7) == ";base64";
  if (!base64) bad("messages", "data: URIs must be base64-encoded");
  meta.remove_suffix(7);
  if (mime) *mime = std::string(meta.substr(0, meta.find(';')));
  if (payload.size() / 4 * 3 > max_bytes + 3)
    throw ApiError(413, fmt::format("media larger than {} bytes", max_bytes), "invalid_request_error", "media_too_large");
  std::string out;
  out.reserve(payload.size() / 4 * 3 + 3);
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (char c : payload) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+' || c == '-') v = 62;
    else if (c == '/' || c == '_') v = 63;
    else if (c == '=') {
      ++pad;
      continue;
    } else if (c == '\n' || c == '\r' || c == ' ') {
      continue;
    } else {
      bad("messages", "invalid character in base64 data");
    }
    if (pad) bad("messages", "base64 data continues after padding");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if (pad > 2 || bits >= 6) bad("messages", "truncated base64 data");
  if (out.size() > max_bytes)
    throw ApiError(413, fmt::format("media larger than {} bytes", max_bytes), "invalid_request_error", "media_too_large");
  if (out.empty()) bad("messages", "empty data: URI");
  return out;
}

}  // namespace pocket
