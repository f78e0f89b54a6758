// Answers a generation: one JSON body, or server-sent events in OpenAI's chunk format
// (`data: {...}\n\n` per chunk, ending with `data: [DONE]`). Both are written by a content
// provider on the HTTP worker thread while the scheduler generates; a failed write means the
// client went away, which cancels the generation. Non-streaming answers write a space (valid
// leading JSON whitespace) every half second while waiting, so a vanished client is noticed.
// ref: OpenAI API reference, chat.completion / chat.completion.chunk / text_completion objects.
#include <algorithm>
#include <chrono>

#include "apps/server/state.h"
#include "core/timer.h"

namespace pocket::server {

using json = nlohmann::ordered_json;

namespace {

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Usage of all choices: the prompt once (as OpenAI counts it; its first choice's cache), the
// completions summed.
json usage_json(const std::vector<std::shared_ptr<GenRequest>>& gens, bool reasoning) {
  int64_t completion = 0, thinking = 0;
  for (const auto& g : gens) completion += g->n_generated(), thinking += g->n_reasoning();
  const GenRequest& g = *gens.front();
  json u = json{{"prompt_tokens", g.n_prompt()},
                {"completion_tokens", completion},
                {"total_tokens", g.n_prompt() + completion},
                {"prompt_tokens_details", {{"cached_tokens", g.n_cached()}}}};
  if (reasoning) u["completion_tokens_details"] = {{"reasoning_tokens", thinking}};
  return u;
}

// One choice of an answer (n > 1 gives several): its generation and what its text became.
struct Choice {
  std::shared_ptr<GenRequest> gen;
  size_t index = 0;
  std::optional<ReasoningSplitter> splitter;  // reasoning models: thinking apart from the answer
  std::optional<ToolCallParser> parser;
  std::string content;            // non-streaming: all content
  std::string reasoning;          // thinking not yet sent (streaming) / all of it
  std::vector<ToolCall> calls;
  // Streaming: a call goes out as OpenAI streams it — index, id, type and name first, then its
  // arguments in fragments as they are generated. `open` = the current call's head was sent.
  struct {
    bool open = false;
    size_t index = 0;      // the next call's index in the stream
    size_t args_sent = 0;  // bytes of the open call's arguments already sent
  } streaming;
  std::vector<TokenLogprob> logprobs;  // taken from the request, not yet sent
  size_t logprob_offset = 0;           // completions' text_offset so far
  bool done = false;                   // all its text taken
  bool ended = false;                  // streaming: its finish chunk sent

  // Splits new text into thinking (onto `reasoning`), content (returned) and tool calls.
  std::string take_content(const std::string& text) { return answer(splitter ? splitter->feed(text) : Parts{"", text}, false); }
  // The same for the text held back at the end.
  std::string finish_content() { return answer(splitter ? splitter->finish() : Parts{}, true); }

 private:
  using Parts = ReasoningSplitter::Parts;
  std::string answer(Parts parts, bool final) {
    reasoning += parts.reasoning;
    if (!parser) return std::move(parts.content);
    ToolCallParseResult r = parser->feed(parts.content);
    for (ToolCall& c : r.calls) calls.push_back(std::move(c));
    if (!final) return std::move(r.content);
    ToolCallParseResult f = parser->finish();
    for (ToolCall& c : f.calls) calls.push_back(std::move(c));
    return std::move(r.content) + f.content;
  }

 public:
  std::string finish_reason() const {
    const std::string r = gen->finish_reason();
    if (!calls.empty()) return "tool_calls";
    return r == "length" ? "length" : "stop";
  }
};

// Per-request state shared by the provider calls.
struct Answer {
  ServerState* st = nullptr;
  Prepared p;
  std::string endpoint, id, model;
  int64_t created = 0;
  std::vector<Choice> choices;
  bool started = false;
  double last_write = 0;
  bool counted = false;

  json chunk_base() const {
    return json{{"id", id}, {"object", p.chat ? "chat.completion.chunk" : "text_completion"}, {"created", created},
                {"model", model}, {"system_fingerprint", "pocket"}};
  }
  json choice_delta(size_t index, json delta, const json& finish) const {
    json c = json{{"index", index}};
    if (p.chat) c["delta"] = std::move(delta);
    else c["text"] = delta.value("content", std::string());
    c["logprobs"] = nullptr;
    c["finish_reason"] = finish;
    return c;
  }
  void count(int status) {
    if (counted) return;
    counted = true;
    st->metrics.count_request(endpoint, status);
    int64_t generated = 0;
    for (const auto& g : p.gens) generated += g->n_generated();
    st->metrics.add_tokens(p.gens.front()->n_prompt(), generated);
  }
  // Waits up to `timeout_ms` for news of any unfinished choice; the text each produced goes to
  // texts[i]. True when every choice is done.
  bool wait(std::vector<std::string>& texts, int timeout_ms) {
    bool news = false;
    for (Choice& c : choices)
      if (!c.done) {
        c.done = c.gen->wait(texts[c.index], 0);
        news = news || c.done || !texts[c.index].empty();
      }
    if (!news)
      for (Choice& c : choices)
        if (!c.done) {
          c.done = c.gen->wait(texts[c.index], timeout_ms);
          break;
        }
    return std::all_of(choices.begin(), choices.end(), [](const Choice& c) { return c.done; });
  }
};

bool write(httplib::DataSink& sink, const std::string& s) { return sink.write(s.data(), s.size()); }

bool write_event(httplib::DataSink& sink, const json& j) { return write(sink, "data: " + dump(j) + "\n\n"); }

// OpenAI's logprobs objects for a choice's pending log-probabilities (then cleared): chat
// {"content": [{token, logprob, bytes, top_logprobs}]}; completions {"tokens", "token_logprobs",
// "top_logprobs", "text_offset"}.
json logprobs_json(const Answer& a, Choice& ch) {
  size_t& text_offset = ch.logprob_offset;
  const TokenPieces& pieces = a.st->engine->token_pieces();
  auto bytes = [](std::string_view s) {
    json b = json::array();
    for (unsigned char c : s) b.push_back(c);
    return b;
  };
  json out;
  if (a.p.chat) {
    json content = json::array();
    for (const TokenLogprob& t : ch.logprobs) {
      json top = json::array();
      for (const auto& [id, lp] : t.top)
        top.push_back(json{{"token", std::string(pieces.piece(id))}, {"logprob", lp}, {"bytes", bytes(pieces.piece(id))}});
      content.push_back(json{{"token", std::string(pieces.piece(t.id))}, {"logprob", t.logprob},
                             {"bytes", bytes(pieces.piece(t.id))}, {"top_logprobs", std::move(top)}});
    }
    out = json{{"content", std::move(content)}, {"refusal", nullptr}};
  } else {
    json tokens = json::array(), lps = json::array(), tops = json::array(), offsets = json::array();
    for (const TokenLogprob& t : ch.logprobs) {
      tokens.push_back(std::string(pieces.piece(t.id)));
      lps.push_back(t.logprob);
      json top = json::object();
      for (const auto& [id, lp] : t.top) top[std::string(pieces.piece(id))] = lp;
      tops.push_back(std::move(top));
      offsets.push_back(text_offset);
      text_offset += pieces.piece(t.id).size();
    }
    out = json{{"tokens", std::move(tokens)}, {"token_logprobs", std::move(lps)}, {"top_logprobs", std::move(tops)},
               {"text_offset", std::move(offsets)}};
  }
  ch.logprobs.clear();
  return out;
}

json tool_call_delta(const ToolCall& c, size_t index) {
  json j = c.to_openai();
  j["index"] = index;
  return j;
}

// The tool-call deltas this step adds: the rest of a call that was being streamed, whole calls
// that completed unseen (formats whose name comes last), then the head and new arguments of
// the call now being generated (name-then-arguments formats, once its arguments began).
std::vector<json> tool_call_deltas(Choice& a, size_t calls_before) {
  std::vector<json> out;
  auto& s = a.streaming;
  for (size_t i = calls_before; i < a.calls.size(); ++i) {
    const ToolCall& c = a.calls[i];
    if (s.open) {  // the call that was streaming has ended: its last fragment
      s.open = false;
      const std::string& raw = c.raw_arguments;
      if (s.args_sent < raw.size())
        out.push_back(json{{"index", s.index}, {"function", {{"arguments", raw.substr(s.args_sent)}}}});
      ++s.index;
      continue;
    }
    out.push_back(tool_call_delta(c, s.index++));
  }
  const ToolCallParser& p = *a.parser;
  const bool generating = p.in_tool_call() && !p.partial_name().empty() && !p.partial_arguments().empty();
  if (s.open && !generating && a.calls.size() == calls_before) {
    s.open = false;  // the streamed call turned out invalid (an error, not a call): move on
    ++s.index;
  }
  if (!generating) return out;
  if (!s.open) {
    s.open = true;
    s.args_sent = 0;
    out.push_back(json{{"index", s.index}, {"id", p.current_call_id()}, {"type", "function"},
                       {"function", {{"name", std::string(p.partial_name())}, {"arguments", ""}}}});
  }
  const std::string_view args = p.partial_arguments();
  if (args.size() > s.args_sent) {
    out.push_back(json{{"index", s.index}, {"function", {{"arguments", std::string(args.substr(s.args_sent))}}}});
    s.args_sent = args.size();
  }
  return out;
}

// A generation that failed or was cancelled ends the answer with an error body (framed by
// `before`/`after`); true when it did.
bool failed(Answer& a, httplib::DataSink& sink, const char* before, const char* after) {
  const GenRequest* bad = nullptr;
  for (const Choice& c : a.choices) {
    const std::string r = c.gen->finish_reason();
    if (c.done && (r == "error" || (r == "cancelled" && !bad))) bad = c.gen.get();
  }
  if (!bad) return false;
  const std::string reason = bad->finish_reason();
  const bool error = reason == "error";
  const ApiError err(error ? 500 : 503, error ? bad->error() : "generation cancelled",
                     error ? "server_error" : "unavailable", reason);
  write(sink, before + err.body() + after);
  a.count(error ? 500 : 503);
  sink.done();
  return true;
}

// One provider call: waits briefly for text and streams it; false = stop (client gone). Each
// choice's chunks carry its index; a choice ends with its own finish chunk.
bool stream_step(Answer& a, httplib::DataSink& sink) {
  if (!a.started) {
    a.started = true;
    if (a.p.chat) {
      json c = a.chunk_base();
      c["choices"] = json::array();
      for (const Choice& ch : a.choices)
        c["choices"].push_back(a.choice_delta(ch.index, json{{"role", "assistant"}, {"content", ""}}, nullptr));
      if (!write_event(sink, c)) return false;
    }
  }
  std::vector<std::string> texts(a.choices.size());
  const bool all_done = a.wait(texts, 100);
  bool wrote = false;
  for (Choice& ch : a.choices) {
    if (ch.ended) continue;
    const std::string& text = texts[ch.index];
    const bool want_logprobs = ch.gen->params.top_logprobs >= 0;
    if (want_logprobs) ch.gen->take_logprobs(ch.logprobs);
    const size_t calls_before = ch.calls.size();
    std::string content = ch.take_content(text);
    if (ch.done) content += ch.finish_content();
    if (!ch.reasoning.empty()) {
      json c = a.chunk_base();
      c["choices"] = json::array({a.choice_delta(ch.index, json{{"reasoning_content", ch.reasoning}}, nullptr)});
      ch.reasoning.clear();
      if (!write_event(sink, c)) return false;
      wrote = true;
    }
    // The tokens' log-probabilities ride on the next chunk that has content (or the last one).
    if (!content.empty() || (ch.done && !ch.logprobs.empty())) {
      json c = a.chunk_base();
      c["choices"] = json::array({a.choice_delta(ch.index, json{{"content", content}}, nullptr)});
      if (want_logprobs && !ch.logprobs.empty()) c["choices"][0]["logprobs"] = logprobs_json(a, ch);
      if (!write_event(sink, c)) return false;
      wrote = true;
    }
    if (ch.parser) {
      for (json& d : tool_call_deltas(ch, calls_before)) {
        json c = a.chunk_base();
        c["choices"] = json::array({a.choice_delta(ch.index, json{{"tool_calls", json::array({std::move(d)})}}, nullptr)});
        if (!write_event(sink, c)) return false;
        wrote = true;
      }
    }
    const std::string r = ch.gen->finish_reason();
    if (ch.done && r != "error" && r != "cancelled") {
      ch.ended = true;
      json c = a.chunk_base();
      c["choices"] = json::array({a.choice_delta(ch.index, json::object(), ch.finish_reason())});
      if (!write_event(sink, c)) return false;
      wrote = true;
    }
  }
  if (!all_done) {
    // An empty SSE comment line probes the connection while nothing is produced.
    if (!wrote && now_seconds() - a.last_write > 0.5) {
      a.last_write = now_seconds();
      return write(sink, ":\n\n");
    }
    return true;
  }
  if (failed(a, sink, "data: ", "\n\n")) return true;
  if (a.p.params.include_usage) {
    json u = a.chunk_base();
    u["choices"] = json::array();
    u["usage"] = usage_json(a.p.gens, a.p.reasoning.has_value());
    if (!write_event(sink, u)) return false;
  }
  if (!write(sink, "data: [DONE]\n\n")) return false;
  a.count(200);
  sink.done();
  return true;
}

bool json_step(Answer& a, httplib::DataSink& sink) {
  std::vector<std::string> texts(a.choices.size());
  const bool all_done = a.wait(texts, 100);
  for (Choice& ch : a.choices) ch.content += ch.take_content(texts[ch.index]);
  if (!all_done) {
    if (now_seconds() - a.last_write > 0.5) {
      a.last_write = now_seconds();
      return write(sink, " ");
    }
    return true;
  }
  for (Choice& ch : a.choices) ch.content += ch.finish_content();
  if (failed(a, sink, "", "")) return true;
  json body = json{{"id", a.id}, {"object", a.p.chat ? "chat.completion" : "text_completion"}, {"created", a.created},
                   {"model", a.model}, {"system_fingerprint", "pocket"}};
  body["choices"] = json::array();
  for (Choice& ch : a.choices) {
    json choice = json{{"index", ch.index}};
    if (a.p.chat) {
      json msg = json{{"role", "assistant"}};
      msg["content"] = ch.content.empty() && !ch.calls.empty() ? json(nullptr) : json(ch.content);
      if (!ch.reasoning.empty()) msg["reasoning_content"] = ch.reasoning;
      if (!ch.calls.empty()) {
        json calls = json::array();
        for (const ToolCall& c : ch.calls) calls.push_back(c.to_openai());
        msg["tool_calls"] = std::move(calls);
      }
      msg["refusal"] = nullptr;
      choice["message"] = std::move(msg);
    } else {
      choice["text"] = ch.content;
    }
    if (ch.gen->params.top_logprobs >= 0) {
      ch.gen->take_logprobs(ch.logprobs);
      choice["logprobs"] = logprobs_json(a, ch);
    } else {
      choice["logprobs"] = nullptr;
    }
    choice["finish_reason"] = ch.finish_reason();
    body["choices"].push_back(std::move(choice));
  }
  body["usage"] = usage_json(a.p.gens, a.p.reasoning.has_value());
  if (!write(sink, dump(body))) return false;
  a.count(200);
  sink.done();
  return true;
}

}  // namespace

void respond(ServerState& st, httplib::Response& res, Prepared p, const std::string& endpoint) {
  auto a = std::make_shared<Answer>();
  a->st = &st;
  a->endpoint = endpoint;
  const uint64_t n = st.next_id.fetch_add(1);
  a->id = fmt::format("{}-{:016x}{:08x}", p.chat ? "chatcmpl" : "cmpl", static_cast<uint64_t>(st.created), n);
  a->model = p.params.model.empty() ? st.opt.model_id : p.params.model;
  a->created = static_cast<int64_t>(std::time(nullptr));
  a->last_write = now_seconds();
  for (size_t i = 0; i < p.gens.size(); ++i) {
    Choice ch;
    ch.gen = p.gens[i];
    ch.index = i;
    if (p.reasoning)
      ch.splitter.emplace(*p.reasoning, std::vector<std::string>{p.parse_tools ? p.format.call_start : ""}, p.starts_thinking);
    if (p.parse_tools) {
      ToolCallParserOptions po;
      po.id_seed = ((static_cast<uint64_t>(st.created) << 20) ^ n) + (static_cast<uint64_t>(i) << 56);
      ch.parser.emplace(p.format, po);
      if (!p.forced_prefix.empty()) ch.content += ch.take_content(p.forced_prefix);
    }
    a->choices.push_back(std::move(ch));
  }
  a->p = std::move(p);
  // All choices or none: a request is never answered with fewer choices than it asked for.
  for (size_t i = 0; i < a->p.gens.size(); ++i) {
    if (st.sched->submit(a->p.gens[i])) continue;
    for (size_t j = 0; j < i; ++j) a->p.gens[j]->cancel = true;
    if (st.draining) {
      send_error(st, res, endpoint, ApiError(503, "the server is shutting down", "unavailable", "shutting_down"));
    } else {
      res.set_header("Retry-After", "1");
      send_error(st, res, endpoint,
                 ApiError(429, "too many requests are waiting; retry shortly", "rate_limit_error", "queue_full"));
    }
    return;
  }
  const bool stream = a->p.params.stream;
  res.status = 200;
  if (stream) {
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no");
  }
  res.set_chunked_content_provider(
      stream ? "text/event-stream" : "application/json",
      [a, stream](size_t, httplib::DataSink& sink) { return stream ? stream_step(*a, sink) : json_step(*a, sink); },
      [a](bool) {
        // Whatever ended the response (done, write failure, server stop), the generation
        // must not outlive it.
        for (const auto& g : a->p.gens) g->cancel = true;
        a->count(499);  // no-op when already counted; 499 = client closed the request
      });
}

}  // namespace pocket::server
