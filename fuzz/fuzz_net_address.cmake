# Address ranges (--media-allow-net) and the public-address rule of the server's remote-media
# policy; seeds and malformed ranges in tests/corpus/fuzz_net_address/.
pocket_add_fuzzer(fuzz_net_address fuzz_net_address.cpp LIBS pocket_core)
