// C API, process and model half: status names, versions, errors, loading, model info and
// the tokenizer (include/pocket.h). Every entry point runs in guard(): no exception leaves.
#include <cmath>
#include <filesystem>
#include <limits>

#include "api/api_internal.h"
#include "models/hf_checkpoint.h"
#include "quant/types.h"
#include "runtime/model_ref.h"
#include "runtime/prompt.h"
#include "vision/checkpoint.h"

#ifndef POCKET_VERSION_STRING
#define POCKET_VERSION_STRING "0.0.0"
#endif

namespace pocket::api {

namespace {
thread_local std::string t_last_error;
}

void refuse(pocket_status status, std::string message) { throw ApiError{status, std::move(message)}; }

void record(std::string* handle_error, std::mutex* lock, const std::string& message) {
  t_last_error = message;
  if (handle_error == nullptr) return;
  if (lock != nullptr) {
    std::lock_guard<std::mutex> g(*lock);
    *handle_error = message;
  } else {
    *handle_error = message;
  }
}

namespace {

bool path_exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

std::unique_ptr<pocket_model> load_model(const std::string& spec, const pocket_model_params& p) {
  POCKET_API_REQUIRE(p.n_threads >= 0 && p.n_threads <= 1024, POCKET_ERR_INVALID_ARGUMENT,
                     "n_threads must be 0 (every core) to 1024");
  POCKET_API_REQUIRE(p.n_ctx >= 0, POCKET_ERR_INVALID_ARGUMENT, "n_ctx must be >= 0 (0 = 4096)");
  EngineOptions eo;
  eo.n_threads = p.n_threads;
  if (p.quant != nullptr) {
    const auto q = dtype_from_name(p.quant);
    POCKET_API_REQUIRE(q.has_value(), POCKET_ERR_INVALID_ARGUMENT, std::string("quant: unknown type '") + p.quant + "'");
    eo.quant = *q;
  }
  ResolvedModel where;
  try {
    where = resolve_model(spec, ResolveOptions{.offline = p.allow_download == 0, .quiet = true});
  } catch (const pocket::Error& e) {
    refuse(POCKET_ERR_IO, e.what());
  }
  POCKET_API_REQUIRE(path_exists(where.model_path), POCKET_ERR_IO, "no such file or folder: " + where.model_path);
  // Honoured or refused, never dropped: a GGUF file keeps the types it was written with.
  POCKET_API_REQUIRE(p.quant == nullptr || is_checkpoint_dir(where.model_path), POCKET_ERR_INVALID_ARGUMENT,
                     "quant applies to checkpoint folders only; " + where.model_path + " keeps its own types");
  auto m = std::make_unique<pocket_model>();
  m->engine = Engine::load(where.model_path, eo);
  const std::string mmproj = p.mmproj != nullptr ? std::string(p.mmproj) : where.mmproj_path;
  if (!mmproj.empty()) {
    POCKET_API_REQUIRE(path_exists(mmproj), POCKET_ERR_IO, "no such projector file: " + mmproj);
    m->vision = VisionEncoder::load(mmproj);
  } else if (is_checkpoint_dir(where.model_path)) {
    // A checkpoint folder brings its own vision tower when Pocket can convert it.
    if (auto tower = load_checkpoint_mmproj(where.model_path)) m->vision = VisionEncoder::load(std::move(tower));
  }
  if (m->vision) check_projector_fits(*m->engine, *m->vision);
  m->tool_format = ToolCallFormat::detect(m->engine->chat_template());
  m->n_ctx = p.n_ctx > 0 ? p.n_ctx : 4096;
  return m;
}

}  // namespace
}  // namespace pocket::api

using namespace pocket;
using namespace pocket::api;

