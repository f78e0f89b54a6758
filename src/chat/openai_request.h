// OpenAI API request bodies (/v1/chat/completions, /v1/completions): parsed and validated
// completely before any work starts, so a malformed or over-limit request becomes an
// OpenAI-style error ({"error": {"message", "type", "param", "code"}}) and never reaches the
// model. Pure functions of the body text (no I/O), shared by the server and its fuzz target.
// ref: OpenAI API reference, "Create chat completion" / "Create completion".
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/chat.h"
#include "core/error.h"
#include "sampling/grammar.h"

namespace pocket {

// An error to send back: HTTP status plus OpenAI's error object fields.
class ApiError : public Error {
 public:
  ApiError(int status, std::string message, std::string type = "invalid_request_error", std::string code = "",
           std::string param = "");
  int status() const { return status_; }
  const std::string& type() const { return type_; }
  const std::string& code() const { return code_; }
  const std::string& param() const { return param_; }
  // {"error": {"message", "type", "param", "code"}} (param/code null when empty).
  std::string body() const;

 private:
  int status_;
  std::string type_, code_, param_;
};

struct OpenAiLimits {
  int64_t max_tokens = 4096;          // most tokens one request may ask for
  int64_t default_max_tokens = 256;   // when the request names none
  size_t max_messages = 512;
  size_t max_media = 16;              // image and video parts per request
  size_t max_stop = 4;                // OpenAI's own limit
  size_t max_stop_bytes = 256;
  size_t max_tools = 128;
  size_t max_n = 16;                  // choices per request (each takes a sequence slot or a queue place)
  size_t max_string_bytes = size_t{64} << 20;  // any text field (data URIs included)
};

struct MediaPart {
  bool video = false;
  std::string url;  // data:...;base64,..., http(s)://..., file path or file:// URL
  bool low_detail = false;  // image_url.detail "low" ("high"/"auto"/absent: the reference encoding)
};

enum class ToolChoice { kAuto, kNone, kRequired, kNamed };

// Sampling and stopping fields shared by both endpoints.
struct OpenAiGenerationParams {
  std::string model;
  int64_t max_tokens = 0;             // resolved: the request's value or the default
  double temperature = 1.0;           // OpenAI's default; 0 = greedy
  double top_p = 1.0;
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;
  bool stream = false;
  bool include_usage = false;         // stream_options.include_usage
  double presence_penalty = 0;        // OpenAI's, over the sampler's penalty window
  double frequency_penalty = 0;
  std::vector<std::pair<int32_t, float>> logit_bias;  // token id -> bias in [-100, 100]
  int logprobs = -1;                  // >= 0: log-probabilities with this many alternatives
  int n = 1;                          // choices, sampled independently from one prompt
  // Reasoning models: tokens a thinking block may hold (reasoning_effort or max_reasoning_tokens;
  // -1: no limit); absent: the model's own behaviour.
  std::optional<int64_t> max_reasoning_tokens;
  // Extensions (llama.cpp / vLLM names), off unless given:
  int64_t top_k = 0;
  double min_p = 0;
  double repetition_penalty = 1.0;
};

struct OpenAiChatRequest {
  OpenAiGenerationParams gen;
  ChatRequest chat;                   // messages (image/video parts typed "image"/"video") and tools
  std::vector<MediaPart> media;       // every image/video part, in prompt order
  ToolChoice tool_choice = ToolChoice::kAuto;
  std::string tool_name;              // kNamed
  bool parallel_tool_calls = true;    // false: at most one call
  bool json_object = false;           // response_format {"type": "json_object"}
  std::shared_ptr<const Grammar> grammar;  // response_format {"type": "json_schema"}, compiled
};

struct OpenAiCompletionRequest {
  OpenAiGenerationParams gen;
  std::string prompt;
};

// Both throw ApiError (status 400) naming the offending field.
OpenAiChatRequest parse_chat_request(std::string_view body, const OpenAiLimits& limits = {});
OpenAiCompletionRequest parse_completion_request(std::string_view body, const OpenAiLimits& limits = {});

// `data:[<mime>][;base64],<payload>` -> bytes (and the mime type). Throws ApiError 400 on a
// malformed URI, 413 when the decoded bytes would exceed max_bytes.
std::string decode_data_uri(std::string_view uri, size_t max_bytes, std::string* mime = nullptr);

}  // namespace pocket
