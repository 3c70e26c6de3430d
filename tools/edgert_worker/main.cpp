// edgert-worker: the process a process-isolated model instance computes in (see
// actors/exec/process_runner.hpp and actors/exec/worker_protocol.hpp). Started only by a
// process runner, never by hand:
//
//   edgert-worker --name NAME --threads N --batch B --inputs BYTES,... --outputs BYTES,...
//                 (--model FILE | --model-fd 4 --base-dir DIR)
//
// It loads the model, compiles its plan, maps the shared-memory region on fd 3, publishes
// one actor on 127.0.0.1 (an ephemeral port) and prints "port N" (or "error: ..." and
// exits 1). The actor runs the plan on the region once per job message and answers with
// the job's times or its error. The main thread then blocks on stdin, the lifeline: at its
// end of file (the parent closed it, or died) the process exits at once.
//
// Threads: the main thread (start-up, then the lifeline), the actor system's scheduler
// thread that runs the job actor (and the plan's compute threads), and the middleman's
// multiplexer thread.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/exec/plan_runner.hpp"
#include "actors/exec/worker_protocol.hpp"
#include "api/model_core.hpp"
#include "engine/plan.hpp"

namespace {

using namespace edgert;

struct worker_job {
  std::unique_ptr<exec::plan_runner> runner;
  std::vector<const void*> inputs;  // into the shared region
  std::vector<void*> outputs;
  std::uint64_t key = 0;  // from the lifeline; every job must carry it
};

[[noreturn]] void fail_start(const std::string& why) {
  std::printf("error: %s\n", why.c_str());
  std::fflush(stdout);
  std::_Exit(1);
}

// The injected fault: a real segfault, a write through a null pointer the compiler cannot
// see through (a volatile pointer) and must not drop (a volatile target).
[[noreturn]] void crash_now() {
  rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);  // an injected crash writes no core file
  std::signal(SIGSEGV, SIG_DFL);
  volatile int* volatile target = nullptr;
  *target = 1;
  std::raise(SIGSEGV);  // not reached
  std::abort();
}

// The injected hang: the job never ends; the parent's watchdog kills the process.
[[noreturn]] void hang_now() {
  for (;;) ::pause();
}

bool read_exactly(int fd, void* into, std::size_t bytes) {
  auto* at = static_cast<char*>(into);
  while (bytes > 0) {
    const auto n = ::read(fd, at, bytes);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    at += n;
    bytes -= static_cast<std::size_t>(n);
  }
  return true;
}

std::vector<std::size_t> sizes(const std::string& list) {
  std::vector<std::size_t> out;
  if (list == "-") return out;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(static_cast<std::size_t>(std::stoull(item)));
  return out;
}

