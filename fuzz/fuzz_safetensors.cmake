# Safetensors reader fuzz target; seeds and malformed cases in tests/corpus/fuzz_safetensors/.
pocket_add_fuzzer(fuzz_safetensors fuzz_safetensors.cpp LIBS pocket_io)
