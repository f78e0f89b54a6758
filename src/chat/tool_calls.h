// Tool calls in generated text: an incremental parser that separates a model's normal
// content from the tool calls it writes, for the syntaxes chat templates teach.
//
// The runtime hands us decoded token text, in which control tokens such as [TOOL_CALLS]
// and [ARGS] appear as their literal strings, cut at arbitrary points. The parser is fed
// those pieces and reports, per piece, the new content and the calls (or errors) that
// completed in it; splitting the same text differently never changes the result.
//
//   pocket::ToolCallParser parser(pocket::ToolCallFormat::mistral_v13());
//   for (piece : stream) { auto r = parser.feed(piece); /* r.content, r.calls, r.errors */ }
//   auto tail = parser.finish();
//
// Feed only the generated text up to the stop token: the text of EOS (`</s>`) after a call
// would be reported as unexpected text. A marker's text that the model writes with
// ordinary tokens cannot be told from the control token here; inside a JSON string it is
// always treated as data.
//
// Mistral v13 (Ministral 3) writes `[TOOL_CALLS]name[ARGS]{json}` once per call, calls
// concatenated, after any content; ref: mistral-common experimental/tools.py
// (_split_content_and_tool_calls, _decode_tool_call_v11) and the v13 chat template.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/chat.h"
#include "sampling/grammar.h"
#include "tokenizer/tokenizer.h"

namespace pocket {

enum class ToolCallSyntax {
  // start marker, function name, [id marker, id,] arguments marker, JSON arguments object
  // (Mistral tokenizer v11+: `[TOOL_CALLS]name[ARGS]{...}`, `[TOOL_CALLS]name[CALL_ID]id[ARGS]{...}`).
  kNameThenArgs,
  // start marker, one JSON object {"name": ..., "arguments": {...}}, end marker
  // (Hermes / Qwen 2.5 / SmolLM-style `<tool_call>{...}</tool_call>`).
  kJsonObject,
};

// How one model family writes tool calls. New families are new values of this struct.
struct ToolCallFormat {
  std::string name;
  ToolCallSyntax syntax = ToolCallSyntax::kNameThenArgs;
  std::string call_start;  // opens every call
  std::string args_start;  // kNameThenArgs: between the name (or id) and the arguments
  std::string id_start;    // kNameThenArgs, optional: between the name and a model-written call id
  std::string call_end;    // optional: closes every call

  // Ministral 3 / Mistral Small 3.x v13: [TOOL_CALLS]name[ARGS]{...}, no call id.
  static ToolCallFormat mistral_v13();
  // Mistral tokenizer v11 (e.g. Mistral Small 3.2): also accepts [TOOL_CALLS]name[CALL_ID]id[ARGS]{...}.
  static ToolCallFormat mistral_v11();
  // <tool_call>{"name": ..., "arguments": {...}}</tool_call> (whitespace around the object allowed).
  static ToolCallFormat hermes();
  // Picks the format a chat template renders assistant tool calls in, from its source text,
  // the way llama.cpp's common/chat.cpp detects them; nullopt when none is recognised.
  static std::optional<ToolCallFormat> detect(std::string_view template_source);
  // The control texts this format writes (start, arguments, id, end; those it has), which the
  // parser must see in the generated text (GenerationParams::keep_control).
  std::vector<std::string> markers() const;
};

// A complete, valid call.
struct ToolCall {
  std::string id;  // generated (make_tool_call_id) unless the model wrote one ([CALL_ID])
  std::string name;
  nlohmann::ordered_json arguments = nlohmann::ordered_json::object();  // always an object
  std::string raw_arguments;  // the arguments text exactly as generated

  ChatToolCall to_chat() const;
  // OpenAI shape: {"id", "type": "function", "function": {"name", "arguments": raw string}}.
  nlohmann::ordered_json to_openai() const;
  bool operator==(const ToolCall&) const = default;
};

// A call the model started but wrote wrongly (bad name, invalid or non-object JSON, text
// where none may be, a limit exceeded). Parsing goes on with the next call.
struct ToolCallError {
  std::string message;
  std::string name;  // the call's name when it was read
  std::string raw;   // the offending text (at most ToolCallParserOptions::max_error_raw_bytes)
  bool operator==(const ToolCallError&) const = default;
};

struct ToolCallParseResult {
  std::string content;  // normal text (for Mistral: what precedes the first [TOOL_CALLS])
  std::vector<ToolCall> calls;
  std::vector<ToolCallError> errors;

  void append(ToolCallParseResult&& more);
  bool empty() const { return content.empty() && calls.empty() && errors.empty(); }
  // The assistant turn to put back into the conversation (content, possibly "", plus calls).
  ChatMessage to_assistant_message() const;
};

struct ToolCallParserOptions {
  uint64_t id_seed = 0;                        // ids are make_tool_call_id(id_seed, k) for the k-th call
  bool validate_names = true;                  // names must match ^[a-zA-Z0-9_-]{1,64}$
  size_t max_name_bytes = 64;                  // longer names are errors (and never buffered)
  size_t max_id_bytes = 64;                    // model-written ids ([CALL_ID])
  size_t max_argument_bytes = size_t{1} << 20;  // per call's JSON text
  int max_nesting = 128;                       // JSON arrays/objects inside the arguments
  size_t max_error_raw_bytes = 4096;           // ToolCallError::raw is cut to this
};

class ToolCallParser {
 public:
  explicit ToolCallParser(ToolCallFormat format = ToolCallFormat::mistral_v13(),
                          ToolCallParserOptions options = {});

