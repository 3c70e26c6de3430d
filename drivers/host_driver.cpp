// host_driver: the host CPU presented as a device; facts come from the running system.
#include "drivers/host_driver.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>

#include "drivers/sub_device_leases.hpp"

namespace edgert {

namespace {

unsigned online_cores() {
  const long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? static_cast<unsigned>(online) : 1;
}

std::uint64_t physical_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page_size <= 0) return 0;
  return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size);
}

std::string kernel_release() {
  utsname names{};
  if (::uname(&names) != 0) return "unknown";
  return names.release;
}

// The first "model name" line of /proc/cpuinfo (x86); some arm64 kernels name the
// processor under "Model" or "Hardware" instead.
std::string cpu_model_name() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, fallback;
  auto value_of = [](const std::string& text) {
    std::string value = text.substr(text.find(':') + 1);
    const auto first = value.find_first_not_of(" \t");
    return first == std::string::npos ? std::string() : value.substr(first);
  };
  while (std::getline(cpuinfo, line)) {
    if (line.find(':') == std::string::npos) continue;
    if (line.rfind("model name", 0) == 0) {
      const std::string value = value_of(line);
      if (!value.empty()) return value;
    } else if (fallback.empty() && (line.rfind("Model", 0) == 0 || line.rfind("Hardware", 0) == 0)) {
      fallback = value_of(line);
    }
  }
  return fallback.empty() ? "unknown CPU" : fallback;
}

}  // namespace

host_driver::host_driver(std::string name, std::shared_ptr<const lease_registry> leases,
                         unsigned cores, unsigned kind_ordinal)
    : name_(std::move(name)), leases_(std::move(leases)), cpu_model_(cpu_model_name()) {
  const unsigned online = online_cores();
  description_.id = "host-" + std::to_string(kind_ordinal);
  description_.kind = "host";
  description_.product = "host CPU";
  description_.type = sim::board_type::host;
  description_.sub_devices = (cores == 0 || cores > online) ? online : cores;
  description_.fusable = false;
  description_.board_revision = cpu_model_;
  description_.firmware_version = kernel_release();
  description_.max_memory_bytes = physical_memory_bytes();
  status_ = std::make_shared<status_register>(std::make_shared<sim::real_clock>(), std::nullopt);
  status_->publish(std::nullopt, -1);

  clock_ = sim::make_real_clock();
  job_runner_options jobs;
  jobs.driver_name = name_;
  jobs.sub_devices = description_.sub_devices;
  jobs.pacing = pacing_mode::fast;
  jobs.measured_device_time = true;
  jobs.clock = clock_;
  jobs_ = std::make_unique<job_runner>(std::move(jobs));
}

result<lease> host_driver::reserve(const std::vector<unsigned>& sub_devices,
                                   const lease_holder& holder) {
  return reserve_sub_devices(leases_.get(), name_, description_, sub_devices, holder);
}

std::optional<lease_holder> host_driver::holder_of(unsigned sub_device) const {
  return sub_device_holder(leases_.get(), description_, sub_device);
}

result<configure_outcome> host_driver::configure(const sim::configuration_request& request) {
  ++counters_.configurations_requested;
  if (!request.empty()) {
    return fail(errc::not_implemented, "the host device has no configurable clocks");
  }
  ++counters_.configurations_applied;
  return configure_outcome::complete;
}

result<bool> host_driver::poll_configuration() { return true; }

std::chrono::nanoseconds host_driver::poll_interval() const {
  return std::chrono::nanoseconds::zero();
}

result<std::map<std::string, std::string>> host_driver::read_configuration() {
  return std::map<std::string, std::string>{
      {"cores", std::to_string(description_.sub_devices)},
      {"cpu_model", cpu_model_},
      {"pending", "false"},
  };
}

result<void> host_driver::reset() {
  jobs_->reset(clock_->now(), "board reset");
  ++counters_.resets;
  return {};
}

driver_counters host_driver::read_counters() const {
  driver_counters counters = counters_;
  counters.jobs_launched = jobs_->jobs_launched();
  counters.jobs_completed = jobs_->jobs_completed();
  counters.jobs_failed = jobs_->jobs_failed();
  return counters;
}

void host_driver::apply_due_faults() {
  for (sim::sim_time at : faults_.take_due_resets(clock_->now())) {
    jobs_->reset(at, "board reset");
    ++counters_.resets;
  }
}

result<job_id> host_driver::launch_job(const job_request& request) {
  if (auto checked = jobs_->check(request); !checked) return checked.error();
  apply_due_faults();
  const sim::job_fault_effect injected = faults_.on_job_launch(clock_->now(), request.sub_devices);
  if (injected.reset_board) {
    jobs_->reset(clock_->now(), "board reset");
    ++counters_.resets;
  }
  job_decision decision;
  decision.hang = injected.hang;
  decision.error = injected.error;
  return jobs_->launch(request, decision);
}

result<job_status> host_driver::poll_job(job_id id) {
  apply_due_faults();
  return jobs_->poll(id);
}

result<void> host_driver::release_job(job_id id) { return jobs_->release(id); }

result<std::vector<core_health>> host_driver::read_health() {
  apply_due_faults();
  return jobs_->health();
}

namespace {

result<void> host_supports(const sim::fault& f) {
  if (sim::is_clock_fault(f.kind) || sim::is_configuration_fault(f.kind)) {
    return fail(errc::not_implemented, "the host device has no clocks or configuration, so it "
                                       "cannot simulate a " +
                                           std::string(sim::to_string(f.kind)) + " fault");
  }
  return {};
}

}  // namespace

result<void> host_driver::inject_fault(const sim::fault& f) {
  if (auto supported = host_supports(f); !supported) return supported;
  apply_due_faults();
  return faults_.add(f, description_.sub_devices, clock_->now());
}

result<void> host_driver::install_faults(const sim::fault_script& script) {
  for (const sim::fault& f : script.faults) {
    if (auto supported = host_supports(f); !supported) return supported;
  }
  apply_due_faults();
  return faults_.install(script, description_.sub_devices, clock_->now());
}

}  // namespace edgert
