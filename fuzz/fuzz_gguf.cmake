# GGUF reader fuzz target; seeds and malformed cases in tests/corpus/fuzz_gguf/.
pocket_add_fuzzer(fuzz_gguf fuzz_gguf.cpp LIBS pocket_io)
