// A runner for the ONNX backend test suite (one directory per test: model.onnx and
// test_data_set_N/{input,output}_K.pb), as packaged by Debian's libonnx-testdata.
//
// Each test is loaded, run through the interpreter and its outputs compared with the
// expected ones the way ONNX's own backend runner does (rtol 1e-3, atol 1e-7 for floating
// point, exact otherwise). A test that needs something the engine does not implement is
// "unsupported", not failed.
//
// Functions here share no state; the kernel registry is only read.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "engine/kernel.hpp"
#include "engine/tensor.hpp"

namespace edgert::engine {

enum class test_status { pass, fail, unsupported };

/// "pass", "fail", "unsupported".
const char* to_string(test_status s) noexcept;

struct test_outcome {
  std::string name;  // "node/test_abs"
  test_status status = test_status::fail;
  std::string reason;  // empty when passed
};

struct backend_test {
  std::string name;           // "folder/test_dir"
  std::filesystem::path dir;  // the directory holding model.onnx
};

struct conformance_summary {
  std::size_t passed = 0;
  std::size_t failed = 0;
  std::size_t unsupported = 0;
  std::vector<test_outcome> tests;
};

struct conformance_options {
  /// ECMAScript regex searched in each test's name; empty runs every test.
  std::string filter;
  /// Runs the tests in a forked worker process, so a kernel that crashes (or runs longer than
  /// child_timeout_seconds on one test) fails that test instead of ending the run; the worker
  /// is then restarted for the remaining tests. Only for single-threaded callers: fork()
  /// copies the calling thread alone.
  bool isolate = false;
  unsigned child_timeout_seconds = 120;
  /// Called after each test (e.g. for progress output); may be empty.
  std::function<void(const test_outcome&)> on_result;
};

/// The backend tests under each root, sorted by name. A root may be the data directory
/// holding node/, pytorch-converted/, pytorch-operator/ and simple/, one such folder, or a
/// single test directory. io_error if a root does not exist.
result<std::vector<backend_test>> list_backend_tests(const std::vector<std::filesystem::path>& roots);

/// Runs one test; never throws.
test_outcome run_backend_test(const backend_test& test,
                              const kernel_registry& kernels = kernel_registry::builtin());

/// Runs the tests whose names match options.filter; invalid_argument for a bad regex.
result<conformance_summary> run_conformance(const std::vector<backend_test>& tests,
                                            const conformance_options& options = {},
                                            const kernel_registry& kernels = kernel_registry::builtin());

/// Compares an actual output with the expected one: dtype, shape, then values. Returns an
/// empty string when they match, else the reason ("element 3 (index [0, 3]): expected 1.5,
/// got 1.25; 2 of 6 elements differ").
std::string compare_tensors(const tensor& expected, const tensor& actual, double rtol = 1e-3,
                            double atol = 1e-7);

}  // namespace edgert::engine
