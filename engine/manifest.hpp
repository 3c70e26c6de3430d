// manifest.json: the optional description a model ships beside its model.onnx (schema
// `edgert.model_manifest`, version 1, documented in tools/gen_models/README.md). It adds what
// an ONNX file cannot say: the layout, quantization and padding of each graph input and
// output, the sample input and expected output files, and the model's MAC count.
//
// Reading is strict about the fields it uses (a wrong type or value is invalid_argument
// naming the field) and ignores fields it does not know, as the schema asks. Stateless; any
// thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "engine/quantize.hpp"
#include "engine/tensor.hpp"

namespace edgert::engine {

struct manifest_tensor {
  std::string name;
  dtype type = dtype::undefined;          // from "dtype"; undefined when absent
  std::optional<shape_t> shape;           // the logical (unpadded) shape
  std::string layout;                     // "" when absent
  std::optional<quant_params> quantization;
  std::vector<dim_padding> padding;       // empty when absent
  std::filesystem::path file;             // inputs: "sample", outputs: "expected.file"; absolute
};

struct model_manifest {
  std::filesystem::path path;    // the manifest file itself ("" when parsed from text)
  std::string name;
  std::string description;
  std::string model_file;        // "model.file", "" when absent
  std::string quantization_format;
  std::optional<std::uint64_t> macs;
  std::vector<manifest_tensor> inputs;
  std::vector<manifest_tensor> outputs;

  const manifest_tensor* find_input(const std::string& name) const;
  const manifest_tensor* find_output(const std::string& name) const;
};

/// Parses manifest text. Relative file names are resolved against base_dir.
result<model_manifest> parse_manifest(std::string_view text, const std::filesystem::path& base_dir = {});

/// Reads a manifest file: io_error when it cannot be read, invalid_argument when malformed.
result<model_manifest> read_manifest(const std::filesystem::path& path);

/// The manifest.json beside a model file, if there is one and it describes that file (its
/// "model.file" is absent or names it). nullopt when there is none; a failure when it exists
/// but cannot be read or parsed.
result<std::optional<model_manifest>> find_manifest_for(const std::filesystem::path& model_file);

}  // namespace edgert::engine
