#include "engine/conformance.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <regex>

#include "engine/interpreter.hpp"
#include "engine/onnx_detail.hpp"
#include "engine/onnx_loader.hpp"

namespace edgert::engine {

namespace fs = std::filesystem;

const char* to_string(test_status s) noexcept {
  switch (s) {
    case test_status::pass: return "pass";
    case test_status::fail: return "fail";
    case test_status::unsupported: return "unsupported";
  }
  return "fail";
}

namespace {

const char* const suite_folders[] = {"node", "pytorch-converted", "pytorch-operator", "simple"};

fs::path normalised(const fs::path& p) {
  fs::path n = p.lexically_normal();
  if (n.filename().empty() && n.has_parent_path()) n = n.parent_path();
  return n;
}

bool is_test_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p / "model.onnx", ec);
}

void add_folder(const fs::path& folder, std::vector<backend_test>& out) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec))
    if (entry.is_directory(ec) && is_test_dir(entry.path()))
      out.push_back({folder.filename().string() + "/" + entry.path().filename().string(), entry.path()});
}

// The numeric suffix of "test_data_set_12" or "input_3.pb" (the digits after the last '_').
long numeric_suffix(const std::string& name) {
  auto underscore = name.rfind('_');
  if (underscore == std::string::npos) return -1;
  long v = 0;
  bool any = false;
  for (std::size_t i = underscore + 1; i < name.size() && std::isdigit(static_cast<unsigned char>(name[i])); ++i) {
    v = v * 10 + (name[i] - '0');
    any = true;
  }
  return any ? v : -1;
}

// Files or directories in dir whose names start with prefix, ordered by numeric suffix.
std::vector<fs::path> numbered(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    auto name = entry.path().filename().string();
    if (name.compare(0, prefix.size(), prefix) == 0 && numeric_suffix(name) >= 0) out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end(), [](const fs::path& a, const fs::path& b) {
    return numeric_suffix(a.filename().string()) < numeric_suffix(b.filename().string());
  });
  return out;
}

test_status status_for(errc code) {
  return code == errc::not_implemented ? test_status::unsupported : test_status::fail;
}

bool is_float(dtype t) {
  return t == dtype::f32 || t == dtype::f64 || t == dtype::f16 || t == dtype::bf16;
}

double float_at(const tensor& t, std::int64_t i) {
  switch (t.type()) {
    case dtype::f32: return t.data<float>()[i];
    case dtype::f64: return t.data<double>()[i];
    case dtype::f16: return half_to_float(t.data<std::uint16_t>()[i]);
    case dtype::bf16: return bfloat16_to_float(t.data<std::uint16_t>()[i]);
    default: return 0;
  }
}

// Integer and bool elements widened for exact comparison; unsigned 64-bit values keep their
// bit pattern, which compares exactly all the same.
std::int64_t int_at(const tensor& t, std::int64_t i) {
  switch (t.type()) {
    case dtype::i8: return t.data<std::int8_t>()[i];
    case dtype::u8: return t.data<std::uint8_t>()[i];
    case dtype::boolean: return t.data<std::uint8_t>()[i];
    case dtype::i16: return t.data<std::int16_t>()[i];
    case dtype::u16: return t.data<std::uint16_t>()[i];
    case dtype::i32: return t.data<std::int32_t>()[i];
    case dtype::u32: return t.data<std::uint32_t>()[i];
    case dtype::i64: return t.data<std::int64_t>()[i];
    case dtype::u64: return static_cast<std::int64_t>(t.data<std::uint64_t>()[i]);
    default: return 0;
  }
}

std::string format_int(dtype t, std::int64_t v) {
  if (t == dtype::boolean) return v ? "true" : "false";
  if (t == dtype::u64) return std::to_string(static_cast<std::uint64_t>(v));
  return std::to_string(v);
}

