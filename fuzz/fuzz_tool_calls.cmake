# Tool-call parser fuzz target; seeds (first byte picks the format and the split pattern)
# in tests/corpus/fuzz_tool_calls/.
pocket_add_fuzzer(fuzz_tool_calls fuzz_tool_calls.cpp LIBS pocket_chat)
