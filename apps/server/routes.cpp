// HTTP routes: authentication, health, models, metrics and the two generation endpoints.
// Every error leaves as OpenAI's {"error": {...}} object, including httplib's own (404,
// 413 for an over-long body) through the error handler.
#include <cstdlib>
#include <cstring>

#include "apps/server/state.h"
#include "core/ascii.h"

namespace pocket::server {

using json = nlohmann::ordered_json;

void send_error(ServerState& st, httplib::Response& res, const std::string& endpoint, const ApiError& e) {
  res.status = e.status();
  res.set_content(e.body(), "application/json");
  st.metrics.count_request(endpoint, e.status());
}

namespace {

// Constant-time comparison, so response timing does not reveal a key prefix.
bool same_key(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i % (b.empty() ? 1 : b.size())]);
  return diff == 0 && !b.empty();
}

// application/json, with parameters (charset) or not, in any case.
bool is_json_type(const std::string& header) {
  std::string type = ascii_lower(std::string_view(header).substr(0, header.find(';')));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  return type == "application/json";
}

ApiError body_too_large(const ServerState& st) {
  return ApiError(413, fmt::format("request body larger than {} bytes", st.opt.max_body_bytes), "invalid_request_error",
                  "body_too_large");
}

// The body, counted as it arrives however it is framed (a chunked body has no declared length,
// and httplib would read it whole): false once it passes --max-body.
bool read_body(const ServerState& st, const httplib::ContentReader& reader, std::string& body) {
  bool over = false;
  const size_t limit = static_cast<size_t>(st.opt.max_body_bytes);
  reader([&](const char* data, size_t n) {
    if (body.size() + n > limit) {
      over = true;
      return false;
    }
    body.append(data, n);
    return true;
  });
  if (over) std::string().swap(body);
  return !over;
}

template <typename Parse, typename Prepare>
void generation_route(ServerState& st, const httplib::Request& req, httplib::Response& res,
                      const httplib::ContentReader& reader, const std::string& endpoint, Parse parse, Prepare prepare) {
  try {
    if (st.draining) throw ApiError(503, "the server is shutting down", "unavailable", "shutting_down");
    if (!st.ready) throw ApiError(503, "the model is loading", "unavailable", "model_loading");
    std::string body;
    if (!read_body(st, reader, body)) {
      res.set_header("Connection", "close");  // the rest of the body is not read
      throw body_too_large(st);
    }
    auto parsed = parse(body);
    std::string().swap(body);
    Prepared p = prepare(st, parsed);
    if (!p.gens.empty() && p.gens[0]->embd_owner) st.trim_pending = true;  // see run_server's housekeeping
    respond(st, res, std::move(p), endpoint);
  } catch (const ApiError& e) {
    send_error(st, res, endpoint, e);
  } catch (const std::bad_alloc&) {
    send_error(st, res, endpoint, ApiError(500, "out of memory", "server_error", "out_of_memory"));
  } catch (const std::exception& e) {
    send_error(st, res, endpoint, ApiError(500, e.what(), "server_error", "internal_error"));
  }
}

}  // namespace

void register_routes(httplib::Server& svr, ServerState& st) {
  // Cheap checks before any body is read (httplib reads it after this handler): the key, then
  // for POST a JSON Content-Type (415; a web page's form or text/plain post is refused before
  // it can make the server do anything) and a declared length within --max-body (413 at once).
  svr.set_pre_routing_handler([&st](const httplib::Request& req, httplib::Response& res) {
    if (req.path != "/health" && !st.opt.api_key.empty()) {
      const std::string auth = req.get_header_value("Authorization");
      const std::string prefix = "Bearer ";
      if (auth.size() <= prefix.size() || auth.compare(0, prefix.size(), prefix) != 0 ||
          !same_key(auth.substr(prefix.size()), st.opt.api_key)) {
        res.set_header("WWW-Authenticate", "Bearer");
        send_error(st, res, req.path,
                   ApiError(401, "invalid or missing API key (Authorization: Bearer KEY)", "invalid_request_error",
                            "invalid_api_key"));
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    if (req.method == "POST") {
      if (!is_json_type(req.get_header_value("Content-Type"))) {
        send_error(st, res, req.path,
                   ApiError(415, "the request body must be JSON (Content-Type: application/json)",
                            "invalid_request_error", "unsupported_media_type"));
        return httplib::Server::HandlerResponse::Handled;
      }
      const std::string len = req.get_header_value("Content-Length");
      if (!len.empty() && (len.size() > 19 || std::strtoull(len.c_str(), nullptr, 10) >
                                                  static_cast<unsigned long long>(st.opt.max_body_bytes))) {
        res.set_header("Connection", "close");
        send_error(st, res, req.path, body_too_large(st));
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  svr.set_error_handler([&st](const httplib::Request& req, httplib::Response& res) {
    // Responses our handlers already filled keep their body.
    if (!res.body.empty() || res.content_length_ > 0) return;
    std::string msg = fmt::format("{} {}: {}", req.method, req.path, res.status == 404 ? "no such endpoint" : "request failed");
    std::string code = "http_" + std::to_string(res.status);
    if (res.status == 413) {
      msg = body_too_large(st).what();
      code = "body_too_large";
    } else if (res.status == 404) {
      code = "not_found";
    }
    const ApiError e(res.status, msg, res.status >= 500 ? "server_error" : "invalid_request_error", code);
    res.set_content(e.body(), "application/json");
    st.metrics.count_request(req.path, res.status);
  });

  svr.Get("/health", [&st](const httplib::Request&, httplib::Response& res) {
    const bool ok = st.ready && !st.draining;
    res.status = ok ? 200 : 503;
    res.set_content(json{{"status", ok ? "ok" : (st.draining ? "shutting_down" : "loading")}}.dump(), "application/json");
  });

  svr.Get("/v1/models", [&st](const httplib::Request&, httplib::Response& res) {
    json data = json::array();
    data.push_back(json{{"id", st.opt.model_id}, {"object", "model"}, {"created", st.created}, {"owned_by", "pocket"}});
    res.set_content(json{{"object", "list"}, {"data", std::move(data)}}.dump(), "application/json");
    st.metrics.count_request("/v1/models", 200);
  });

  svr.Get("/metrics", [&st](const httplib::Request&, httplib::Response& res) {
    std::optional<EmbeddingCacheStats> images;
    if (st.ready && st.vision && st.vision->cache()) images = st.vision->cache()->stats();
    res.set_content(st.metrics.render(st.ready ? st.sched.get() : nullptr, st.ready, images ? &*images : nullptr),
                    "text/plain; version=0.0.4");
  });

  svr.Post("/v1/chat/completions", [&st](const httplib::Request& req, httplib::Response& res,
                                          const httplib::ContentReader& reader) {
    generation_route(
        st, req, res, reader, "/v1/chat/completions", [&](const std::string& b) { return parse_chat_request(b, st.limits); },
        [](ServerState& s, OpenAiChatRequest& r) { return prepare_chat(s, r); });
  });
  svr.Post("/v1/completions", [&st](const httplib::Request& req, httplib::Response& res,
                                     const httplib::ContentReader& reader) {
    generation_route(
        st, req, res, reader, "/v1/completions", [&](const std::string& b) { return parse_completion_request(b, st.limits); },
        [](ServerState& s, OpenAiCompletionRequest& r) { return prepare_completion(s, r); });
  });
}

}  // namespace pocket::server