std::string format_float(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::string index_of(const shape_t& shape, std::int64_t flat) {
  shape_t index(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    index[d] = shape[d] ? flat % shape[d] : 0;
    flat = shape[d] ? flat / shape[d] : 0;
  }
  return to_string(index);
}

// The graph value that the k-th test file feeds or checks: by the proto's name when it
// names one of the candidates, else by position.
const value_info* match(const std::vector<value_info>& candidates, const std::string& proto_name,
                        std::size_t position) {
  if (!proto_name.empty())
    for (const auto& v : candidates)
      if (v.name == proto_name) return &v;
  return position < candidates.size() ? &candidates[position] : nullptr;
}

// The backend tests store bfloat16 data as uint16 (NumPy has no bfloat16): such a tensor is
// given the declared type, keeping its bits.
tensor as_declared(tensor t, dtype declared) {
  if (declared != dtype::bf16 || t.type() != dtype::u16) return t;
  tensor out(dtype::bf16, t.shape());
  if (t.bytes()) std::memcpy(out.raw(), t.raw(), t.bytes());
  return out;
}

// A loader message without the model path that starts it (the test name says which model).
std::string without_path(std::string message, const fs::path& path) {
  const std::string prefix = "'" + path.string() + "': ";
  const std::string bare = "'" + path.string() + "' ";
  if (message.compare(0, prefix.size(), prefix) == 0) return message.substr(prefix.size());
  if (message.compare(0, bare.size(), bare) == 0) return "the model " + message.substr(bare.size());
  return message;
}

test_outcome run_test_guarded(const backend_test& test, const kernel_registry& kernels) {
  test_outcome out{test.name, test_status::fail, ""};
  const fs::path model_path = test.dir / "model.onnx";
  auto loaded = load_onnx_file(model_path);
  if (!loaded) {
    out.status = status_for(loaded.code());
    out.reason = "load: " + without_path(loaded.error().message, model_path);
    return out;
  }
  auto model = std::make_shared<const graph>(std::move(loaded.value()));
  auto ip = interpreter::create(model, kernels);
  if (!ip) {
    out.status = status_for(ip.code());
    out.reason = ip.error().message;
    return out;
  }
  auto sets = numbered(test.dir, "test_data_set_");
  if (sets.empty()) {
    out.reason = "no test_data_set_N directories";
    return out;
  }
  for (const auto& set : sets) {
    const std::string where = sets.size() > 1 ? " (" + set.filename().string() + ")" : std::string();
    std::map<std::string, tensor> inputs;
    auto input_files = numbered(set, "input_");
    for (std::size_t k = 0; k < input_files.size(); ++k) {
      std::string name;
      auto t = load_tensor_pb(input_files[k], &name);
      if (!t) {
        out.status = status_for(t.code());
        out.reason = "input " + std::to_string(k) + where + ": " + t.error().message;
        return out;
      }
      const value_info* v = match(model->inputs, name, k);
      if (!v) {
        out.reason = input_files[k].filename().string() + where + " matches no graph input";
        return out;
      }
      inputs[v->name] = as_declared(std::move(t.value()), v->type);
    }
    auto result = ip->run(inputs);
    if (!result) {
      out.status = status_for(result.code());
      out.reason = "run" + where + ": " + result.error().message;
      return out;
    }
    auto output_files = numbered(set, "output_");
    if (output_files.size() != model->outputs.size()) {
      out.reason = "the test has " + std::to_string(output_files.size()) + " expected outputs" + where +
                   ", the model " + std::to_string(model->outputs.size());
      return out;
    }
    for (std::size_t k = 0; k < output_files.size(); ++k) {
      std::string name;
      auto expected = load_tensor_pb(output_files[k], &name);
      if (!expected) {
        out.status = status_for(expected.code());
        out.reason = "expected output " + std::to_string(k) + where + ": " + expected.error().message;
        return out;
      }
      const value_info* v = match(model->outputs, name, k);
      auto actual = result->find(v->name);
      if (actual == result->end()) {
        out.reason = "output '" + v->name + "'" + where + " was not produced";
        return out;
      }
      auto diff = compare_tensors(as_declared(std::move(expected.value()), v->type), actual->second);
      if (!diff.empty()) {
        out.reason = "output '" + v->name + "'" + where + ": " + diff;
        return out;
      }
    }
  }
  out.status = test_status::pass;
  return out;
}

// Writes all of data to fd, retrying on interruption.
void write_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

// Runs tests[start...] in a forked worker process, which reports each outcome over a pipe as
// a record: status digit, 4-byte little-endian length, reason. `report` receives each outcome
// as it arrives. Returns how many tests the worker finished; when it finished fewer than all,
// `stopped` says why it ended (the test after the finished ones caused it).
std::size_t run_worker(const std::vector<const backend_test*>& tests, std::size_t start,
                       const kernel_registry& kernels, unsigned timeout,
                       const std::function<void(test_outcome)>& report, std::string& stopped) {
  int fds[2];
  if (::pipe(fds) != 0) {
    stopped = std::string("cannot create a pipe: ") + std::strerror(errno);
    return 0;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    stopped = std::string("cannot fork: ") + std::strerror(errno);
    return 0;
  }
  if (pid == 0) {
    ::close(fds[0]);
    // The worker must die of a crash rather than run a handler the caller installed (a test
    // framework's, say), so the parent sees the signal.
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGALRM}) ::signal(sig, SIG_DFL);
    for (std::size_t i = start; i < tests.size(); ++i) {
      if (timeout) ::alarm(timeout);
      test_outcome o = run_backend_test(*tests[i], kernels);
      ::alarm(0);
      std::string record(1, static_cast<char>('0' + static_cast<int>(o.status)));
      const auto length = static_cast<std::uint32_t>(o.reason.size());
      for (int b = 0; b < 4; ++b) record.push_back(static_cast<char>((length >> (8 * b)) & 0xff));
      write_all(fds[1], record + o.reason);
    }
    ::close(fds[1]);
    ::_exit(0);
  }
  ::close(fds[1]);
  std::size_t done = 0;
  std::string pending;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    pending.append(buf, static_cast<std::size_t>(n));
    while (pending.size() >= 5) {
      std::uint32_t length = 0;
      for (int b = 0; b < 4; ++b)
        length |= static_cast<std::uint32_t>(static_cast<unsigned char>(pending[1 + b])) << (8 * b);
      if (pending.size() < 5 + length || start + done >= tests.size()) break;
      const backend_test& test = *tests[start + done];
      int status = pending[0] - '0';
      if (status < 0 || status > 2) status = static_cast<int>(test_status::fail);
      report({test.name, static_cast<test_status>(status), pending.substr(5, length)});
      pending.erase(0, 5 + length);
      ++done;
    }
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (start + done < tests.size()) {
    if (WIFSIGNALED(status)) {
      int sig = WTERMSIG(status);
      stopped = sig == SIGALRM ? "timed out after " + std::to_string(timeout) + " s"
                               : "crashed with signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
    } else {
      stopped = "the test process exited with status " + std::to_string(WEXITSTATUS(status)) +
                " without a result";
    }
  }
  return done;
}

}  // namespace

