// ask_image (C++): the C example's question about one image, with the handles held by
// unique_ptr and the streaming callback a lambda. Built through find_package(Pocket).
//   ./ask_image MODEL MMPROJ IMAGE QUESTION [MAX_TOKENS]
#include <pocket.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

namespace {

struct ModelDeleter {
  void operator()(pocket_model* m) const { pocket_model_free(m); }
};
struct SessionDeleter {
  void operator()(pocket_session* s) const { pocket_session_free(s); }
};

void check(pocket_status st, const char* what) {
  if (st != POCKET_OK) throw std::runtime_error(std::string(what) + ": " + pocket_last_error());
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s MODEL MMPROJ IMAGE QUESTION [MAX_TOKENS]\n", argv[0]);
    return 2;
  }
  pocket_model_params mp;
  pocket_model_default_params(&mp);
  mp.mmproj = argv[2];
  pocket_model* raw_model = nullptr;
  check(pocket_model_load(argv[1], &mp, &raw_model), "load");
  std::unique_ptr<pocket_model, ModelDeleter> model(raw_model);

  pocket_session* raw_session = nullptr;
  check(pocket_session_create(model.get(), nullptr, &raw_session), "session");
  std::unique_ptr<pocket_session, SessionDeleter> session(raw_session);
  check(pocket_session_add_message(session.get(), "user", argv[4]), "message");
  check(pocket_session_add_image_file(session.get(), argv[3]), "image");

  pocket_generate_params gp;
  pocket_generate_default_params(&gp);
  gp.temperature = 0;  // greedy: the answer `pocket run --temp 0` gives
  gp.max_tokens = argc > 5 ? std::atoi(argv[5]) : 128;
  gp.on_text = [](const char* piece, size_t n, void*) {
    std::fwrite(piece, 1, n, stdout);
    std::fflush(stdout);
    return 1;
  };
  pocket_result result{};
  result.size = sizeof result;
  check(pocket_session_generate(session.get(), &gp, &result), "generate");
  std::printf("\n");
  std::fprintf(stderr, "%lld tokens in %.3f s; stop: %s\n", static_cast<long long>(result.n_generated_tokens),
               result.decode_seconds, result.finish_reason);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
