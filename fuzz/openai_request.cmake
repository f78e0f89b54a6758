# OpenAI request parsing/validation fuzz target (byte 0 picks chat / completion / data: URI);
# malformed seeds in tests/corpus/openai_request/.
pocket_add_fuzzer(openai_request openai_request.cpp LIBS pocket_chat)
