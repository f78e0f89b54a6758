# Video input fuzz target (FFmpeg behind VideoReader); tiny clips and broken copies in
# tests/corpus/fuzz_video/.
pocket_add_fuzzer(fuzz_video fuzz_video.cpp LIBS pocket_media)
