// Binding GGUF tensors as weights, shared by the text decoders (models/*.cpp) and the vision
// towers (vision/*.cpp). Each helper validates the name, shape and type and throws
// pocket::Error naming the tensor.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/matmul.h"

namespace pocket {

class GgufFile;

// A [n_out, n_in] matrix in the file's layout (row = one output), memory-mapped.
kernels::WeightRef bind_matrix(const GgufFile& f, const std::string& name, int64_t n_in, int64_t n_out);
bool has_tensor(const GgufFile& f, const std::string& name);
// A vector of n values of any supported type, dequantized to float32.
std::vector<float> load_vector(const GgufFile& f, const std::string& name, int64_t n);

}  // namespace pocket
