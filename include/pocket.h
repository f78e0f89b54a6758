/*
 * pocket.h: the C API of Pocket, an on-device runtime for compact vision-language and
 * language models (SmolVLM2, Ministral 3). C99; usable from C, C++, Swift, Kotlin/JNI, Dart FFI
 * and Python ctypes: opaque handles, plain structs, status codes. No exception and no C++ type
 * crosses this boundary.
 *
 * Errors. Every function that can fail returns a pocket_status. The message of the last
 * failure is kept twice: per handle (pocket_model_error, pocket_session_error; replaced by the
 * next failure on that handle) and per thread (pocket_last_error; the last failure of any call
 * made on the calling thread, including calls that had no handle yet, such as a load).
 *
 * Threading. A model is shared read-only by any number of sessions, created and used on any
 * threads; the only model calls that write are pocket_model_free (no session of it may be
 * alive) and the recording of its error message (locked). A session is used by one thread at
 * a time, except pocket_session_cancel, which any thread may call at any time (the streaming
 * callback may call it too, but no other function of its session). Each session
 * computes on its own worker threads (n_threads of the model), so sessions of one model run
 * in parallel.
 *
 * ABI. Parameter structs start with a `size` member: fill them with the matching
 * pocket_*_default_params() function, which sets `size` to the struct size this header
 * declares, then change the fields you need. A newer library reads only the first `size` bytes
 * of an older caller's struct (later fields keep their defaults); a struct larger than the
 * library knows is refused (POCKET_ERR_INVALID_ARGUMENT). Output structs (pocket_model_info,
 * pocket_result) get their `size` from the caller and receive at most that many bytes.
 * POCKET_API_VERSION changes when an existing declaration changes meaning; fields and functions
 * are only ever appended.
 *
 *   pocket_model_params mp;  pocket_model_default_params(&mp);  mp.mmproj = "mmproj.gguf";
 *   pocket_model* model;     if (pocket_model_load("model.gguf", &mp, &model)) puts(pocket_last_error());
 *   pocket_session* s;       pocket_session_create(model, NULL, &s);
 *   pocket_session_add_message(s, "user", "What is in this image?");
 *   pocket_session_add_image_file(s, "cat.jpg");
 *   pocket_generate_params gp;  pocket_generate_default_params(&gp);  gp.on_text = print_piece;
 *   pocket_result r;         pocket_session_generate(s, &gp, &r);     (r.text, r.tool_calls_json)
 *   pocket_session_free(s);  pocket_model_free(model);
 */
#ifndef POCKET_H
#define POCKET_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#  if defined(POCKET_BUILDING_LIBRARY)
#    define POCKET_API __declspec(dllexport)
#  else
#    define POCKET_API
#  endif
#elif defined(__GNUC__)
#  define POCKET_API __attribute__((visibility("default")))
#else
#  define POCKET_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define POCKET_API_VERSION 1

typedef enum pocket_status {
  POCKET_OK = 0,
  POCKET_ERR_INVALID_ARGUMENT = 1, /* NULL handle or pointer, bad size, value out of range */
  POCKET_ERR_IO = 2,               /* a file that cannot be found or read */
  POCKET_ERR_MODEL = 3,            /* a model or projector that cannot be loaded (malformed, unsupported) */
  POCKET_ERR_MEDIA = 4,            /* an image or video that cannot be decoded or is not accepted */
  POCKET_ERR_REQUEST = 5,          /* a conversation or parameter the model cannot serve (template, JSON, context) */
  POCKET_ERR_UNSUPPORTED = 6,      /* a feature this model or this build does not have (named in the message) */
  POCKET_ERR_BUFFER_TOO_SMALL = 7, /* the output did not fit; the needed size is returned */
  POCKET_ERR_OUT_OF_MEMORY = 8,
  POCKET_ERR_INTERNAL = 9
} pocket_status;

/* "ok", "invalid argument", ...; never NULL. */
POCKET_API const char* pocket_status_name(int status);
/* POCKET_API_VERSION of the library actually loaded, and its version ("0.2.0"). */
POCKET_API int pocket_api_version(void);
POCKET_API const char* pocket_version(void);
/* The message of the last failed call on this thread ("" when none). Valid until the next
 * failing call on this thread. */
POCKET_API const char* pocket_last_error(void);

/* ---- models ------------------------------------------------------------------------------ */

typedef struct pocket_model pocket_model;