std::string compare_tensors(const tensor& expected, const tensor& actual, double rtol, double atol) {
  if (expected.type() != actual.type())
    return "type: expected " + std::string(to_string(expected.type())) + ", got " +
           std::string(to_string(actual.type()));
  if (expected.shape() != actual.shape())
    return "shape: expected " + to_string(expected.shape()) + ", got " + to_string(actual.shape());
  const std::int64_t n = expected.elements();
  if (n > 0 && (!expected.raw() || !actual.raw())) return "a tensor has no data";
  std::int64_t first = -1, differing = 0;
  double max_diff = 0;
  if (is_float(expected.type())) {
    for (std::int64_t i = 0; i < n; ++i) {
      double e = float_at(expected, i), a = float_at(actual, i);
      if (e == a || (std::isnan(e) && std::isnan(a))) continue;
      double diff = std::fabs(a - e);
      if (std::isfinite(e) && diff <= atol + rtol * std::fabs(e)) continue;
      if (first < 0) first = i;
      ++differing;
      if (!(diff <= max_diff)) max_diff = diff;
    }
    if (first < 0) return {};
    return "element " + std::to_string(first) + " (index " + index_of(expected.shape(), first) +
           "): expected " + format_float(float_at(expected, first)) + ", got " +
           format_float(float_at(actual, first)) + "; " + std::to_string(differing) + " of " +
           std::to_string(n) + " elements differ, max abs diff " + format_float(max_diff);
  }
  for (std::int64_t i = 0; i < n; ++i)
    if (int_at(expected, i) != int_at(actual, i)) {
      if (first < 0) first = i;
      ++differing;
    }
  if (first < 0) return {};
  return "element " + std::to_string(first) + " (index " + index_of(expected.shape(), first) +
         "): expected " + format_int(expected.type(), int_at(expected, first)) + ", got " +
         format_int(actual.type(), int_at(actual, first)) + "; " + std::to_string(differing) + " of " +
         std::to_string(n) + " elements differ";
}

