/* ask_image: load a model and its vision projector, ask one question about one image and
 * stream the answer to stdout, through the C API alone (pocket.h).
 *
 *   cc -std=c99 ask_image.c $(pkg-config --cflags --libs pocket) -o ask_image
 *   ./ask_image model.gguf mmproj.gguf photo.jpg "What is in this image?" [max_tokens]
 *
 * Greedy decoding, so the answer is the one `pocket run --image ... -p ... --temp 0` prints. */
#include <stdio.h>
#include <stdlib.h>

#include <pocket.h>

static int print_piece(const char* piece, size_t n_bytes, void* user_data) {
  (void)user_data;
  fwrite(piece, 1, n_bytes, stdout);
  fflush(stdout);
  return 1; /* go on */
}

int main(int argc, char** argv) {
  pocket_model_params mp;
  pocket_session* session = NULL;
  pocket_generate_params gp;
  pocket_result result;
  pocket_model* model = NULL;
  pocket_status st;

  if (argc < 5) {
    fprintf(stderr, "usage: %s MODEL MMPROJ IMAGE QUESTION [MAX_TOKENS]\n", argv[0]);
    return 2;
  }
  pocket_model_default_params(&mp);
  mp.mmproj = argv[2];
  st = pocket_model_load(argv[1], &mp, &model);
  if (st != POCKET_OK) {
    fprintf(stderr, "load: %s: %s\n", pocket_status_name(st), pocket_last_error());
    return 1;
  }
  st = pocket_session_create(model, NULL, &session);
  if (st == POCKET_OK) st = pocket_session_add_message(session, "user", argv[4]);
  if (st == POCKET_OK) st = pocket_session_add_image_file(session, argv[3]);
  if (st == POCKET_OK) {
    pocket_generate_default_params(&gp);
    gp.temperature = 0.0f;
    gp.max_tokens = argc > 5 ? atoi(argv[5]) : 128;
    gp.on_text = print_piece;
    result.size = sizeof(result);
    st = pocket_session_generate(session, &gp, &result);
  }
  if (st != POCKET_OK) {
    fprintf(stderr, "error: %s: %s\n", pocket_status_name(st), pocket_last_error());
  } else {
    fprintf(stderr, "\n%lld prompt tokens (%lld from the image), %lld generated; stop: %s\n",
            (long long)result.n_prompt_tokens, (long long)result.n_image_tokens, (long long)result.n_generated_tokens,
            result.finish_reason);
    putchar('\n');
  }
  pocket_session_free(session);
  pocket_model_free(model);
  return st == POCKET_OK ? 0 : 1;
}