extern "C" {

const char* pocket_status_name(int status) {  // int: a C caller may pass any value
  switch (status) {
    case POCKET_OK: return "ok";
    case POCKET_ERR_INVALID_ARGUMENT: return "invalid argument";
    case POCKET_ERR_IO: return "i/o error";
    case POCKET_ERR_MODEL: return "bad model";
    case POCKET_ERR_MEDIA: return "bad media";
    case POCKET_ERR_REQUEST: return "bad request";
    case POCKET_ERR_UNSUPPORTED: return "unsupported";
    case POCKET_ERR_BUFFER_TOO_SMALL: return "buffer too small";
    case POCKET_ERR_OUT_OF_MEMORY: return "out of memory";
    case POCKET_ERR_INTERNAL: return "internal error";
  }
  return "unknown status";
}

int pocket_api_version(void) { return POCKET_API_VERSION; }
const char* pocket_version(void) { return POCKET_VERSION_STRING; }
const char* pocket_last_error(void) { return t_last_error.c_str(); }

void pocket_model_default_params(pocket_model_params* params) {
  if (params == nullptr) return;
  *params = pocket_model_params{};
  params->size = sizeof(pocket_model_params);
}

pocket_status pocket_model_load(const char* model, const pocket_model_params* params, pocket_model** out) {
  return guard(nullptr, nullptr, POCKET_ERR_MODEL, [&] {
    POCKET_API_REQUIRE(out != nullptr, POCKET_ERR_INVALID_ARGUMENT, "pocket_model_load: out is NULL");
    *out = nullptr;
    POCKET_API_REQUIRE(model != nullptr && *model != '\0', POCKET_ERR_INVALID_ARGUMENT,
                       "pocket_model_load: no model path or name");
    pocket_model_params p;
    read_params(params, p, pocket_model_default_params, sizeof(pocket_model_params), "pocket_model_params");
    *out = load_model(model, p).release();
  });
}

void pocket_model_free(pocket_model* model) {
  if (model == nullptr) return;
  if (model->n_sessions.load() != 0) {  // the sessions point into it: keep it rather than crash later
    record(&model->error, &model->error_mutex, "pocket_model_free: the model still has sessions; free them first");
    return;
  }
  delete model;
}

const char* pocket_model_error(const pocket_model* model) {
  if (model == nullptr) return "";
  std::lock_guard<std::mutex> g(model->error_mutex);
  return model->error.c_str();
}

pocket_status pocket_model_get_info(const pocket_model* model, pocket_model_info* info) {
  return model_guard(model, POCKET_ERR_INTERNAL, [&] {
    POCKET_API_REQUIRE(model != nullptr && info != nullptr, POCKET_ERR_INVALID_ARGUMENT,
                       "pocket_model_get_info: NULL model or info");
    const TextHParams& hp = model->engine->hparams();
    pocket_model_info full{};
    full.size = sizeof(full);
    full.architecture = hp.arch.c_str();
    full.name = model->engine->metadata().name.c_str();
    full.n_ctx_train = hp.n_ctx_train;
    full.n_vocab = hp.n_vocab;
    full.n_embd = hp.d_model;
    full.has_vision = model->vision != nullptr;
    full.has_video = model->vision != nullptr && model->vision->takes_video();
    full.has_tools = model->tool_format.has_value();
    full.has_chat_template = !model->engine->chat_template().empty();
    write_result(full, info, "pocket_model_info");
  });
}

pocket_status pocket_tokenize(const pocket_model* model, const char* text, size_t text_len, int32_t add_special,
                              int32_t parse_special, int32_t* tokens, size_t capacity, size_t* n_tokens) {
  return model_guard(model, POCKET_ERR_REQUEST, [&] {
    POCKET_API_REQUIRE(model != nullptr && n_tokens != nullptr, POCKET_ERR_INVALID_ARGUMENT,
                       "pocket_tokenize: NULL model or n_tokens");
    POCKET_API_REQUIRE(text != nullptr || text_len == 0, POCKET_ERR_INVALID_ARGUMENT, "pocket_tokenize: NULL text");
    POCKET_API_REQUIRE(tokens != nullptr || capacity == 0, POCKET_ERR_INVALID_ARGUMENT,
                       "pocket_tokenize: NULL tokens with a nonzero capacity");
    const Tokenizer& tok = model->engine->tokenizer();
    const std::vector<int32_t> ids = tok.encode(std::string_view(text ? text : "", text_len),
                                                add_special != 0 && tok.add_bos_default(), parse_special != 0);
    *n_tokens = ids.size();
    POCKET_API_REQUIRE(ids.size() <= capacity, POCKET_ERR_BUFFER_TOO_SMALL,
                       "pocket_tokenize: " + std::to_string(ids.size()) + " tokens do not fit in " +
                           std::to_string(capacity));
    std::copy(ids.begin(), ids.end(), tokens);
  });
}

pocket_status pocket_detokenize(const pocket_model* model, const int32_t* tokens, size_t n_tokens, int32_t skip_special,
                                char* text, size_t capacity, size_t* n_bytes) {
  return model_guard(model, POCKET_ERR_REQUEST, [&] {
    POCKET_API_REQUIRE(model != nullptr && n_bytes != nullptr, POCKET_ERR_INVALID_ARGUMENT,
                       "pocket_detokenize: NULL model or n_bytes");
    POCKET_API_REQUIRE(tokens != nullptr || n_tokens == 0, POCKET_ERR_INVALID_ARGUMENT, "pocket_detokenize: NULL tokens");
    POCKET_API_REQUIRE(text != nullptr || capacity == 0, POCKET_ERR_INVALID_ARGUMENT,
                       "pocket_detokenize: NULL text with a nonzero capacity");
    const Tokenizer& tok = model->engine->tokenizer();
    for (size_t i = 0; i < n_tokens; ++i)
      POCKET_API_REQUIRE(tokens[i] >= 0 && tokens[i] < tok.n_vocab(), POCKET_ERR_INVALID_ARGUMENT,
                         "pocket_detokenize: token " + std::to_string(tokens[i]) + " is outside the vocabulary");
    const std::string s = tok.decode(std::vector<int32_t>(tokens, tokens + n_tokens), skip_special != 0);
    *n_bytes = s.size();
    POCKET_API_REQUIRE(s.size() < capacity, POCKET_ERR_BUFFER_TOO_SMALL,
                       "pocket_detokenize: " + std::to_string(s.size() + 1) + " bytes do not fit in " +
                           std::to_string(capacity));
    std::memcpy(text, s.c_str(), s.size() + 1);
  });
}

}  // extern "C"