result<std::vector<backend_test>> list_backend_tests(const std::vector<fs::path>& roots) {
  std::vector<backend_test> tests;
  for (const auto& given : roots) {
    fs::path root = normalised(given);
    std::error_code ec;
    if (!fs::is_directory(root, ec))
      return fail(errc::io_error, "test directory '" + given.string() + "' does not exist");
    if (is_test_dir(root)) {
      tests.push_back({root.parent_path().filename().string() + "/" + root.filename().string(), root});
      continue;
    }
    bool suite_root = false;
    for (const char* folder : suite_folders)
      if (fs::is_directory(root / folder, ec)) {
        suite_root = true;
        add_folder(root / folder, tests);
      }
    if (!suite_root) add_folder(root, tests);
  }
  std::sort(tests.begin(), tests.end(),
            [](const backend_test& a, const backend_test& b) { return a.name < b.name; });
  return tests;
}

test_outcome run_backend_test(const backend_test& test, const kernel_registry& kernels) {
  try {
    return run_test_guarded(test, kernels);
  } catch (const std::exception& e) {
    return {test.name, test_status::fail, std::string("exception: ") + e.what()};
  } catch (...) {
    return {test.name, test_status::fail, "unknown exception"};
  }
}

result<conformance_summary> run_conformance(const std::vector<backend_test>& tests,
                                            const conformance_options& options,
                                            const kernel_registry& kernels) {
  std::regex filter;
  try {
    if (!options.filter.empty()) filter = std::regex(options.filter, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return fail(errc::invalid_argument, "invalid --filter regex '" + options.filter + "': " + e.what());
  }
  std::vector<const backend_test*> selected;
  for (const auto& test : tests)
    if (options.filter.empty() || std::regex_search(test.name, filter)) selected.push_back(&test);

  conformance_summary summary;
  auto record = [&](test_outcome o) {
    switch (o.status) {
      case test_status::pass: ++summary.passed; break;
      case test_status::fail: ++summary.failed; break;
      case test_status::unsupported: ++summary.unsupported; break;
    }
    if (options.on_result) options.on_result(o);
    summary.tests.push_back(std::move(o));
  };
  if (!options.isolate) {
    for (const auto* test : selected) record(run_backend_test(*test, kernels));
    return summary;
  }
  prepare_onnx_schemas();
  std::size_t next = 0;
  while (next < selected.size()) {
    std::string stopped;
    next += run_worker(selected, next, kernels, options.child_timeout_seconds, record, stopped);
    if (next < selected.size()) {
      record({selected[next]->name, test_status::fail, stopped});
      ++next;
    }
  }
  return summary;
}

}  // namespace edgert::engine
