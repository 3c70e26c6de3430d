#include "edgert/model_instance.hpp"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>

#include "actors/exec/trace.hpp"
#include "api/context_core.hpp"
#include "api/execution_units.hpp"
#include "api/serving_core.hpp"
#include "api/unwrap.hpp"
#include "edgert/context.hpp"

namespace edgert {

namespace {

constexpr std::uint64_t sequence_mask = (std::uint64_t{1} << 48) - 1;
constexpr std::size_t done_table_size = 65536;  // > any number of requests in flight
constexpr std::size_t error_tracker_limit = 1024;

std::atomic<std::uint16_t> next_unit_id{1};

void signal_fd(int fd) {
  const std::uint64_t one = 1;
  (void)!::write(fd, &one, sizeof one);
}

// A file descriptor mapped for one call; unmapped when it goes.
struct mapped_fd {
  void* address = MAP_FAILED;
  std::size_t bytes = 0;
  mapped_fd(int fd, std::size_t size, const std::string& what) : bytes(size) {
    if (fd < 0) throw InvalidArgument(what + ": invalid file descriptor " + std::to_string(fd));
    if (size == 0) return;
    address = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (address == MAP_FAILED)
      throw InvalidArgument(what + ": cannot map file descriptor " + std::to_string(fd) + " (" +
                            std::strerror(errno) + ")");
    struct stat st {};
    if (::fstat(fd, &st) == 0 && static_cast<std::size_t>(st.st_size) < size) {
      ::munmap(address, size);
      address = MAP_FAILED;
      throw InvalidArgument(what + ": file descriptor " + std::to_string(fd) + " holds " +
                            std::to_string(st.st_size) + " bytes, " + std::to_string(size) + " needed");
    }
  }
  ~mapped_fd() {
    if (address != MAP_FAILED) ::munmap(address, bytes);
  }
  mapped_fd(const mapped_fd&) = delete;
  mapped_fd& operator=(const mapped_fd&) = delete;
};

}  // namespace

// Shared by the handle and by the completion callbacks of scheduled requests (which run on
// worker threads); the serving core's close() waits for those callbacks, so the state
// outlives them.
struct ModelInstance::state {
  std::shared_ptr<serving_core> serving;
  ModelInstanceOptions options;
  std::uint64_t unit_bits = 0;  // the execution-unit id, shifted into the top 16 bits
  std::atomic<std::uint64_t> next_sequence{1};
  std::unique_ptr<std::atomic<std::uint64_t>[]> done{
      new std::atomic<std::uint64_t>[done_table_size]()};
  exec::wait_word completed;

  std::mutex fd_mutex;
  std::multimap<std::uint64_t, int> fd_waiters;  // sequence -> our duplicate of the fd
  std::atomic<std::size_t> fd_waiter_count{0};

  mutable std::mutex error_mutex;
  std::deque<ScheduledError> errors;
  std::uint64_t dropped = 0;

  std::uint64_t sequence_of(std::uint64_t id) const {
    if ((id & ~sequence_mask) != unit_bits)
      throw InvalidArgument("id " + std::to_string(id) + " was not issued by this model instance");
    const auto sequence = id & sequence_mask;
    if (sequence == 0 || sequence >= next_sequence.load(std::memory_order_acquire))
      throw InvalidArgument("id " + std::to_string(id) + " was not issued by this model instance");
    return sequence;
  }

  bool sequence_done(std::uint64_t sequence) const {
    return done[sequence % done_table_size].load() >= sequence;
  }