typedef struct pocket_model_params {
  size_t size;            /* sizeof(pocket_model_params), set by pocket_model_default_params */
  int32_t n_threads;      /* worker threads per session; 0 = every core */
  int64_t n_ctx;          /* default context of its sessions in tokens; 0 = 4096; capped by the model's */
  const char* mmproj;     /* vision projector GGUF; NULL = the store's (store names) or the folder's own
                             tower (checkpoint folders), else text only */
  const char* quant;      /* checkpoint folders only (else refused): matrix type at load ("Q8_0", "Q4_0", "Q4_K",
                             "F16"...); NULL = Q8_0 */
  int32_t allow_download; /* store names not pulled yet: 0 = POCKET_ERR_IO (default), 1 = pull from the Hub */
} pocket_model_params;

POCKET_API void pocket_model_default_params(pocket_model_params* params);

/* `model`: a GGUF file, a Hugging Face checkpoint folder, or a store name (`smolvlm2-256m`,
 * `owner/name[:QUANT]`). params may be NULL (defaults). On success *out owns the model. */
POCKET_API pocket_status pocket_model_load(const char* model, const pocket_model_params* params, pocket_model** out);
/* NULL is ignored. Every session of the model must be freed first: while one lives the call does
 * nothing but record an error. */
POCKET_API void pocket_model_free(pocket_model* model);
/* Message of the model's last failure ("" when none); NULL model: "". */
POCKET_API const char* pocket_model_error(const pocket_model* model);

typedef struct pocket_model_info {
  size_t size;               /* set by the caller: sizeof(pocket_model_info) */
  const char* architecture;  /* "llama", "mistral3", ... (valid while the model lives) */
  const char* name;          /* general.name, "" when absent */
  int64_t n_ctx_train;       /* the context the model was trained with */
  int64_t n_vocab;
  int64_t n_embd;
  int32_t has_vision;        /* a projector is loaded: images accepted */
  int32_t has_video;         /* video accepted (SmolVLM2) */
  int32_t has_tools;         /* the chat template writes tool calls Pocket can parse */
  int32_t has_chat_template;
} pocket_model_info;

POCKET_API pocket_status pocket_model_get_info(const pocket_model* model, pocket_model_info* info);

/* Text -> token ids. add_special: BOS as the vocabulary asks; parse_special: control-token
 * text becomes the control token. Writes at most `capacity` ids; *n_tokens receives the count
 * (also on POCKET_ERR_BUFFER_TOO_SMALL, so a second call can size the buffer). tokens may be
 * NULL when capacity is 0. */
POCKET_API pocket_status pocket_tokenize(const pocket_model* model, const char* text, size_t text_len,
                                         int32_t add_special, int32_t parse_special, int32_t* tokens,
                                         size_t capacity, size_t* n_tokens);
/* Token ids -> UTF-8 text (control tokens included unless skip_special), NUL-terminated when it
 * fits: *n_bytes receives the length without the NUL; capacity must exceed it. */
POCKET_API pocket_status pocket_detokenize(const pocket_model* model, const int32_t* tokens, size_t n_tokens,
                                           int32_t skip_special, char* text, size_t capacity, size_t* n_bytes);

/* ---- sessions: one conversation ------------------------------------------------------------ */

typedef struct pocket_session pocket_session;

typedef struct pocket_session_params {
  size_t size;      /* sizeof(pocket_session_params) */
  int64_t n_ctx;    /* context in tokens; 0 = the model's default (pocket_model_params.n_ctx) */
  int64_t n_batch;  /* prompt tokens per forward pass; 0 = 256 */
} pocket_session_params;

POCKET_API void pocket_session_default_params(pocket_session_params* params);
/* params may be NULL. The model must outlive the session. */
POCKET_API pocket_status pocket_session_create(pocket_model* model, const pocket_session_params* params,
                                               pocket_session** out);
POCKET_API void pocket_session_free(pocket_session* session);
POCKET_API const char* pocket_session_error(const pocket_session* session);

/* System prompt ("" or NULL: none); kept by pocket_session_clear. */
POCKET_API pocket_status pocket_session_set_system(pocket_session* session, const char* text);
/* Tools as a JSON array of OpenAI tool schemas ([{"type":"function","function":{...}}]); NULL
 * or "" = none. With tools, replies' tool calls are parsed into pocket_result.tool_calls_json. */
POCKET_API pocket_status pocket_session_set_tools(pocket_session* session, const char* tools_json);
/* Appends a message; role: "user", "assistant", "system" or "tool". */
POCKET_API pocket_status pocket_session_add_message(pocket_session* session, const char* role, const char* text);
/* A tool's result for the call with id `tool_call_id` (from pocket_result.tool_calls_json) of an
 * earlier reply; templates that pair results with calls by id or name get both. */
POCKET_API pocket_status pocket_session_add_tool_result(pocket_session* session, const char* tool_call_id,
                                                        const char* content);

