// worker_protocol: what a process runner (actors/exec/process_runner.hpp) and its worker
// process (tools/edgert_worker) agree on: the file descriptors the worker inherits, its
// command line, the layout of the shared-memory region that carries one job's tensors, and
// the messages they exchange over caf::io on loopback.
//
//   parent -> worker   (worker_job_atom, seq, fault, key) run the plan once on the region;
//                                                           fault (worker_fault): die of a
//                                                           segfault or hang first; key: see
//                                                           below
//   worker -> parent   (worker_done_atom, seq, device_time_ns, begin_ns, end_ns)
//                      (worker_fail_atom, seq, errc as int32, message)
//
// Every field is a type CAF serialises without registration (atoms, integers, bool,
// std::string), so neither side adds message types. The worker's stdout carries one line,
// "port N" once its actor is published or "error: ..." when it could not start; its stdin
// is the lifeline: a pipe whose write end only the parent holds. Its first 8 bytes are the
// worker's key, a random number every job message must carry: the worker's port is open
// to any local process, and only its parent knows the key. Then the worker exits at the
// pipe's end of file, so it never outlives the parent.
//
// Declarations, arithmetic and configuration; no threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/io/middleman.hpp>

namespace edgert::exec {

using worker_job_atom = caf::atom_constant<caf::atom("wjob")>;
using worker_done_atom = caf::atom_constant<caf::atom("wdone")>;
using worker_fail_atom = caf::atom_constant<caf::atom("wfail")>;

/// An injected fault a job carries to its worker (fault injection for tests and scenarios).
enum class worker_fault : std::int32_t {
  none = 0,
  crash = 1,  // the worker dies of a real segfault
  hang = 2,   // the worker never answers (until its parent's watchdog kills it)
};

/// The actor-system settings of both ends of a worker link (call before constructing the
/// system): the io module, and one scheduler thread with the sharing policy and no extra
/// io workers, which halve a loopback round trip against CAF's defaults (team notes).
inline void configure_worker_link(caf::actor_system_config& config) {
  config.load<caf::io::middleman>();
  config.set("scheduler.policy", caf::atom("sharing"));
  config.set("scheduler.max-threads", static_cast<std::size_t>(1));
  config.set("middleman.workers", static_cast<std::size_t>(0));
}

/// The shared-memory region (a memfd) arrives as this descriptor in the worker.
constexpr int worker_shm_fd = 3;
/// A model given as bytes (not as a file) arrives as this descriptor (a memfd).
constexpr int worker_model_fd = 4;

/// Where each tensor of one job lives in the region: inputs, then outputs, each aligned
/// to 64 bytes. Both sides compute it from the same per-job byte sizes.
struct shm_layout {
  std::vector<std::size_t> input_offsets, output_offsets;
  std::size_t total = 0;  // region size, at least 64

  static shm_layout of(const std::vector<std::size_t>& input_bytes,
                       const std::vector<std::size_t>& output_bytes) {
    shm_layout l;
    std::size_t at = 0;
    auto place = [&at](std::size_t bytes) {
      const std::size_t offset = at;
      at += (bytes + 63) / 64 * 64;
      return offset;
    };
    for (auto b : input_bytes) l.input_offsets.push_back(place(b));
    for (auto b : output_bytes) l.output_offsets.push_back(place(b));
    l.total = at < 64 ? 64 : at;
    return l;
  }
};

}  // namespace edgert::exec
