# Image decoder fuzz target; tiny valid and malformed files in tests/corpus/fuzz_image/.
pocket_add_fuzzer(fuzz_image fuzz_image.cpp LIBS pocket_media)