/* Media go to the last user message, before its text (videos, then images), the order the
 * models were trained with. They need a model with a projector. */
POCKET_API pocket_status pocket_session_add_image_file(pocket_session* session, const char* path);
/* An encoded image (JPEG, PNG, WebP, GIF, TIFF) in memory; copied. */
POCKET_API pocket_status pocket_session_add_image_bytes(pocket_session* session, const void* data, size_t n_bytes);
/* Raw 8-bit RGB, width * height * 3 bytes, rows top to bottom; copied. */
POCKET_API pocket_status pocket_session_add_image_rgb(pocket_session* session, const uint8_t* rgb, int32_t width,
                                                      int32_t height, size_t n_bytes);
/* A video file (SmolVLM2): frames sampled as the model was trained (1 fps, at most 64). */
POCKET_API pocket_status pocket_session_add_video_file(pocket_session* session, const char* path);
/* Forgets the messages and their media. */
POCKET_API pocket_status pocket_session_clear(pocket_session* session);

/* Receives each new piece of text (UTF-8, never a split character) as it is generated; return
 * nonzero to go on, 0 to stop (the result's finish_reason is then "cancelled"). */
typedef int (*pocket_text_callback)(const char* piece, size_t n_bytes, void* user_data);
/* With tools, the pieces are the generated text as it comes, call markup included
 * ([TOOL_CALLS]name[ARGS]{...}, <tool_call>...</tool_call>); the result separates the two. */

typedef struct pocket_generate_params {
  size_t size;                 /* sizeof(pocket_generate_params) */
  int32_t max_tokens;          /* default 256; -1 = until the end of generation or a full context */
  float temperature;           /* default 0.8; 0 = greedy */
  int32_t top_k;               /* default 40; 0 = off */
  float top_p;                 /* default 0.95; 1 = off */
  float min_p;                 /* default 0.05; 0 = off */
  float repeat_penalty;        /* default 1.0 = off */
  int32_t repeat_last_n;       /* default 64; -1 = all */
  uint64_t seed;               /* default 0xFFFFFFFF = a random seed */
  const char* const* stop;     /* n_stop stop strings (excluded from the text); may be NULL */
  size_t n_stop;
  int32_t json_object;         /* 1: the answer is one JSON object */
  const char* json_schema;     /* NULL, or a JSON Schema (text): the answer is JSON valid against it
                                  (keywords in docs/structured-output.md; an unsupported one is
                                  POCKET_ERR_UNSUPPORTED naming it, text that is not JSON
                                  POCKET_ERR_INVALID_ARGUMENT); wins over json_object */
  const char* tool_choice;     /* with tools: NULL or "auto" (the model decides), "none" (no call parsed),
                                  "required" (a call to one of the tools) or a tool's name (a call to it);
                                  the last two are forced, their arguments constrained to a JSON object */
  int32_t completion;          /* 1: the last message is raw text completed as is (no chat template,
                                  no history); it must be the only message */
  int32_t print_special;       /* 1: control tokens' text is kept in the output */
  pocket_text_callback on_text;
  void* user_data;
} pocket_generate_params;

POCKET_API void pocket_generate_default_params(pocket_generate_params* params);

/* The answer. Strings are owned by the session and valid until its next generate, clear or free. */
typedef struct pocket_result {
  size_t size;                  /* set by the caller: sizeof(pocket_result) */
  const char* text;             /* the assistant's content (tool calls removed), NUL-terminated */
  size_t text_len;
  const char* tool_calls_json;  /* JSON array of OpenAI tool calls ("[]" when none) */
  const char* finish_reason;    /* "eog", "stop", "length", "context" or "cancelled" */
  int64_t n_prompt_tokens;
  int64_t n_image_tokens;
  int64_t n_generated_tokens;
  double encode_seconds;        /* images and video through the vision tower */
  double prefill_seconds;
  double decode_seconds;
} pocket_result;

/* Renders the conversation, generates the assistant's reply (streamed through on_text) and
 * appends it to the conversation. params may be NULL (defaults); result may be NULL. A
 * cancelled reply is returned (POCKET_OK, finish_reason "cancelled") and not appended; nor is an
 * empty one (no text, no tool call), which Mistral's templates would refuse on the next turn. */
POCKET_API pocket_status pocket_session_generate(pocket_session* session, const pocket_generate_params* params,
                                                 pocket_result* result);
/* From any thread: the running (or, if none runs, the next) generate of the session stops
 * before its next token. */
POCKET_API void pocket_session_cancel(pocket_session* session);

#ifdef __cplusplus
}
#endif

#endif /* POCKET_H */
