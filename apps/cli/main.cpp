// `pocket` command-line entry point: dispatches to subcommands; converts every error into a
// message on stderr and exit status 1 (2 for usage errors).
#include <cstdio>
#include <exception>

#include "apps/cli/commands.h"
#include "core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"pocket: run compact language and vision-language models on this machine"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "pocket 0.1.0");
  pocket::cli::register_run(app);
  pocket::cli::register_info(app);
  pocket::cli::register_logits(app);
  pocket::cli::register_bench(app);
  pocket::cli::register_serve(app);
  pocket::cli::register_quantize(app);
  pocket::cli::register_store(app);
  pocket::cli::register_compare(app);
  register_tokenize(app);
  register_encode_image(app);
  register_template(app);
  register_preprocess(app);
  register_video_plan(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const pocket::Error& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