  void finish(std::uint64_t sequence, errc code, const std::string& message) {
    if (code != errc::ok) {
      std::lock_guard<std::mutex> guard(error_mutex);
      if (errors.size() == error_tracker_limit) {
        errors.pop_front();
        ++dropped;
      }
      errors.push_back(ScheduledError{unit_bits | sequence, code, message});
    }
    done[sequence % done_table_size].store(sequence);
    completed.bump();
    if (fd_waiter_count.load() == 0) return;
    std::lock_guard<std::mutex> guard(fd_mutex);
    auto range = fd_waiters.equal_range(sequence);
    for (auto i = range.first; i != range.second; ++i) {
      signal_fd(i->second);
      ::close(i->second);
      fd_waiter_count.fetch_sub(1);
    }
    fd_waiters.erase(range.first, range.second);
  }
};

ModelInstance::ModelInstance(std::shared_ptr<state> s) : state_(std::move(s)) {}
ModelInstance::ModelInstance(ModelInstance&&) noexcept = default;
ModelInstance& ModelInstance::operator=(ModelInstance&&) noexcept = default;

ModelInstance::~ModelInstance() {
  if (state_) close(state_->options.timeout);
}

namespace {

void copy_outputs(exec::slot& s, std::vector<Tensor>& outputs) {
  for (std::size_t i = 0; i < outputs.size(); ++i)
    if (outputs[i].size_bytes()) std::memcpy(outputs[i].data(), s.outputs[i], outputs[i].size_bytes());
}

}  // namespace

void ModelInstance::run(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs) {
  if (!state_) throw Closed("this model instance was moved from");
  auto& core = *state_->serving;
  core.check_outputs(outputs);
  const auto id = core.fill(inputs);
  core.service->submit(id, 0, exec::completion_route::wait);
  if (!core.service->wait(id, core.deadline()))
    throw Timeout(core.service->name() + ": no result within " +
                  std::to_string(core.timeout.count()) + " ms (the request still completes)");
  auto& s = core.service->at(id);
  const auto code = s.code;
  const auto message = s.message;
  if (code == errc::ok) copy_outputs(s, outputs);
  core.service->release(id);
  if (code != errc::ok) throw_error(code, message);
}

void ModelInstance::run_fds(const std::vector<int>& input_fds, const std::vector<int>& output_fds) {
  if (!state_) throw Closed("this model instance was moved from");
  if (!state_->options.input_dmabuf || !state_->options.output_dmabuf)
    throw InvalidArgument("run_fds needs a model instance loaded with input_dmabuf and output_dmabuf");
  const auto& ins = inputs();
  const auto& outs = outputs();
  if (input_fds.size() != ins.size() || output_fds.size() != outs.size())
    throw InvalidArgument("run_fds takes " + std::to_string(ins.size()) + " input and " +
                          std::to_string(outs.size()) + " output file descriptors");
  std::vector<std::unique_ptr<mapped_fd>> maps;
  std::vector<Tensor> in_views, out_views;
  for (std::size_t i = 0; i < ins.size(); ++i) {
    maps.push_back(std::make_unique<mapped_fd>(input_fds[i], ins[i].size_bytes(), "input '" + ins[i].name + "'"));
    in_views.push_back(Tensor::view(ins[i].dtype, ins[i].shape, maps.back()->address));
  }
  for (std::size_t i = 0; i < outs.size(); ++i) {
    maps.push_back(std::make_unique<mapped_fd>(output_fds[i], outs[i].size_bytes(), "output '" + outs[i].name + "'"));
    out_views.push_back(Tensor::view(outs[i].dtype, outs[i].shape, maps.back()->address));
  }
  run(in_views, out_views);
}

std::uint64_t ModelInstance::schedule(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs) {
  if (!state_) throw Closed("this model instance was moved from");
  auto& core = *state_->serving;
  core.check_outputs(outputs);
  const auto slot = core.fill(inputs);
  const auto sequence = state_->next_sequence.fetch_add(1, std::memory_order_acq_rel);
  auto* st = state_.get();
  std::vector<void*> targets;
  for (auto& o : outputs) targets.push_back(o.data());
  core.service->submit(slot, sequence, exec::completion_route::callback,
                       [st, sequence, targets = std::move(targets)](exec::slot_id id) {
                         auto& service = *st->serving->service;
                         auto& s = service.at(id);
                         if (s.code == errc::ok)
                           for (std::size_t i = 0; i < targets.size(); ++i)
                             std::memcpy(targets[i], s.outputs[i], st->serving->outputs[i].size_bytes());
                         const auto code = s.code;
                         const auto message = s.message;
                         service.release(id);
                         st->finish(sequence, code, message);
                       });
  return state_->unit_bits | sequence;
}

bool ModelInstance::is_completed(std::uint64_t id) const {
  if (!state_) throw Closed("this model instance was moved from");
  return state_->sequence_done(state_->sequence_of(id));
}

int ModelInstance::completion_fd(std::uint64_t id) {
  if (!state_) throw Closed("this model instance was moved from");
  const auto sequence = state_->sequence_of(id);
  const int fd = ::eventfd(0, EFD_CLOEXEC);
  if (fd < 0) throw IoError(std::string("eventfd failed: ") + std::strerror(errno));
  std::lock_guard<std::mutex> guard(state_->fd_mutex);
  state_->fd_waiter_count.fetch_add(1);
  if (state_->sequence_done(sequence)) {
    state_->fd_waiter_count.fetch_sub(1);
    signal_fd(fd);
    return fd;
  }
  const int ours = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (ours < 0) {
    state_->fd_waiter_count.fetch_sub(1);
    ::close(fd);
    throw IoError(std::string("cannot duplicate the completion fd: ") + std::strerror(errno));
  }
  state_->fd_waiters.emplace(sequence, ours);
  return fd;
}

bool ModelInstance::wait(std::uint64_t id, std::chrono::milliseconds timeout) {
  if (!state_) throw Closed("this model instance was moved from");
  const auto sequence = state_->sequence_of(id);
  const auto deadline = exec::clock::now() + timeout;
  for (;;) {
    const auto seen = state_->completed.load();
    if (state_->sequence_done(sequence)) return true;
    if (!state_->completed.wait_while(seen, deadline)) return state_->sequence_done(sequence);
  }
}

std::vector<ScheduledError> ModelInstance::take_errors() {
  if (!state_) throw Closed("this model instance was moved from");
  std::lock_guard<std::mutex> guard(state_->error_mutex);
  std::vector<ScheduledError> out(state_->errors.begin(), state_->errors.end());
  state_->errors.clear();
  return out;
}

std::uint64_t ModelInstance::dropped_errors() const {
  if (!state_) return 0;
  std::lock_guard<std::mutex> guard(state_->error_mutex);
  return state_->dropped;
}

const std::vector<TensorInfo>& ModelInstance::inputs() const { return state_->serving->inputs; }
const std::vector<TensorInfo>& ModelInstance::outputs() const { return state_->serving->outputs; }

InstanceHealth ModelInstance::health() const {
  if (!state_) throw Closed("this model instance was moved from");
  auto& supervisor = state_->serving->supervisor;
  return supervisor ? to_public(supervisor->health()) : InstanceHealth{};
}

bool ModelInstance::close(std::chrono::milliseconds timeout) {
  if (!state_) return true;
  return state_->serving->service->close(exec::clock::now() + timeout);
}

ModelInstance Connection::load_model_instance(const Model& model, ModelInstanceOptions options) {
  if (released()) throw Closed("this connection has been released");
  if (!model.core()) throw InvalidArgument("load_model_instance needs a loaded model");
  if (options.num_sub_devices > sub_devices_.size())
    throw InvalidArgument("the connection holds " + std::to_string(sub_devices_.size()) +
                          " sub-device(s); " + std::to_string(options.num_sub_devices) + " requested");
  if (options.num_runtimes == 0 || options.num_runtimes > 65535)
    throw InvalidArgument("num_runtimes must be 1 to 65535");
  open_call call{*core_};
  const auto info = core_->device_info(device_);
  const unsigned subs = options.num_sub_devices ? options.num_sub_devices
                                                : static_cast<unsigned>(sub_devices_.size());
  if (options.aipu_cores > info.sub_devices)
    throw InvalidArgument("aipu_cores " + std::to_string(options.aipu_cores) + " exceeds the " +
                          std::to_string(info.sub_devices) + " cores of " + info.name);
  // Double buffering keeps a second job ready per sub-device of a board; the host device's
  // sub-devices are CPU cores, where a second worker would only compete for the core.
  const bool host = info.board_type == BoardType::host;
  const std::size_t units = std::size_t{subs} * (options.double_buffer && !host ? 2 : 1);
  serving_options so;
  so.device = device_;
  so.worker_num = static_cast<unsigned>(units);
  so.threads = options.threads;
  so.slot_count = std::max<std::size_t>(options.num_runtimes, units);
  so.max_queued = so.slot_count;
  so.timeout = options.timeout;
  so.supervision = options.supervision;
  so.profile_spans = (options.host_profiling ? exec::host_spans : 0u) |
                     (options.device_profiling ? exec::device_spans : 0u);
  so.profile_file = options.profile_file;
  auto s = std::make_shared<ModelInstance::state>();
  s->options = options;
  s->unit_bits = std::uint64_t{next_unit_id.fetch_add(1)} << 48;
  const std::vector<unsigned> used(sub_devices_.begin(), sub_devices_.begin() + subs);
  s->serving = serve_on(core_, model.core(), info, used, units, so);
  return ModelInstance(std::move(s));
}

}  // namespace edgert
