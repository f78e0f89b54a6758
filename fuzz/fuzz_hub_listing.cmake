# Hub listing JSON -> file list parser and quant selection; seeds and malformed listings in
# tests/corpus/fuzz_hub_listing/ (first byte of each picks the quant tag).
pocket_add_fuzzer(fuzz_hub_listing fuzz_hub_listing.cpp LIBS pocket_hub_listing)
