# Chat-template (Jinja) fuzz target: malformed/truncated pieces in tests/corpus/fuzz_jinja/, and
# the real templates read from ../shared/templates as seeds.
pocket_add_fuzzer(fuzz_jinja fuzz_jinja.cpp LIBS pocket_chat SEEDS ${POCKET_SHARED_DIR}/templates)
