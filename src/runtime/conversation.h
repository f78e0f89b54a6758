// One chat as an application holds it: a system prompt, tools, messages with their images
// and videos, and the assistant turns it generated. Each reply renders the whole conversation
// through the one prompt builder (runtime/prompt.h) and generates through Session::generate,
// the one generation loop; with tools, the reply's tool calls are parsed (chat/tool_calls.h)
// and the assistant turn goes back into the history with them. `pocket run` and the C
// library's session (include/pocket.h, src/api/) both talk through this class.
//
//   Conversation c(engine, vision.get(), {.n_ctx = 4096});
//   c.add_message("user", "What is in this image?");
//   c.add_image(vision->load_image_file("cat.jpg"));
//   Conversation::Reply r = c.reply(options);      // r.content, r.tool_calls, r.gen.stop_reason
//
// Every reply prefills the rendered conversation from position 0: a template may render
// earlier turns differently once a later one exists, and image rows sit behind identical
// placeholder ids, so a token-prefix match could not tell two images apart.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/chat.h"
#include "chat/tool_calls.h"
#include "runtime/engine.h"
#include "runtime/prompt.h"
#include "vision/vision_encoder.h"

namespace pocket {

// How a reply's tool calls are held, for every front end (Conversation: `pocket run` and the C
// library; the server's prepare step):
//   forced (tool_choice "required" or a tool's name): `prefix` opens the call at the end of the
//     prompt; the model writes one of `choices` (the names), then that tool's arguments under
//     its schema (`grammars`), and `suffix` closes the call;
//   auto with strict functions, or `one_call` (parallel_tool_calls false): each call the model
//     opens with `trigger` follows the names and schemas; with one_call the reply ends after it;
//   otherwise nothing is constrained.
// The format's markers are kept in the text for the parser in every case.
struct ToolCallPlan {
  bool forced = false;
  std::string prefix, trigger, suffix;
  std::vector<std::string> choices;
  std::vector<std::shared_ptr<const Grammar>> grammars;
  int max_calls = 0;
  std::vector<std::string> markers;

  void apply(GenerationParams& p) const;
};
// forced_name: nullopt = auto, "" = any tool (required), else that tool. Throws pocket::Error
// (an unknown name, an unenforceable strict schema, a call marker that is not one token).
ToolCallPlan plan_tool_calls(const ToolCallFormat& f, const nlohmann::ordered_json& tools,
                             const std::optional<std::string>& forced_name, bool one_call, const Tokenizer& tok);

class Conversation {
 public:
  // `vision` may be null (text only); both must outlive the conversation.
  Conversation(Engine& engine, const VisionEncoder* vision, const SessionOptions& opt = {});

  void set_system(std::string text);                // "" = no system message
  void set_tools(nlohmann::ordered_json tools);     // a JSON array of tool schemas, or null
  void set_template(std::string source);            // replaces the model's chat template; "" = the model's
  // role: "user", "assistant", "system" or "tool" (throws pocket::Error otherwise).
  void add_message(const std::string& role, std::string text);
  // A tool's result for the call `call_id` of an earlier assistant turn (its name is taken from
  // that call); throws pocket::Error when no call has that id.
  void add_tool_result(const std::string& call_id, std::string text);
  // Media belong to the last user message and sit before its text, videos first, the order the
  // reference processors place them in (runtime/prompt.h user_turn). Throws pocket::Error without
  // a vision projector, without a user message, or (video) for a family without video.
  // `detail`: how much of the image to encode (vision/vision_encoder.h; checked here).
  void add_image(Image image, const ImageDetail& detail = {});
  void add_video(SmolVlmVideo video);
  // Called after each tile (or image) the next reply encodes; a re-sent image is not encoded
  // again (the encoder's embedding cache).
  void set_progress(EncodeProgress progress) { media_.progress = std::move(progress); }
  // Forgets the messages and their media (system prompt and tools stay).
  void clear();

  struct Reply {
    GenerateResult gen;              // the raw generated text, tokens, stop reason and timings
    std::string content;             // gen.text less the tool calls
    std::vector<ToolCall> tool_calls;
    std::vector<ToolCallError> tool_call_errors;
    int64_t n_prompt_tokens = 0, n_image_tokens = 0, n_tiles = 0;
    double encode_seconds = 0;
  };
  // Renders the conversation with a generation prompt, generates the assistant turn and
  // appends it (content and tool calls) to the history. A cancelled or failed reply leaves the
  // history as it was, and so does an empty one (no content, no call), which Mistral's
  // templates would refuse on the next render. `tool_choice` as OpenAI's: "auto" (the model
  // decides; calls are parsed), "none" (no parsing), "required" (a call to one of the tools)
  // or a tool's name (a call to it); the last two are forced (chat/tool_calls.h force_tool_call).
  Reply reply(GenerateOptions options, const std::string& tool_choice = "auto");
  // Completion: `text` tokenized as it is (BOS as the vocabulary asks, special tokens parsed),
  // no template and no history, as llama.cpp completes a prompt.
  Reply complete(const std::string& text, GenerateOptions options);

  const std::vector<ChatMessage>& messages() const { return messages_; }
  const VisionEncoder* vision() const { return vision_; }
  // The tool-call syntax of the chat template, when tools are set and the template has one.
  const std::optional<ToolCallFormat>& tool_format() const { return tool_format_; }

 private:
  ChatMessage& last_user();
  Reply run(const Prompt& prompt, GenerateOptions& options);

  Engine& engine_;
  const VisionEncoder* vision_;
  Session session_;
  std::string system_, template_;
  nlohmann::ordered_json tools_;
  std::optional<ToolCallFormat> tool_format_;
  std::vector<ChatMessage> messages_;
  PromptMedia media_;              // every message's media, in conversation order
  uint64_t n_replies_ = 0;         // seeds the tool-call ids
};

}  // namespace pocket
