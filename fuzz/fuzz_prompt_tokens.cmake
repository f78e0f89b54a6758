# Literal caller text in chat prompts (chat/prompt_tokens.h) with tiny-ministral3's vocabulary
# from ../shared; seeds in tests/corpus/fuzz_prompt_tokens/.
pocket_add_fuzzer(fuzz_prompt_tokens fuzz_prompt_tokens.cpp LIBS pocket_chat pocket_tokenizer pocket_io)
target_compile_definitions(fuzz_prompt_tokens PRIVATE POCKET_SHARED_DIR="${POCKET_SHARED_DIR}")
