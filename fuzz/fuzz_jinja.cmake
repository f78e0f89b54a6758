# Chat-template (Jinja) fuzz target; seeds from the shared templates' constructs and
# malformed/truncated pieces in tests/corpus/fuzz_jinja/.
pocket_add_fuzzer(fuzz_jinja fuzz_jinja.cpp LIBS pocket_chat)
