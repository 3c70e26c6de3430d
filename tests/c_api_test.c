/* The C API (include/edgert/edgert.h) used from C, as firmware code would: devices,
 * configuration, leases, models, synchronous runs on the host device and on a simulated
 * board, scheduled requests with completion fds and the error tracker, and every bad input
 * the API refuses, with exact status codes.
 *
 * Each test case runs in its own context with a private runtime directory, on the system
 * "sbc,host" (dev:0 is a single-core simulated SBC, dev:1 the host CPU). Run with no
 * argument for every case, or with a case name for one (ctest runs each case by name).
 */
#define _XOPEN_SOURCE 700 /* mkdtemp, nftw, setenv, poll, pthreads */

#include <ftw.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edgert/edgert.h"

#ifndef EDGERT_TEST_DATA_DIR
#error "EDGERT_TEST_DATA_DIR must name tests/data"
#endif
#ifndef EDGERT_TEST_BOARD_CONFIG_DIR
#error "EDGERT_TEST_BOARD_CONFIG_DIR must name board_configs"
#endif

#define MNIST_DIR EDGERT_TEST_DATA_DIR "/models/mnist_cnn/"
#define SYSTEM "sbc,host"
#define BOARD "dev:0"
#define INPUT_BYTES (28 * 28 * 4)
#define OUTPUT_BYTES (10 * 4)

/* ---- a minimal test harness -------------------------------------------------------- */

static int failures = 0;

static void report(const char* file, int line, const char* what) {
  fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
  ++failures;
}

