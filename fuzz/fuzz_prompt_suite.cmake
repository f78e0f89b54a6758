# `pocket compare` prompt-suite (JSONL) parser; malformed suites in tests/corpus/fuzz_prompt_suite/.
pocket_add_fuzzer(fuzz_prompt_suite fuzz_prompt_suite.cpp LIBS pocket_prompt_suite)
