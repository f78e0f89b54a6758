# GGUF reader fuzz target; seeds and malformed cases in tests/corpus/fuzz_gguf/.
# The reader is compiled into the target itself (instead of linking pocket_io) so that it gets
# libFuzzer's coverage instrumentation, which pocket_add_fuzzer applies to the target's sources only.
pocket_add_fuzzer(fuzz_gguf fuzz_gguf.cpp LIBS pocket_quant pocket_core)
target_sources(fuzz_gguf PRIVATE ${CMAKE_SOURCE_DIR}/src/io/gguf.cpp)
