// What the C API's handles hold, and the one way every entry point turns a C++ failure into a
// status plus a message (guard()). Nothing here is visible outside libpocket.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <utility>

#include "chat/tool_calls.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "pocket.h"
#include "runtime/conversation.h"
#include "runtime/engine.h"
#include "vision/vision_encoder.h"

struct pocket_model {
  std::unique_ptr<pocket::Engine> engine;
  std::unique_ptr<pocket::VisionEncoder> vision;  // null: text only
  std::optional<pocket::ToolCallFormat> tool_format;
  int64_t n_ctx = 4096;  // its sessions' default context
  std::atomic<int> n_sessions{0};
  mutable std::mutex error_mutex;
  mutable std::string error;
};

struct pocket_session {
  pocket_model* model = nullptr;
  std::unique_ptr<pocket::ThreadPool> pool;  // this session's workers (SessionOptions::pool)
  std::unique_ptr<pocket::Conversation> conversation;
  std::atomic<bool> cancel{false};
  std::string error;
  // The last result's strings (pocket_result points into them).
  std::string text, tool_calls_json, finish_reason;
};

namespace pocket::api {

// A failure the API layer itself detects, with its status.
struct ApiError {
  pocket_status status;
  std::string message;
};
[[noreturn]] void refuse(pocket_status status, std::string message);
#define POCKET_API_REQUIRE(cond, status, msg) \
  do {                                        \
    if (!(cond)) ::pocket::api::refuse(status, msg); \
  } while (0)

// Records `message` as this thread's last error and as the handle's (when given).
void record(std::string* handle_error, std::mutex* lock, const std::string& message);

// Runs fn(); an exception becomes a status (ApiError: its own; pocket::Error: `failure`, the
// call's category; std::bad_alloc: out of memory; anything else: internal) and its message is
// recorded. Never throws.
template <typename Fn>
pocket_status guard(std::string* handle_error, std::mutex* lock, pocket_status failure, Fn&& fn) noexcept {
  try {
    try {
      fn();
      return POCKET_OK;
    } catch (const ApiError& e) {
      record(handle_error, lock, e.message);
      return e.status;
    } catch (const std::bad_alloc&) {
      record(handle_error, lock, "out of memory");
      return POCKET_ERR_OUT_OF_MEMORY;
    } catch (const pocket::Error& e) {
      record(handle_error, lock, e.what());
      return failure;
    } catch (const std::exception& e) {
      record(handle_error, lock, std::string("internal error: ") + e.what());
      return POCKET_ERR_INTERNAL;
    } catch (...) {
      record(handle_error, lock, "internal error");
      return POCKET_ERR_INTERNAL;
    }
  } catch (...) {  // recording itself failed (no memory for the message)
    return POCKET_ERR_OUT_OF_MEMORY;
  }
}

// guard() recording into the model's message slot (when there is a model).
template <typename Fn>
pocket_status model_guard(const pocket_model* model, pocket_status failure, Fn&& fn) noexcept {
  return guard(model ? &model->error : nullptr, model ? &model->error_mutex : nullptr, failure, std::forward<Fn>(fn));
}

// Copies a caller's parameter struct over the defaults: `size` bytes of it, which must be at
// least the first version's size and at most this header's.
template <typename T>
void read_params(const T* in, T& out, void (*defaults)(T*), size_t first_version_size, const char* what) {
  defaults(&out);
  if (in == nullptr) return;
  if (in->size < first_version_size || in->size > sizeof(T))
    refuse(POCKET_ERR_INVALID_ARGUMENT, std::string(what) + ".size is " + std::to_string(in->size) +
                                            ": fill the struct with pocket_*_default_params() first");
  std::memcpy(static_cast<void*>(&out), in, in->size);
  out.size = sizeof(T);
}

// Writes `full` into the caller's output struct, at most its `size` bytes.
template <typename T>
void write_result(const T& full, T* out, const char* what) {
  if (out->size < sizeof(size_t) + 8)
    refuse(POCKET_ERR_INVALID_ARGUMENT, std::string(what) + ".size is not set: set it to sizeof(" + what + ")");
  const size_t caller = out->size;
  std::memcpy(static_cast<void*>(out), &full, std::min(caller, sizeof(T)));
  out->size = caller;
}

}  // namespace pocket::api