std::string read_fd(int fd) {
  std::string bytes;
  char buffer[1 << 16];
  if (::lseek(fd, 0, SEEK_SET) < 0) fail_start("cannot rewind the model descriptor");
  while (true) {
    const auto n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_start(std::string("cannot read the model: ") + std::strerror(errno));
    if (n == 0) break;
    bytes.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return bytes;
}

caf::behavior job_actor(caf::event_based_actor* self, worker_job* job) {
  self->set_default_handler(caf::drop);
  return {
      [=](exec::worker_job_atom, std::uint64_t seq, std::int32_t fault, std::uint64_t key) -> caf::message {
        if (key != job->key)  // not from the parent: no job, no injected fault
          return caf::make_message(exec::worker_fail_atom::value, seq,
                                   static_cast<std::int32_t>(errc::invalid_argument),
                                   std::string("this worker only takes jobs from its parent"));
        if (fault == static_cast<std::int32_t>(exec::worker_fault::crash)) crash_now();
        if (fault == static_cast<std::int32_t>(exec::worker_fault::hang)) hang_now();
        try {
          auto ran = job->runner->run(job->inputs, job->outputs);
          if (!ran)
            return caf::make_message(exec::worker_fail_atom::value, seq,
                                     static_cast<std::int32_t>(ran.error().code), ran.error().message);
          return caf::make_message(exec::worker_done_atom::value, seq, ran->device_time_ns,
                                   ran->compute_begin_ns, ran->compute_end_ns);
        } catch (const std::exception& e) {
          return caf::make_message(exec::worker_fail_atom::value, seq,
                                   static_cast<std::int32_t>(errc::internal_error),
                                   std::string("the plan threw in the worker process: ") + e.what());
        }
      },
  };
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strncmp(argv[i], "--", 2) != 0) fail_start(std::string("unexpected argument ") + argv[i]);
    args[argv[i] + 2] = argv[i + 1];
  }
  for (const char* needed : {"name", "threads", "batch", "inputs", "outputs"})
    if (!args.count(needed)) fail_start(std::string("--") + needed + " is missing");
  const std::string name = args["name"];

  worker_job job;
  if (!read_exactly(STDIN_FILENO, &job.key, sizeof job.key)) fail_start("the parent sent no key");
  std::size_t region_bytes = 0;
  void* region = nullptr;
  try {
    std::shared_ptr<const model_core> model;
    if (args.count("model")) {
      model = load_model_file(args["model"]);
    } else if (args.count("model-fd")) {
      model = load_model_bytes(read_fd(std::stoi(args["model-fd"])), args["base-dir"]);
    } else {
      fail_start("neither --model nor --model-fd was given");
    }
    const auto threads = static_cast<unsigned>(std::stoul(args["threads"]));
    const auto batch = static_cast<unsigned>(std::stoul(args["batch"]));
    auto plan = model->plan_for(threads);
    if (!plan) fail_start(name + ": " + plan.error().message);
    auto runner = exec::plan_runner::create(*plan, batch);
    if (!runner) fail_start(name + ": " + runner.error().message);
    job.runner = std::move(*runner);

    const auto in_bytes = sizes(args["inputs"]);
    const auto out_bytes = sizes(args["outputs"]);
    auto bytes_of = [batch](const engine::value_info& v) {
      return static_cast<std::size_t>(engine::element_count(*v.shape)) * engine::size_of(v.type) * batch;
    };
    const auto& plan_in = (*plan)->inputs();
    const auto& plan_out = (*plan)->outputs();
    bool same = plan_in.size() == in_bytes.size() && plan_out.size() == out_bytes.size();
    for (std::size_t i = 0; same && i < in_bytes.size(); ++i) same = bytes_of(plan_in[i]) == in_bytes[i];
    for (std::size_t i = 0; same && i < out_bytes.size(); ++i) same = bytes_of(plan_out[i]) == out_bytes[i];
    if (!same) fail_start(name + ": the model's tensors here differ from those of the serving process");

    const auto layout = exec::shm_layout::of(in_bytes, out_bytes);
    struct stat st {};
    if (::fstat(exec::worker_shm_fd, &st) != 0 || static_cast<std::size_t>(st.st_size) < layout.total)
      fail_start("the shared-memory region on descriptor 3 is missing or too small");
    region_bytes = layout.total;
    region = ::mmap(nullptr, region_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, exec::worker_shm_fd, 0);
    if (region == MAP_FAILED) fail_start(std::string("cannot map the shared memory: ") + std::strerror(errno));
    ::close(exec::worker_shm_fd);
    auto* base = static_cast<std::byte*>(region);
    for (auto offset : layout.input_offsets) job.inputs.push_back(base + offset);
    for (auto offset : layout.output_offsets) job.outputs.push_back(base + offset);
  } catch (const std::exception& e) {
    fail_start(name + ": " + e.what());
  }

  caf::actor_system_config config;
  exec::configure_worker_link(config);
  caf::actor_system system{config};
  auto actor = system.spawn(job_actor, &job);
  auto port = system.middleman().publish(actor, 0, "127.0.0.1", true);
  if (!port) fail_start("cannot publish the job actor: " + system.render(port.error()));
  std::printf("port %u\n", static_cast<unsigned>(*port));
  std::fflush(stdout);
  // Nothing more goes to the parent's pipe; stray output must not meet a closed pipe.
  if (const int null = ::open("/dev/null", O_WRONLY); null >= 0) {
    ::dup2(null, STDOUT_FILENO);
    ::close(null);
  }

  char byte = 0;
  while (true) {
    const auto n = ::read(STDIN_FILENO, &byte, 1);
    if (n > 0 || (n < 0 && errno == EINTR)) continue;
    break;  // end of file: the parent let go of us (or died)
  }
  std::_Exit(0);
}
