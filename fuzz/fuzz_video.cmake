# Video input fuzz target (FFmpeg behind VideoReader); tiny clips and broken copies in
# tests/corpus/fuzz_video/.
pocket_add_fuzzer(fuzz_video fuzz_video.cpp LIBS pocket_media)
# The SmolVLM2 video text (vision/smolvlm_prompt.cpp needs only media), compiled in: the
# sanitizer tree builds no vision library.
target_sources(fuzz_video PRIVATE ${CMAKE_SOURCE_DIR}/src/vision/smolvlm_prompt.cpp)