/* CHECK records a failure and goes on; REQUIRE ends the test case. */
#define CHECK(cond) \
  do { if (!(cond)) report(__FILE__, __LINE__, #cond); } while (0)
#define REQUIRE(cond) \
  do { if (!(cond)) { report(__FILE__, __LINE__, #cond); return; } } while (0)

static int status_is(const char* file, int line, const char* call, edgert_status got,
                     edgert_status expected) {
  if (got == expected) return 1;
  fprintf(stderr, "%s:%d: %s gave %s, expected %s (last error: %s)\n", file, line, call,
          edgert_status_string(got), edgert_status_string(expected), edgert_last_error_message());
  ++failures;
  return 0;
}

#define CHECK_STATUS(call, expected) (void)status_is(__FILE__, __LINE__, #call, (call), (expected))
#define REQUIRE_STATUS(call, expected) \
  do { if (!status_is(__FILE__, __LINE__, #call, (call), (expected))) return; } while (0)
#define REQUIRE_OK(call) REQUIRE_STATUS(call, EDGERT_OK)

/* ---- test data --------------------------------------------------------------------- */

/* Reads a little-endian, C-order .npy file of `descr` ("<f4", "<f8") with `count` elements
 * into `out`. Returns 1 on success. */
static int read_npy(const char* path, const char* descr, size_t element_size, size_t count, void* out) {
  FILE* f = fopen(path, "rb");
  unsigned char preamble[10];
  size_t header_length;
  char* header;
  int ok = 0;
  if (f == NULL) return 0;
  if (fread(preamble, 1, 10, f) != 10 || memcmp(preamble, "\x93NUMPY", 6) != 0) goto done;
  if (preamble[6] == 1) {
    header_length = (size_t)preamble[8] | ((size_t)preamble[9] << 8);
  } else {
    unsigned char more[2];
    if (fread(more, 1, 2, f) != 2) goto done;
    header_length = (size_t)preamble[8] | ((size_t)preamble[9] << 8) | ((size_t)more[0] << 16) |
                    ((size_t)more[1] << 24);
  }
  header = malloc(header_length + 1);
  if (header == NULL) goto done;
  if (fread(header, 1, header_length, f) == header_length) {
    header[header_length] = '\0';
    ok = strstr(header, descr) != NULL && strstr(header, "'fortran_order': False") != NULL &&
         fread(out, element_size, count, f) == count;
  }
  free(header);
done:
  fclose(f);
  return ok;
}

/* Reads a whole file into a malloc'd buffer. */
static void* read_file(const char* path, size_t* size) {
  FILE* f = fopen(path, "rb");
  void* data;
  long length;
  if (f == NULL) return NULL;
  fseek(f, 0, SEEK_END);
  length = ftell(f);
  fseek(f, 0, SEEK_SET);
  data = malloc((size_t)length);
  if (data != NULL && fread(data, 1, (size_t)length, f) != (size_t)length) {
    free(data);
    data = NULL;
  }
  fclose(f);
  *size = (size_t)length;
  return data;
}

/* ---- a fixture: a private runtime directory, a context and the MNIST model ------------ */

typedef struct fixture {
  char dir[256];
  edgert_context* context;
  edgert_model* model;
  float input[28 * 28];
  double expected[10];
} fixture;

static int remove_entry(const char* path, const struct stat* st, int flag, struct FTW* ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

/* Returns 1 when the fixture is ready; the caller then calls fixture_close(). */
static int fixture_open(fixture* f) {
  edgert_context_options options;
  const char* tmp = getenv("TMPDIR");
  memset(f, 0, sizeof *f);
  snprintf(f->dir, sizeof f->dir, "%s/edgert-c-api-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp(f->dir) == NULL) return 0;
  edgert_context_options_init(&options);
  options.system = SYSTEM;
  options.board_config_dir = EDGERT_TEST_BOARD_CONFIG_DIR;
  options.runtime_dir = f->dir;
  if (edgert_context_create(&options, &f->context) != EDGERT_OK) {
    fprintf(stderr, "context: %s\n", edgert_last_error_message());
    return 0;
  }
  if (edgert_load_model(f->context, MNIST_DIR "model.onnx", &f->model) != EDGERT_OK) {
    fprintf(stderr, "model: %s\n", edgert_last_error_message());
    return 0;
  }
  return read_npy(MNIST_DIR "input_0.npy", "'<f4'", 4, 28 * 28, f->input) &&
         read_npy(MNIST_DIR "expected_output_0.npy", "'<f8'", 8, 10, f->expected);
}

static void fixture_close(fixture* f) {
  CHECK_STATUS(edgert_model_release(f->model), EDGERT_OK);
  CHECK_STATUS(edgert_context_release(f->context), EDGERT_OK);
  nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static double max_abs_diff(const float* got, const double* expected, size_t n) {
  double worst = 0;
  size_t i;
  for (i = 0; i < n; ++i) {
    const double d = fabs((double)got[i] - expected[i]);
    if (d > worst) worst = d;
  }
  return worst;
}

/* Slows the board's only core so a job takes about a millisecond of (paced) device time. */
static int slow_down_board(fixture* f) {
  edgert_setting settings[2];
  int complete = 0, ready = 0;
  settings[0].key = "clock_profile";
  settings[0].value = 200;
  settings[1].key = "mvm_utilisation_core_0";
  settings[1].value = 1;
  if (edgert_configure_device(f->context, BOARD, settings, 2, &complete) != EDGERT_OK) return 0;
  if (!complete && edgert_wait_device_ready(f->context, BOARD, 10000, &ready) != EDGERT_OK) return 0;
  return complete || ready;
}

/* ---- test cases -------------------------------------------------------------------- */

static void status_codes_have_stable_names(void) {
  const char* version = NULL;
  CHECK(strcmp(edgert_status_string(EDGERT_OK), "ok") == 0);
  CHECK(strcmp(edgert_status_string(EDGERT_DEVICE_IN_USE), "device_in_use") == 0);
  CHECK(strcmp(edgert_status_string(EDGERT_INVALID_ARGUMENT), "invalid_argument") == 0);
  CHECK(strcmp(edgert_status_string(EDGERT_CLOSED), "closed") == 0);
  CHECK(strcmp(edgert_status_string(EDGERT_IO_ERROR), "io_error") == 0);
  CHECK(strcmp(edgert_status_string((edgert_status)99), "unknown_status") == 0);
  CHECK(strcmp(edgert_status_string((edgert_status)-1), "unknown_status") == 0);
  CHECK_STATUS(edgert_version(&version), EDGERT_OK);
  CHECK(version != NULL && strlen(version) >= 5);
  CHECK(strcmp(edgert_last_error_message(), "") == 0);
  CHECK_STATUS(edgert_version(NULL), EDGERT_INVALID_ARGUMENT);
  CHECK(strstr(edgert_last_error_message(), "edgert_version") != NULL);
}

static void devices_are_listed_with_their_board_facts(void) {
  fixture f;
  size_t count = 0;
  edgert_device_info info;
  if (!fixture_open(&f)) { report(__FILE__, __LINE__, "fixture"); return; }
  CHECK_STATUS(edgert_device_count(f.context, &count), EDGERT_OK);
  CHECK(count == 2);
  CHECK_STATUS(edgert_device_info_at(f.context, 0, &info), EDGERT_OK);
  CHECK(strcmp(info.name, "dev:0") == 0);
  CHECK(strcmp(info.kind, "sbc") == 0);
  CHECK(info.board_type == EDGERT_BOARD_SBC);
  CHECK(info.sub_devices == 1);
  CHECK(strcmp(info.firmware_version, "0.9.5") == 0);
  CHECK(strcmp(info.board_controller_version, "1.0.0") == 0);
  CHECK(strcmp(info.board_revision, "1.3") == 0);
  CHECK(info.max_memory == 2048ull * 1024 * 1024);
  CHECK(info.state == EDGERT_DEVICE_READY);
  CHECK(info.in_use == 0);
  CHECK(strcmp(info.in_use_by, "") == 0);
  CHECK_STATUS(edgert_device_info_at(f.context, 1, &info), EDGERT_OK);
  CHECK(info.board_type == EDGERT_BOARD_HOST);
  CHECK(info.sub_devices >= 1);
  CHECK_STATUS(edgert_device_info_by_name(f.context, "host", &info), EDGERT_OK);
  CHECK(strcmp(info.name, "dev:1") == 0);
  CHECK_STATUS(edgert_device_info_at(f.context, 2, &info), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_device_info_by_name(f.context, "dev:9", &info), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_device_info_by_name(f.context, "no-such-board", &info), EDGERT_INVALID_ARGUMENT);
  fixture_close(&f);
}

static void a_lease_marks_the_device_in_use_until_released(void) {
  fixture f;
  edgert_connection* first = NULL;
  edgert_connection* second = NULL;
  edgert_device_info info;
  const char* device = NULL;
  uint32_t subs = 0;
  char pid[32];
  if (!fixture_open(&f)) { report(__FILE__, __LINE__, "fixture"); return; }
  CHECK_STATUS(edgert_device_connect(f.context, BOARD, 1, &first), EDGERT_OK);
  CHECK_STATUS(edgert_connection_info(first, &device, &subs), EDGERT_OK);
  CHECK(device != NULL && strcmp(device, "dev:0") == 0);
  CHECK(subs == 1);
  CHECK_STATUS(edgert_device_info_by_name(f.context, BOARD, &info), EDGERT_OK);
  CHECK(info.in_use == 1);
  snprintf(pid, sizeof pid, "%ld", (long)getpid());
  CHECK(strstr(info.in_use_by, pid) != NULL);
  CHECK_STATUS(edgert_device_connect(f.context, BOARD, 1, &second), EDGERT_DEVICE_IN_USE);
  CHECK(second == NULL);
  CHECK(strstr(edgert_last_error_message(), pid) != NULL);
  CHECK_STATUS(edgert_connection_release(first), EDGERT_OK);
  CHECK_STATUS(edgert_device_info_by_name(f.context, BOARD, &info), EDGERT_OK);
  CHECK(info.in_use == 0);
  CHECK_STATUS(edgert_device_connect(f.context, BOARD, 1, &second), EDGERT_OK);
  CHECK_STATUS(edgert_connection_release(second), EDGERT_OK);
  fixture_close(&f);
}

static void a_configuration_settles_and_reads_back(void) {
  fixture f;
  edgert_setting setting;
  edgert_setting twice[2];
  edgert_configuration* configuration = NULL;
  int complete = -1, ready = 0;
  size_t count = 0, i;
  const char* key = NULL;
  const char* value = NULL;
  int saw_clock = 0;
  if (!fixture_open(&f)) { report(__FILE__, __LINE__, "fixture"); return; }
  setting.key = "clock_profile";
  setting.value = 400;
  CHECK_STATUS(edgert_configure_device(f.context, BOARD, &setting, 1, &complete), EDGERT_OK);
  CHECK(complete == 0 || complete == 1);
  CHECK_STATUS(edgert_wait_device_ready(f.context, BOARD, 10000, &ready), EDGERT_OK);
  CHECK(ready == 1);
  CHECK_STATUS(edgert_device_ready(f.context, BOARD, &ready), EDGERT_OK);
  CHECK(ready == 1);
  REQUIRE_OK(edgert_read_device_configuration(f.context, BOARD, &configuration));
  CHECK_STATUS(edgert_configuration_count(configuration, &count), EDGERT_OK);
  CHECK(count >= 2);
  for (i = 0; i < count; ++i) {
    CHECK_STATUS(edgert_configuration_entry(configuration, i, &key, &value), EDGERT_OK);
    if (strcmp(key, "clock_profile") == 0) saw_clock = strcmp(value, "400") == 0;
  }
  CHECK(saw_clock);
  CHECK_STATUS(edgert_configuration_get(configuration, "pending", &value), EDGERT_OK);
  CHECK(strcmp(value, "false") == 0 || strcmp(value, "0") == 0);
  CHECK_STATUS(edgert_configuration_get(configuration, "no_such_key", &value), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_configuration_entry(configuration, count, &key, &value), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_configuration_release(configuration), EDGERT_OK);
  CHECK_STATUS(edgert_configuration_count(configuration, &count), EDGERT_INVALID_ARGUMENT);

  setting.key = "warp_drive";
  CHECK_STATUS(edgert_configure_device(f.context, BOARD, &setting, 1, &complete),
               EDGERT_INVALID_CONFIGURATION);
  setting.key = "clock_profile";
  setting.value = 123;
  CHECK_STATUS(edgert_configure_device(f.context, BOARD, &setting, 1, &complete),
               EDGERT_INVALID_CONFIGURATION);
  setting.value = 400;
  CHECK_STATUS(edgert_configure_device(f.context, "host", &setting, 1, &complete),
               EDGERT_NOT_IMPLEMENTED);
  twice[0] = setting;
  twice[1] = setting;
  CHECK_STATUS(edgert_configure_device(f.context, BOARD, twice, 2, &complete), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_configure_device(f.context, BOARD, NULL, 1, &complete), EDGERT_INVALID_ARGUMENT);
  setting.key = NULL;
  CHECK_STATUS(edgert_configure_device(f.context, BOARD, &setting, 1, &complete), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_configure_device(f.context, "dev:7", twice, 1, &complete), EDGERT_INVALID_ARGUMENT);
  fixture_close(&f);
}

static void model_metadata_describes_inputs_and_outputs(void) {
  fixture f;
  const char* name = NULL;
  size_t count = 0;
  uint64_t macs = 0;
  edgert_tensor_info info;
  if (!fixture_open(&f)) { report(__FILE__, __LINE__, "fixture"); return; }
  CHECK_STATUS(edgert_model_name(f.model, &name), EDGERT_OK);
  CHECK(name != NULL && strlen(name) > 0);
  CHECK_STATUS(edgert_model_macs(f.model, &macs), EDGERT_OK);
  CHECK(macs == 791840);
  CHECK_STATUS(edgert_model_input_count(f.model, &count), EDGERT_OK);
  CHECK(count == 1);
  CHECK_STATUS(edgert_model_output_count(f.model, &count), EDGERT_OK);
  CHECK(count == 1);
  CHECK_STATUS(edgert_model_input_info(f.model, 0, &info), EDGERT_OK);
  CHECK(strcmp(info.name, "input") == 0);
  CHECK(info.dtype == EDGERT_DTYPE_FLOAT32);
  CHECK(info.rank == 4);
  CHECK(info.shape[0] == 1 && info.shape[1] == 1 && info.shape[2] == 28 && info.shape[3] == 28);
  CHECK(info.elements == 784);
  CHECK(info.size_bytes == INPUT_BYTES);
  CHECK(strcmp(info.layout, "NCHW") == 0);
  CHECK(info.quantized == 0);
  CHECK_STATUS(edgert_model_output_info(f.model, 0, &info), EDGERT_OK);
  CHECK(strcmp(info.name, "logits") == 0);
  CHECK(info.rank == 2 && info.shape[0] == 1 && info.shape[1] == 10);
  CHECK(info.size_bytes == OUTPUT_BYTES);
  CHECK_STATUS(edgert_model_input_info(f.model, 1, &info), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_model_output_info(f.model, 5, &info), EDGERT_INVALID_ARGUMENT);
  fixture_close(&f);
}

static void a_model_loads_from_bytes(void) {
  fixture f;
  size_t size = 0;
  void* bytes = read_file(MNIST_DIR "model.onnx", &size);
  edgert_model* model = NULL;
  edgert_tensor_info info;
  static const char garbage[] = "this is not an onnx model";
  REQUIRE(bytes != NULL);
  if (!fixture_open(&f)) { report(__FILE__, __LINE__, "fixture"); free(bytes); return; }
  CHECK_STATUS(edgert_load_model_from_bytes(f.context, bytes, size, NULL, &model), EDGERT_OK);
  CHECK_STATUS(edgert_model_output_info(model, 0, &info), EDGERT_OK);
  CHECK(info.size_bytes == OUTPUT_BYTES);
  CHECK_STATUS(edgert_model_release(model), EDGERT_OK);
  model = NULL;
  CHECK_STATUS(edgert_load_model_from_bytes(f.context, bytes, size / 2, NULL, &model),
               EDGERT_INVALID_ARGUMENT);
  CHECK(model == NULL);
  CHECK_STATUS(edgert_load_model_from_bytes(f.context, garbage, sizeof garbage, NULL, &model),
               EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_load_model_from_bytes(f.context, bytes, 0, NULL, &model), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_load_model_from_bytes(f.context, NULL, size, NULL, &model), EDGERT_INVALID_ARGUMENT);
  free(bytes);
  fixture_close(&f);
}

static void bad_model_paths_are_refused(void) {
  fixture f;
  edgert_model* model = NULL;
  if (!fixture_open(&f)) { report(__FILE__, __LINE__, "fixture"); return; }
  CHECK_STATUS(edgert_load_model(f.context, MNIST_DIR "no_such_model.onnx", &model), EDGERT_INVALID_ARGUMENT);
  CHECK(model == NULL);
  CHECK(strstr(edgert_last_error_message(), "no_such_model.onnx") != NULL);
  CHECK_STATUS(edgert_load_model(f.context, MNIST_DIR, &model), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_load_model(f.context, MNIST_DIR "manifest.json", &model), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_load_model(f.context, NULL, &model), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_load_model(f.context, MNIST_DIR "model.onnx", NULL), EDGERT_INVALID_ARGUMENT);
  fixture_close(&f);
}

/* Runs one inference through a model instance on `device` and compares with the reference. */
static void run_on(const char* device) {
  fixture f;
  edgert_connection* connection = NULL;
  edgert_model_instance* instance = NULL;
  float logits[10];
  edgert_tensor in, out;
  if (!fixture_open(&f)) { report(__FILE__, __LINE__, "fixture"); return; }
  CHECK_STATUS(edgert_device_connect(f.context, device, 1, &connection), EDGERT_OK);
  CHECK_STATUS(edgert_load_model_instance(connection, f.model, NULL, &instance), EDGERT_OK);
  in.data = f.input;
  in.size_bytes = sizeof f.input;
  out.data = logits;
  out.size_bytes = sizeof logits;
  memset(logits, 0, sizeof logits);
  CHECK_STATUS(edgert_model_instance_run(instance, &in, 1, &out, 1), EDGERT_OK);
  CHECK(max_abs_diff(logits, f.expected, 10) < 1e-3);
  CHECK_STATUS(edgert_model_instance_release(instance), EDGERT_OK);
  CHECK_STATUS(edgert_connection_release(connection), EDGERT_OK);
  fixture_close(&f);
}

static void a_model_instance_runs_on_the_host_device(void) { run_on("host"); }
static void a_model_instance_runs_on_a_simulated_board(void) { run_on(BOARD); }

static void an_isolated_instance_computes_in_a_worker_process(void) {
  fixture f;
  edgert_connection* connection = NULL;
  edgert_model_instance* instance = NULL;
  edgert_model_instance_options options;
  float logits[10];
  edgert_tensor in, out;
  if (!fixture_open(&f)) { report(__FILE__, __LINE__, "fixture"); return; }
  CHECK_STATUS(edgert_model_instance_options_init(&options), EDGERT_OK);
  CHECK(options.process_isolation == 0);
  options.process_isolation = 1;
  REQUIRE_OK(edgert_device_connect(f.context, "host", 1, &connection));
  REQUIRE_OK(edgert_load_model_instance(connection, f.model, &options, &instance));
  in.data = f.input;
  in.size_bytes = sizeof f.input;
  out.data = logits;
  out.size_bytes = sizeof logits;
  CHECK_STATUS(edgert_model_instance_run(instance, &in, 1, &out, 1), EDGERT_OK);
  CHECK(max_abs_diff(logits, f.expected, 10) < 1e-3);
  CHECK_STATUS(edgert_model_instance_release(instance), EDGERT_OK);
  CHECK_STATUS(edgert_connection_release(connection), EDGERT_OK);
  fixture_close(&f);
}

static void an_instance_keeps_its_lease_until_released(void) {
  fixture f;
  edgert_connection* connection = NULL;
  edgert_connection* other = NULL;
  edgert_model_instance* instance = NULL;
  float logits[10];
  edgert_tensor in, out;
  if (!fixture_open(&f)) { report(__FILE__, __LINE__, "fixture"); return; }
  REQUIRE_OK(edgert_device_connect(f.context, BOARD, 1, &connection));
  REQUIRE_OK(edgert_load_model_instance(connection, f.model, NULL, &instance));
  CHECK_STATUS(edgert_connection_release(connection), EDGERT_OK);
  in.data = f.input;
  in.size_bytes = sizeof f.input;
  out.data = logits;
  out.size_bytes = sizeof logits;
  CHECK_STATUS(edgert_model_instance_run(instance, &in, 1, &out, 1), EDGERT_OK);
  CHECK(max_abs_diff(logits, f.expected, 10) < 1e-3);
  CHECK_STATUS(edgert_device_connect(f.context, BOARD, 1, &other), EDGERT_DEVICE_IN_USE);
  CHECK_STATUS(edgert_model_instance_release(instance), EDGERT_OK);
  CHECK_STATUS(edgert_device_connect(f.context, BOARD, 1, &other), EDGERT_OK);
  CHECK_STATUS(edgert_connection_release(other), EDGERT_OK);
  fixture_close(&f);
}

static void a_runner_runs_on_a_simulated_board(void) {
  fixture f;
  edgert_runner_options options;
  edgert_runner* runner = NULL;
  edgert_tensor_info info;
  float logits[10];
  edgert_tensor in, out;
  int in_time = 0;
  if (!fixture_open(&f)) { report(__FILE__, __LINE__, "fixture"); return; }
  CHECK_STATUS(edgert_runner_options_init(&options), EDGERT_OK);
  options.device = BOARD;
  REQUIRE_OK(edgert_runner_create(f.context, f.model, &options, &runner));
  CHECK_STATUS(edgert_runner_input_info(runner, 0, &info), EDGERT_OK);
  CHECK(info.size_bytes == INPUT_BYTES);
  in.data = f.input;
  in.size_bytes = sizeof f.input;
  out.data = logits;
  out.size_bytes = sizeof logits;
  CHECK_STATUS(edgert_runner_run(runner, &in, 1, &out, 1), EDGERT_OK);
  CHECK(max_abs_diff(logits, f.expected, 10) < 1e-3);
  out.size_bytes = 4;
  CHECK_STATUS(edgert_runner_run(runner, &in, 1, &out, 1), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_runner_close(runner, 10000, &in_time), EDGERT_OK);
  CHECK(in_time == 1);
  out.size_bytes = sizeof logits;
  CHECK_STATUS(edgert_runner_run(runner, &in, 1, &out, 1), EDGERT_CLOSED);
  CHECK_STATUS(edgert_runner_release(runner), EDGERT_OK);
  options.device = "dev:5";
  CHECK_STATUS(edgert_runner_create(f.context, f.model, &options, &runner), EDGERT_INVALID_ARGUMENT);
  CHECK(runner == NULL);
  options.device = BOARD;
  options.worker_num = 0;
  CHECK_STATUS(edgert_runner_create(f.context, f.model, &options, &runner), EDGERT_INVALID_ARGUMENT);
  fixture_close(&f);
}

#define SCHEDULED 3

static void scheduled_requests_complete_and_signal_their_fds(void) {
  fixture f;
  edgert_connection* connection = NULL;
  edgert_model_instance* instance = NULL;
  float logits[SCHEDULED][10];
  uint64_t ids[SCHEDULED];
  edgert_tensor in, out;
  edgert_scheduled_error error;
  size_t taken = 1, remaining = 1, i;
  int completed = 0, fd = -1, late_fd = -1;
  struct pollfd watch;
  if (!fixture_open(&f)) { report(__FILE__, __LINE__, "fixture"); return; }
  REQUIRE(slow_down_board(&f));
  REQUIRE_OK(edgert_device_connect(f.context, BOARD, 1, &connection));
  REQUIRE_OK(edgert_load_model_instance(connection, f.model, NULL, &instance));
  in.data = f.input;
  in.size_bytes = sizeof f.input;
  for (i = 0; i < SCHEDULED; ++i) {
    out.data = logits[i];
    out.size_bytes = sizeof logits[i];
    REQUIRE_OK(edgert_model_instance_schedule(instance, &in, 1, &out, 1, &ids[i]));
  }
  for (i = 1; i < SCHEDULED; ++i) {
    CHECK(ids[i] > ids[i - 1]);
    CHECK(ids[i] >> 48 == ids[0] >> 48);
  }
  CHECK(ids[0] >> 48 != 0);

  /* The last request waits behind the others: its fd becomes readable when it completes. */
  REQUIRE_OK(edgert_model_instance_completion_fd(instance, ids[SCHEDULED - 1], &fd));
  watch.fd = fd;
  watch.events = POLLIN;
  watch.revents = 0;
  CHECK(poll(&watch, 1, 10000) == 1);
  CHECK((watch.revents & POLLIN) != 0);
  close(fd);
  CHECK_STATUS(edgert_model_instance_is_completed(instance, ids[SCHEDULED - 1], &completed), EDGERT_OK);
  CHECK(completed == 1);
  for (i = 0; i < SCHEDULED; ++i) {
    CHECK_STATUS(edgert_model_instance_wait(instance, ids[i], 10000, &completed), EDGERT_OK);
    CHECK(completed == 1);
    CHECK(max_abs_diff(logits[i], f.expected, 10) < 1e-3);
  }
  /* Asked after completion: readable at once. */
  REQUIRE_OK(edgert_model_instance_completion_fd(instance, ids[0], &late_fd));
  watch.fd = late_fd;
  watch.revents = 0;
  CHECK(poll(&watch, 1, 0) == 1);
  close(late_fd);

  CHECK_STATUS(edgert_model_instance_take_errors(instance, &error, 1, &taken, &remaining, NULL), EDGERT_OK);
  CHECK(taken == 0);
  CHECK(remaining == 0);
  CHECK_STATUS(edgert_model_instance_is_completed(instance, ids[SCHEDULED - 1] + 1, &completed),
               EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_model_instance_is_completed(instance, 12345, &completed), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_model_instance_completion_fd(instance, 12345, &fd), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_model_instance_wait(instance, 0, 10, &completed), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_model_instance_release(instance), EDGERT_OK);
  CHECK_STATUS(edgert_connection_release(connection), EDGERT_OK);
  fixture_close(&f);
}

/* Enough queued work (about a millisecond each, one job at a time) that closing at once
 * finds most of it not started. */
#define QUEUED 256

static void the_error_tracker_reports_requests_closed_before_they_ran(void) {
  fixture f;
  edgert_connection* connection = NULL;
  edgert_model_instance* instance = NULL;
  edgert_model_instance_options options;
  static float logits[QUEUED][10];
  static char reported[QUEUED];
  uint64_t ids[QUEUED];
  edgert_tensor in, out;
  edgert_scheduled_error errors[2];
  size_t taken = 0, remaining = 0, failed = 0, i, j;
  uint64_t dropped = 1, extra = 0;
  int completed = 0, in_time = 1, all_known = 1, all_closed = 1, all_done = 1;
  if (!fixture_open(&f)) { report(__FILE__, __LINE__, "fixture"); return; }
  REQUIRE(slow_down_board(&f));
  REQUIRE_OK(edgert_device_connect(f.context, BOARD, 1, &connection));
  REQUIRE_OK(edgert_model_instance_options_init(&options));
  options.double_buffer = 0;
  options.num_runtimes = QUEUED;
  REQUIRE_OK(edgert_load_model_instance(connection, f.model, &options, &instance));
  in.data = f.input;
  in.size_bytes = sizeof f.input;
  for (i = 0; i < QUEUED; ++i) {
    out.data = logits[i];
    out.size_bytes = sizeof logits[i];
    REQUIRE_OK(edgert_model_instance_schedule(instance, &in, 1, &out, 1, &ids[i]));
  }
  /* The first request ran; most of the rest are still queued when the instance closes. */
  CHECK_STATUS(edgert_model_instance_wait(instance, ids[0], 10000, &completed), EDGERT_OK);
  CHECK(completed == 1);
  CHECK_STATUS(edgert_model_instance_close(instance, 0, &in_time), EDGERT_OK);
  CHECK(in_time == 0);
  for (i = 0; i < QUEUED; ++i) {
    CHECK_STATUS(edgert_model_instance_is_completed(instance, ids[i], &completed), EDGERT_OK);
    all_done = all_done && completed;
  }
  CHECK(all_done);

  /* Two at a time: the rest stays for the next call. */
  CHECK_STATUS(edgert_model_instance_take_errors(instance, NULL, 0, &taken, &remaining, &dropped), EDGERT_OK);
  CHECK(taken == 0);
  CHECK(remaining >= 2);
  CHECK(dropped == 0);
  for (;;) {
    CHECK_STATUS(edgert_model_instance_take_errors(instance, errors, 2, &taken, &remaining, NULL), EDGERT_OK);
    if (taken == 0) break;
    for (j = 0; j < taken; ++j) {
      /* Each failure names a request that was scheduled after the first, once. */
      int known = 0;
      for (i = 1; i < QUEUED; ++i) {
        if (ids[i] != errors[j].id) continue;
        known = !reported[i];
        reported[i] = 1;
      }
      all_known = all_known && known;
      all_closed = all_closed && errors[j].status == EDGERT_CLOSED && strlen(errors[j].message) > 0;
    }
    failed += taken;
    if (failed > QUEUED) break;
  }
  CHECK(failed >= 2);
  CHECK(failed < QUEUED);
  CHECK(logits[0][0] != 0.0f);
  CHECK(remaining == 0);
  CHECK(all_known);
  CHECK(all_closed);

  /* A closed instance refuses new work at once. */
  out.data = logits[0];
  out.size_bytes = sizeof logits[0];
  CHECK_STATUS(edgert_model_instance_schedule(instance, &in, 1, &out, 1, &extra), EDGERT_CLOSED);
  CHECK_STATUS(edgert_model_instance_run(instance, &in, 1, &out, 1), EDGERT_CLOSED);
  CHECK_STATUS(edgert_model_instance_release(instance), EDGERT_OK);
  CHECK_STATUS(edgert_connection_release(connection), EDGERT_OK);
  fixture_close(&f);
}

static void bad_tensors_are_refused(void) {
  fixture f;
  edgert_connection* connection = NULL;
  edgert_model_instance* instance = NULL;
  float logits[10];
  edgert_tensor in, out, two[2];
  uint64_t id = 0;
  if (!fixture_open(&f)) { report(__FILE__, __LINE__, "fixture"); return; }
  REQUIRE_OK(edgert_device_connect(f.context, "host", 1, &connection));
  REQUIRE_OK(edgert_load_model_instance(connection, f.model, NULL, &instance));
  in.data = f.input;
  in.size_bytes = sizeof f.input;
  out.data = logits;
  out.size_bytes = sizeof logits;
  two[0] = in;
  two[1] = in;
  CHECK_STATUS(edgert_model_instance_run(instance, two, 2, &out, 1), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_model_instance_run(instance, &in, 0, &out, 1), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_model_instance_run(instance, NULL, 1, &out, 1), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_model_instance_run(instance, &in, 1, NULL, 1), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_model_instance_run(instance, &in, 1, &out, 0), EDGERT_INVALID_ARGUMENT);
  in.size_bytes = sizeof f.input - 4;
  CHECK_STATUS(edgert_model_instance_run(instance, &in, 1, &out, 1), EDGERT_INVALID_ARGUMENT);
  CHECK(strstr(edgert_last_error_message(), "3136") != NULL);
  CHECK_STATUS(edgert_model_instance_schedule(instance, &in, 1, &out, 1, &id), EDGERT_INVALID_ARGUMENT);
  in.size_bytes = sizeof f.input;
  out.size_bytes = sizeof logits + 4;
  CHECK_STATUS(edgert_model_instance_run(instance, &in, 1, &out, 1), EDGERT_INVALID_ARGUMENT);
  out.size_bytes = sizeof logits;
  in.data = NULL;
  CHECK_STATUS(edgert_model_instance_run(instance, &in, 1, &out, 1), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_model_instance_schedule(instance, &in, 1, &out, 1, &id), EDGERT_INVALID_ARGUMENT);
  in.data = f.input;
  out.data = NULL;
  CHECK_STATUS(edgert_model_instance_run(instance, &in, 1, &out, 1), EDGERT_INVALID_ARGUMENT);
  out.data = logits;
  CHECK_STATUS(edgert_model_instance_schedule(instance, &in, 1, &out, 1, NULL), EDGERT_INVALID_ARGUMENT);
  /* After all that, the instance still works. */
  CHECK_STATUS(edgert_model_instance_run(instance, &in, 1, &out, 1), EDGERT_OK);
  CHECK(max_abs_diff(logits, f.expected, 10) < 1e-3);
  CHECK_STATUS(edgert_model_instance_release(instance), EDGERT_OK);
  CHECK_STATUS(edgert_connection_release(connection), EDGERT_OK);
  fixture_close(&f);
}

static void bad_handles_and_arguments_are_refused(void) {
  fixture f;
  edgert_connection* connection = NULL;
  edgert_model_instance* instance = NULL;
  edgert_model_instance_options options;
  edgert_context_options context_options;
  edgert_context* context = NULL;
  edgert_device_info info;
  size_t count = 0;
  int flag = 0;
  edgert_context* forged = (edgert_context*)(uintptr_t)0x1234;
  if (!fixture_open(&f)) { report(__FILE__, __LINE__, "fixture"); return; }

  /* NULL, forged and wrong-kind handles. */
  CHECK_STATUS(edgert_device_count(NULL, &count), EDGERT_INVALID_ARGUMENT);
  CHECK(strstr(edgert_last_error_message(), "edgert_device_count") != NULL);
  CHECK_STATUS(edgert_device_count(forged, &count), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_device_count((edgert_context*)f.model, &count), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_model_input_count((edgert_model*)f.context, &count), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_model_instance_run(NULL, NULL, 0, NULL, 0), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_model_instance_schedule(NULL, NULL, 0, NULL, 0, NULL), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_model_instance_is_completed(NULL, 1, &flag), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_model_instance_completion_fd(NULL, 1, &flag), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_model_instance_take_errors(NULL, NULL, 0, &count, NULL, NULL), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_load_model_instance(NULL, f.model, NULL, &instance), EDGERT_INVALID_ARGUMENT);
  CHECK(instance == NULL);
  CHECK_STATUS(edgert_runner_run(NULL, NULL, 0, NULL, 0), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_configuration_count(NULL, &count), EDGERT_INVALID_ARGUMENT);

  /* NULL out-parameters and strings. */
  CHECK_STATUS(edgert_device_count(f.context, NULL), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_device_info_at(f.context, 0, NULL), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_device_info_by_name(f.context, NULL, &info), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_device_ready(f.context, BOARD, NULL), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_device_connect(f.context, NULL, 1, &connection), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_device_connect(f.context, BOARD, 1, NULL), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_context_create(NULL, NULL), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_context_options_init(NULL), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_model_instance_options_init(NULL), EDGERT_INVALID_ARGUMENT);

  /* Unknown devices and impossible leases. */
  CHECK_STATUS(edgert_device_connect(f.context, "dev:42", 1, &connection), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_device_connect(f.context, "gpu", 1, &connection), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_device_connect(f.context, BOARD, 2, &connection), EDGERT_INVALID_ARGUMENT);
  CHECK(connection == NULL);
  CHECK_STATUS(edgert_device_ready(f.context, "dev:42", &flag), EDGERT_INVALID_ARGUMENT);

  /* Bad instance options. */
  REQUIRE_OK(edgert_device_connect(f.context, BOARD, 1, &connection));
  REQUIRE_OK(edgert_model_instance_options_init(&options));
  options.num_sub_devices = 2;
  CHECK_STATUS(edgert_load_model_instance(connection, f.model, &options, &instance), EDGERT_INVALID_ARGUMENT);
  options.num_sub_devices = 0;
  options.num_runtimes = 0;
  CHECK_STATUS(edgert_load_model_instance(connection, f.model, &options, &instance), EDGERT_INVALID_ARGUMENT);
  options.num_runtimes = 4;
  options.timeout_ms = 0;
  CHECK_STATUS(edgert_load_model_instance(connection, f.model, &options, &instance), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_load_model_instance(connection, NULL, NULL, &instance), EDGERT_INVALID_ARGUMENT);

  /* A released handle is recognised, and releasing it again is refused; NULL is fine. */
  CHECK_STATUS(edgert_connection_release(connection), EDGERT_OK);
  CHECK_STATUS(edgert_connection_info(connection, NULL, NULL), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_connection_release(connection), EDGERT_INVALID_ARGUMENT);
  CHECK_STATUS(edgert_connection_release(NULL), EDGERT_OK);
  CHECK_STATUS(edgert_model_instance_release(NULL), EDGERT_OK);
  CHECK_STATUS(edgert_context_release(forged), EDGERT_INVALID_ARGUMENT);

  /* Bad context options. */
  REQUIRE_OK(edgert_context_options_init(&context_options));
  context_options.runtime_dir = f.dir;
  context_options.board_config_dir = EDGERT_TEST_BOARD_CONFIG_DIR;
  context_options.system = "warp(3)*2";
  CHECK_STATUS(edgert_context_create(&context_options, &context), EDGERT_INVALID_ARGUMENT);
  CHECK(context == NULL);
  fixture_close(&f);
}

/* A thread that runs requests on a runner until a call fails, and records how it ended. */
typedef struct run_loop {
  edgert_runner* runner;
  const float* input;
  pthread_mutex_t mutex;
  pthread_cond_t started_cond;
  int started;
  long runs;
  edgert_status final_status;
} run_loop;

static void* run_until_refused(void* argument) {
  run_loop* loop = argument;
  float logits[10];
  edgert_tensor in, out;
  edgert_status status;
  in.data = (void*)loop->input;
  in.size_bytes = 28 * 28 * 4;
  out.data = logits;
  out.size_bytes = sizeof logits;
  for (;;) {
    status = edgert_runner_run(loop->runner, &in, 1, &out, 1);
    if (status != EDGERT_OK) break;
    pthread_mutex_lock(&loop->mutex);
    ++loop->runs;
    if (!loop->started) {
      loop->started = 1;
      pthread_cond_signal(&loop->started_cond);
    }
    pthread_mutex_unlock(&loop->mutex);
  }
  pthread_mutex_lock(&loop->mutex);
  loop->final_status = status;
  loop->started = 1;  /* also wakes the main thread if the very first run failed */
  pthread_cond_signal(&loop->started_cond);
  pthread_mutex_unlock(&loop->mutex);
  return NULL;
}

static void a_handle_released_while_another_thread_uses_it_stays_safe(void) {
  fixture f;
  run_loop loop;
  pthread_t thread;
  if (!fixture_open(&f)) { report(__FILE__, __LINE__, "fixture"); return; }
  memset(&loop, 0, sizeof loop);
  loop.input = f.input;
  loop.final_status = EDGERT_OK;
  pthread_mutex_init(&loop.mutex, NULL);
  pthread_cond_init(&loop.started_cond, NULL);
  REQUIRE_OK(edgert_runner_create(f.context, f.model, NULL, &loop.runner));
  REQUIRE(pthread_create(&thread, NULL, run_until_refused, &loop) == 0);
  pthread_mutex_lock(&loop.mutex);
  while (!loop.started) pthread_cond_wait(&loop.started_cond, &loop.mutex);
  pthread_mutex_unlock(&loop.mutex);
  CHECK_STATUS(edgert_runner_release(loop.runner), EDGERT_OK);
  REQUIRE(pthread_join(thread, NULL) == 0);
  CHECK(loop.runs >= 1);
  /* Calls in flight during the release finish; the next one finds the handle gone. */
  CHECK(loop.final_status == EDGERT_INVALID_ARGUMENT);
  pthread_mutex_destroy(&loop.mutex);
  pthread_cond_destroy(&loop.started_cond);
  fixture_close(&f);
}

/* The last error belongs to the thread that made the call. */
static void *succeed_in_another_thread(void* answer) {
  const char* version = NULL;
  int* ok = answer;
  *ok = edgert_version(&version) == EDGERT_OK && strcmp(edgert_last_error_message(), "") == 0;
  return NULL;
}

static void the_last_error_is_kept_per_thread(void) {
  pthread_t thread;
  int other_ok = 0;
  CHECK_STATUS(edgert_device_count(NULL, NULL), EDGERT_INVALID_ARGUMENT);
  REQUIRE(pthread_create(&thread, NULL, succeed_in_another_thread, &other_ok) == 0);
  REQUIRE(pthread_join(thread, NULL) == 0);
  CHECK(other_ok == 1);
  CHECK(strstr(edgert_last_error_message(), "edgert_device_count") != NULL);
}

/* ---- the case table (tests/CMakeLists.txt registers each C_TEST line with ctest) ------ */

typedef struct test_case {
  const char* name;
  void (*run)(void);
} test_case;

#define C_TEST(name) { #name, name }

static const test_case cases[] = {
  C_TEST(status_codes_have_stable_names),
  C_TEST(devices_are_listed_with_their_board_facts),
  C_TEST(a_lease_marks_the_device_in_use_until_released),
  C_TEST(a_configuration_settles_and_reads_back),
  C_TEST(model_metadata_describes_inputs_and_outputs),
  C_TEST(a_model_loads_from_bytes),
  C_TEST(bad_model_paths_are_refused),
  C_TEST(a_model_instance_runs_on_the_host_device),
  C_TEST(a_model_instance_runs_on_a_simulated_board),
  C_TEST(an_isolated_instance_computes_in_a_worker_process),
  C_TEST(an_instance_keeps_its_lease_until_released),
  C_TEST(a_runner_runs_on_a_simulated_board),
  C_TEST(scheduled_requests_complete_and_signal_their_fds),
  C_TEST(the_error_tracker_reports_requests_closed_before_they_ran),
  C_TEST(bad_tensors_are_refused),
  C_TEST(bad_handles_and_arguments_are_refused),
  C_TEST(a_handle_released_while_another_thread_uses_it_stays_safe),
  C_TEST(the_last_error_is_kept_per_thread),
};

int main(int argc, char** argv) {
  size_t i;
  int ran = 0;
  /* Simulated jobs take their device time (the default on a real clock), whatever the
   * environment says. */
  setenv("EDGERT_SIM_PACING", "paced", 1);
  for (i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    if (argc > 1 && strcmp(argv[1], cases[i].name) != 0) continue;
    const int before = failures;
    cases[i].run();
    printf("%s: %s\n", cases[i].name, failures == before ? "passed" : "FAILED");
    ++ran;
  }
  if (ran == 0) {
    fprintf(stderr, "no test case named %s\n", argc > 1 ? argv[1] : "(none)");
    return 2;
  }
  return failures == 0 ? 0 : 1;
}