  // Consumes the next piece of generated text. Content that might be the start of a marker
  // is held back until the next piece (or finish()) decides. Never throws on any input.
  ToolCallParseResult feed(std::string_view piece);
  // End of generation: flushes held-back content and reports an unfinished call as an error.
  // The parser is then ready for the next message; the id sequence continues.
  ToolCallParseResult finish();

  // True while inside a call (after its start marker), e.g. to stop streaming content.
  bool in_tool_call() const;
  // The current call's name and the arguments text so far (for streaming deltas). For
  // kJsonObject formats the name is only known when the object closes, and the "arguments"
  // so far are the whole object's text.
  std::string_view partial_name() const { return name_; }
  std::string_view partial_arguments() const { return raw_; }
  // The id the current call will be reported with (the model's own [CALL_ID] once written).
  std::string current_call_id() const;
  // Number of valid calls reported so far.
  uint64_t calls_reported() const { return n_calls_; }

 private:
  enum class State { kContent, kName, kCallId, kArgsStart, kArgs, kAfterCall, kTrailing, kSkip };
  enum Marker { kStart = 0, kArgsMark, kIdMark, kEnd, kNumMarkers };

  void push(char c);
  void plain(char c);
  bool watching(Marker m) const;
  void on_marker(Marker m);
  void interrupt();  // the current state ends because a marker or the end of text arrived
  void begin_call();
  void end_name();
  void json_byte(char c);
  void finish_arguments(bool container_closed);
  void emit_call(nlohmann::ordered_json arguments);
  void add_error(std::string message, std::string raw);
  void skip_rest();
  void reset_call();

  ToolCallFormat format_;
  ToolCallParserOptions opt_;
  std::string markers_[kNumMarkers];
  State state_ = State::kContent;
  std::string hold_;  // a proper prefix of a watched marker, not yet decided
  std::string name_, call_id_, raw_;
  std::string call_error_;  // the current call is already known to be invalid
  // Lexical state of the JSON arguments: open brackets, inside a string, after a backslash.
  std::string brackets_;
  bool container_ = false, in_string_ = false, escape_ = false;
  std::string trailing_;
  uint64_t n_calls_ = 0;
  ToolCallParseResult out_;
};

// One-shot: the whole generated text at once (same result as feeding it in any pieces).
ToolCallParseResult parse_tool_calls(std::string_view text,
                                     const ToolCallFormat& format = ToolCallFormat::mistral_v13(),
                                     const ToolCallParserOptions& options = {});

// A call the caller requires (OpenAI tool_choice "required" or a named function), forced the
// way llama.cpp's server forces it with a grammar: `prefix` (Pocket's own text, control tokens
// parsed) ends the prompt and opens the call, name included when it is known; else the model
// writes one of `choices` (a tool's name and what follows it); the arguments are then
// constrained to one JSON object, and `suffix` closes the call.
struct ForcedToolCall {
  std::string prefix;
  std::vector<std::string> choices;
  std::string suffix;
  // The arguments' grammar: one per choice, or one for a named tool; nullptr = any JSON object
  // (tool_arguments_grammar).
  std::vector<std::shared_ptr<const Grammar>> grammars;
};
// The grammar a call's arguments are held to: the function's `parameters` JSON Schema. A
// schema Pocket cannot enforce is an error for a `"strict": true` function (pocket::Error naming
// the keyword) and any JSON object otherwise (nullptr), as OpenAI holds only strict functions
// to their schema.
std::shared_ptr<const Grammar> tool_arguments_grammar(const nlohmann::ordered_json& function);

// tool_choice auto with `"strict": true` functions (or `always`: parallel_tool_calls false, which
// must know where a call ends): the model decides whether to call, and each call it opens (its
// `trigger`, the format's call marker) is then held to the tools' names (`choices`, the text
// after the marker up to the arguments) and that tool's arguments grammar; `suffix` closes a
// call. nullopt when no function is strict and not `always`. Throws pocket::Error when a strict
// schema cannot be enforced or the format's call marker is not a single token of `tok`.
struct TriggeredToolCalls {
  std::string trigger;
  std::vector<std::string> choices;
  std::vector<std::shared_ptr<const Grammar>> grammars;
  std::string suffix;
};
std::optional<TriggeredToolCalls> strict_tool_calls(const ToolCallFormat& f, const nlohmann::ordered_json& tools,
                                                    const Tokenizer& tok, bool always = false);
// `tools`: the request's OpenAI tool schemas; `name` "" = any of them (a single tool is then
// named). Throws pocket::Error when `name` is not among the tools.
ForcedToolCall force_tool_call(const ToolCallFormat& format, const nlohmann::ordered_json& tools, std::string name);

// Deterministic 9-character alphanumeric call id (the form mistral-common's validator
// requires, ^[a-zA-Z0-9]{9}$) for the index-th call under a seed.
std::string make_tool_call_id(uint64_t seed, uint64_t index);
bool is_valid_tool_call_id(std::string_view id);
// ^[a-zA-Z0-9_-]{1,64}$ (mistral-common validator; also OpenAI's rule for function names).
bool is_valid_tool_name(std::string_view name);

}  // namespace pocket
