// C API, session half: one conversation per pocket_session, held by runtime/Conversation (the
// class `pocket run` talks through), so the library builds prompts and generates exactly as
// the CLI does (include/pocket.h).
#include <cmath>
#include <filesystem>
#include <limits>
#include <span>

#include <nlohmann/json.hpp>

#include "api/api_internal.h"
#include "media/video_smolvlm.h"
#include "sampling/json_schema.h"

using namespace pocket;
using namespace pocket::api;

namespace {

pocket_status session_guard(pocket_session* s, pocket_status failure, const auto& fn) {
  return guard(s ? &s->error : nullptr, nullptr, failure, [&] {
    POCKET_API_REQUIRE(s != nullptr, POCKET_ERR_INVALID_ARGUMENT, "NULL session");
    fn();
  });
}

void require_file(const char* path, const char* what) {
  POCKET_API_REQUIRE(path != nullptr && *path != '\0', POCKET_ERR_INVALID_ARGUMENT, std::string(what) + ": no path");
  std::error_code ec;
  POCKET_API_REQUIRE(std::filesystem::is_regular_file(path, ec), POCKET_ERR_IO,
                     std::string(what) + ": no such file: " + path);
}

const VisionEncoder& vision_of(const pocket_session* s) {
  POCKET_API_REQUIRE(s->model->vision != nullptr, POCKET_ERR_UNSUPPORTED,
                     "this model has no vision projector: load it with pocket_model_params.mmproj");
  return *s->model->vision;
}

// A pocket::Error while decoding media is bad media; the conversation's own checks (no user
// message yet) are bad requests.
void add_media(const auto& decode_and_add) {
  try {
    decode_and_add();
  } catch (const pocket::Error& e) {
    refuse(POCKET_ERR_MEDIA, e.what());
  }
}

void check_sampling(const pocket_generate_params& p) {
  const auto bad = [](const char* name, const char* rule) {
    refuse(POCKET_ERR_INVALID_ARGUMENT, std::string(name) + " " + rule);
  };
  if (p.max_tokens < -1) bad("max_tokens", "must be -1 (unbounded) or >= 0");
  if (!std::isfinite(p.temperature) || p.temperature < 0) bad("temperature", "must be a finite number >= 0");
  if (p.top_k < 0) bad("top_k", "must be >= 0");
  if (!(p.top_p >= 0 && p.top_p <= 1)) bad("top_p", "must be in [0, 1]");
  if (!(p.min_p >= 0 && p.min_p <= 1)) bad("min_p", "must be in [0, 1]");
  if (!std::isfinite(p.repeat_penalty) || p.repeat_penalty <= 0) bad("repeat_penalty", "must be a finite number > 0");
  if (p.repeat_last_n < -1) bad("repeat_last_n", "must be -1 (all) or >= 0");
  if (p.n_stop > 0 && p.stop == nullptr) bad("stop", "is NULL with n_stop > 0");
  for (size_t i = 0; i < p.n_stop; ++i)
    if (p.stop[i] == nullptr || *p.stop[i] == '\0') bad("stop", "holds a NULL or empty string");
  if (p.completion != 0 && p.json_object != 0) bad("json_object", "needs a chat reply, not a completion");
  if (p.completion != 0 && p.json_schema != nullptr) bad("json_schema", "needs a chat reply, not a completion");
  if (p.completion != 0 && p.tool_choice != nullptr) bad("tool_choice", "needs a chat reply, not a completion");
}

}  // namespace

