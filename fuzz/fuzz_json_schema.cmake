# JSON Schema compiler and grammar matcher fuzz target; malformed seeds in tests/corpus/fuzz_json_schema/.
pocket_add_fuzzer(fuzz_json_schema fuzz_json_schema.cpp LIBS pocket_sampling)
