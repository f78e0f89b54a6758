pocket_add_fuzzer(fuzz_tokenizer fuzz_tokenizer.cpp LIBS pocket_tokenizer pocket_io)
# Mode 2/3 tokenize with the real SmolVLM2 vocabulary from ../shared (overridable at run time).
target_compile_definitions(fuzz_tokenizer PRIVATE POCKET_SHARED_DIR="${POCKET_SHARED_DIR}")