extern "C" {

void pocket_session_default_params(pocket_session_params* params) {
  if (params == nullptr) return;
  *params = pocket_session_params{};
  params->size = sizeof(pocket_session_params);
}

pocket_status pocket_session_create(pocket_model* model, const pocket_session_params* params, pocket_session** out) {
  return model_guard(model, POCKET_ERR_REQUEST, [&] {
    POCKET_API_REQUIRE(out != nullptr, POCKET_ERR_INVALID_ARGUMENT, "pocket_session_create: out is NULL");
    *out = nullptr;
    POCKET_API_REQUIRE(model != nullptr, POCKET_ERR_INVALID_ARGUMENT, "pocket_session_create: NULL model");
    pocket_session_params p;
    read_params(params, p, pocket_session_default_params, sizeof(pocket_session_params), "pocket_session_params");
    POCKET_API_REQUIRE(p.n_ctx >= 0 && p.n_batch >= 0, POCKET_ERR_INVALID_ARGUMENT, "n_ctx and n_batch must be >= 0");
    auto s = std::make_unique<pocket_session>();
    s->model = model;
    s->pool = std::make_unique<ThreadPool>(model->engine->pool().size());  // the load's thread count
    SessionOptions so;
    so.n_ctx = p.n_ctx > 0 ? p.n_ctx : model->n_ctx;
    if (p.n_batch > 0) so.n_batch = p.n_batch;
    so.pool = s->pool.get();
    s->conversation = std::make_unique<Conversation>(*model->engine, model->vision.get(), so);
    model->n_sessions.fetch_add(1);
    *out = s.release();
  });
}

void pocket_session_free(pocket_session* session) {
  if (session == nullptr) return;
  session->model->n_sessions.fetch_sub(1);
  delete session;
}

const char* pocket_session_error(const pocket_session* session) { return session ? session->error.c_str() : ""; }

pocket_status pocket_session_set_system(pocket_session* session, const char* text) {
  return session_guard(session, POCKET_ERR_REQUEST, [&] { session->conversation->set_system(text ? text : ""); });
}

pocket_status pocket_session_set_tools(pocket_session* session, const char* tools_json) {
  return session_guard(session, POCKET_ERR_REQUEST, [&] {
    nlohmann::ordered_json tools;
    if (tools_json != nullptr && *tools_json != '\0') {
      tools = nlohmann::ordered_json::parse(tools_json, nullptr, false);
      POCKET_API_REQUIRE(!tools.is_discarded(), POCKET_ERR_REQUEST, "tools: not valid JSON");
      POCKET_API_REQUIRE(tools.is_array(), POCKET_ERR_REQUEST, "tools: must be a JSON array of tool schemas");
    }
    session->conversation->set_tools(std::move(tools));
  });
}

pocket_status pocket_session_add_message(pocket_session* session, const char* role, const char* text) {
  return session_guard(session, POCKET_ERR_REQUEST, [&] {
    POCKET_API_REQUIRE(role != nullptr && text != nullptr, POCKET_ERR_INVALID_ARGUMENT,
                       "pocket_session_add_message: NULL role or text");
    session->conversation->add_message(role, text);
  });
}

pocket_status pocket_session_add_tool_result(pocket_session* session, const char* tool_call_id, const char* content) {
  return session_guard(session, POCKET_ERR_REQUEST, [&] {
    POCKET_API_REQUIRE(tool_call_id != nullptr && content != nullptr, POCKET_ERR_INVALID_ARGUMENT,
                       "pocket_session_add_tool_result: NULL tool_call_id or content");
    session->conversation->add_tool_result(tool_call_id, content);
  });
}

pocket_status pocket_session_add_image_file(pocket_session* session, const char* path) {
  return session_guard(session, POCKET_ERR_REQUEST, [&] {
    const VisionEncoder& v = vision_of(session);
    require_file(path, "pocket_session_add_image_file");
    Image im;
    add_media([&] { im = v.load_image_file(path); });
    session->conversation->add_image(std::move(im));
  });
}

pocket_status pocket_session_add_image_bytes(pocket_session* session, const void* data, size_t n_bytes) {
  return session_guard(session, POCKET_ERR_REQUEST, [&] {
    const VisionEncoder& v = vision_of(session);
    POCKET_API_REQUIRE(data != nullptr && n_bytes > 0, POCKET_ERR_INVALID_ARGUMENT,
                       "pocket_session_add_image_bytes: no data");
    Image im;
    add_media([&] { im = v.load_image(std::span(static_cast<const uint8_t*>(data), n_bytes)); });
    session->conversation->add_image(std::move(im));
  });
}

pocket_status pocket_session_add_image_rgb(pocket_session* session, const uint8_t* rgb, int32_t width, int32_t height,
                                           size_t n_bytes) {
  return session_guard(session, POCKET_ERR_REQUEST, [&] {
    vision_of(session);
    POCKET_API_REQUIRE(rgb != nullptr, POCKET_ERR_INVALID_ARGUMENT, "pocket_session_add_image_rgb: NULL pixels");
    // The decoders' own limit (media/image.h DecodeLimits): no larger picture is accepted anywhere.
    constexpr uint64_t kMaxPixels = DecodeLimits{}.max_pixels;
    POCKET_API_REQUIRE(width > 0 && height > 0 && uint64_t(width) * uint64_t(height) <= kMaxPixels,
                       POCKET_ERR_MEDIA,
                       "pocket_session_add_image_rgb: " + std::to_string(width) + "x" + std::to_string(height) +
                           " is not a size an image can have (at most " + std::to_string(kMaxPixels) + " pixels)");
    const uint64_t need = uint64_t(width) * uint64_t(height) * 3;
    POCKET_API_REQUIRE(n_bytes == need, POCKET_ERR_MEDIA,
                       "pocket_session_add_image_rgb: " + std::to_string(width) + "x" + std::to_string(height) +
                           " RGB is " + std::to_string(need) + " bytes, not " + std::to_string(n_bytes));
    Image im = make_image(width, height, PixelMode::RGB);
    std::memcpy(im.pixels.data(), rgb, need);
    session->conversation->add_image(std::move(im));
  });
}

pocket_status pocket_session_add_video_file(pocket_session* session, const char* path) {
  return session_guard(session, POCKET_ERR_REQUEST, [&] {
    const VisionEncoder& v = vision_of(session);
    POCKET_API_REQUIRE(v.takes_video(), POCKET_ERR_UNSUPPORTED, "this model's vision family takes no video");
    require_file(path, "pocket_session_add_video_file");
    SmolVlmVideo video;
    add_media([&] {
      SmolVlmVideoParams vp = v.video_params();
      vp.sampling.target_fps = 1.0;
      vp.sampling.max_frames = 64;
      video = smolvlm_prepare_video_file(path, vp);
    });
    session->conversation->add_video(std::move(video));
  });
}

pocket_status pocket_session_clear(pocket_session* session) {
  return session_guard(session, POCKET_ERR_REQUEST, [&] { session->conversation->clear(); });
}

void pocket_generate_default_params(pocket_generate_params* params) {
  if (params == nullptr) return;
  *params = pocket_generate_params{};
  params->size = sizeof(pocket_generate_params);
  const SamplerParams sp;
  params->max_tokens = 256;
  params->temperature = sp.temperature;
  params->top_k = sp.top_k;
  params->top_p = sp.top_p;
  params->min_p = sp.min_p;
  params->repeat_penalty = sp.repeat_penalty;
  params->repeat_last_n = sp.repeat_last_n;
  params->seed = sp.seed;
}

pocket_status pocket_session_generate(pocket_session* session, const pocket_generate_params* params,
                                      pocket_result* result) {
  const pocket_status st = session_guard(session, POCKET_ERR_REQUEST, [&] {
    pocket_generate_params p;
    read_params(params, p, pocket_generate_default_params, sizeof(pocket_generate_params), "pocket_generate_params");
    check_sampling(p);
    if (result != nullptr)  // checked before the work, not after it
      POCKET_API_REQUIRE(result->size >= sizeof(size_t) + 8, POCKET_ERR_INVALID_ARGUMENT,
                         "pocket_result.size is not set: set it to sizeof(pocket_result)");
    GenerateOptions go;
    go.max_tokens = p.max_tokens;
    go.sampling.temperature = p.temperature;
    go.sampling.top_k = p.top_k;
    go.sampling.top_p = p.top_p;
    go.sampling.min_p = p.min_p;
    go.sampling.repeat_penalty = p.repeat_penalty;
    go.sampling.repeat_last_n = p.repeat_last_n;
    go.sampling.seed = p.seed;
    for (size_t i = 0; i < p.n_stop; ++i) go.stop.emplace_back(p.stop[i]);
    go.json_object = p.json_object != 0;
    if (p.json_schema != nullptr) {
      // Text that is not JSON is the caller's mistake; a schema Pocket cannot enforce is a limit.
      if (!nlohmann::json::accept(p.json_schema)) refuse(POCKET_ERR_INVALID_ARGUMENT, "json_schema is not valid JSON");
      try {
        go.grammar = compile_json_schema(p.json_schema);
      } catch (const pocket::Error& e) {
        refuse(POCKET_ERR_UNSUPPORTED, e.what());
      }
    }
    go.print_control = p.print_special != 0;
    go.cancel = &session->cancel;
    if (p.on_text != nullptr)
      go.on_text = [&p](std::string_view piece) { return p.on_text(piece.data(), piece.size(), p.user_data) != 0; };
    Conversation& c = *session->conversation;
    Conversation::Reply r;
    if (p.completion != 0) {
      const auto& m = c.messages();
      POCKET_API_REQUIRE(m.size() == 1 && m[0].text.has_value(), POCKET_ERR_REQUEST,
                         "completion: the session must hold exactly one message, without media (its raw text)");
      r = c.complete(*m[0].text, go);
    } else {
      r = c.reply(go, p.tool_choice != nullptr ? p.tool_choice : "auto");
    }
    session->cancel.store(false);
    session->text = std::move(r.content);
    nlohmann::ordered_json calls = nlohmann::ordered_json::array();
    for (const ToolCall& call : r.tool_calls) calls.push_back(call.to_openai());
    session->tool_calls_json = calls.dump();
    session->finish_reason = r.gen.stop_reason;
    if (result == nullptr) return;
    pocket_result full{};
    full.size = sizeof(full);
    full.text = session->text.c_str();
    full.text_len = session->text.size();
    full.tool_calls_json = session->tool_calls_json.c_str();
    full.finish_reason = session->finish_reason.c_str();
    full.n_prompt_tokens = r.n_prompt_tokens;
    full.n_image_tokens = r.n_image_tokens;
    full.n_generated_tokens = static_cast<int64_t>(r.gen.tokens.size());
    full.encode_seconds = r.encode_seconds;
    full.prefill_seconds = r.gen.prefill_seconds;
    full.decode_seconds = r.gen.decode_seconds;
    write_result(full, result, "pocket_result");
  });
  if (st != POCKET_OK && session != nullptr) session->cancel.store(false);
  return st;
}

void pocket_session_cancel(pocket_session* session) {
  if (session != nullptr) session->cancel.store(true);
}

}  // extern "C"
