/* edgert C API: the runtime for firmware and other C code (C99, no C++ types).
 *
 * Everything is reached through opaque handles (edgert_context, edgert_connection,
 * edgert_model, edgert_model_instance, edgert_runner, edgert_configuration) created by an
 * edgert_*_create / edgert_load_* / edgert_*_connect call and freed by the matching
 * edgert_*_release call. docs/c-api.md is the guide; the rules in short:
 *
 * Status: every function but edgert_status_string() and edgert_last_error_message()
 *   returns an edgert_status. On failure the out-parameters are left untouched (handles
 *   out-parameters are set to NULL) and edgert_last_error_message() says why, in the
 *   calling thread. No C++ exception ever crosses this boundary.
 * Handles: a NULL handle, a handle that was released, or a handle of another kind gives
 *   EDGERT_INVALID_ARGUMENT. Handle values are never reused within a process, so a stale
 *   handle is always recognised (never a crash). Releasing NULL is allowed (EDGERT_OK).
 * Memory: strings passed in are copied before the call returns. Tensor buffers are owned by
 *   the caller; the library reads inputs during the call and writes outputs either during
 *   the call (run) or until the request completes (schedule). Strings returned through
 *   `const char**` or inside info structs belong to the handle they came from and stay
 *   valid until that handle is released.
 * Threads: every function may be called from any thread, concurrently, on the same or on
 *   different handles. Releasing a handle while another thread is inside a call on it is
 *   safe: the object goes once that call returns, and later calls get
 *   EDGERT_INVALID_ARGUMENT.
 */
#ifndef EDGERT_EDGERT_H
#define EDGERT_EDGERT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------
 * Status codes. The values equal those of the C++ enum edgert::errc.
 * ------------------------------------------------------------------------------------- */
typedef enum edgert_status {
  /** Success. */
  EDGERT_OK = 0,
  /** The device or some of its sub-devices are leased by another holder (named in the
   *  last error message). */
  EDGERT_DEVICE_IN_USE = 1,
  /** The device accepted a configuration that has not settled yet; poll
   *  edgert_device_ready(). */
  EDGERT_PENDING = 2,
  /** The request needs a capability this device does not have. */
  EDGERT_INCOMPATIBLE_DEVICE = 3,
  /** An argument is malformed or out of range: a NULL pointer, a bad handle, an unknown
   *  device, a bad spec, a buffer of the wrong size, a bad model file. */
  EDGERT_INVALID_ARGUMENT = 4,
  /** A configuration or board file is invalid: unknown setting key, a clock profile the
   *  board does not allow, a bad value. */
  EDGERT_INVALID_CONFIGURATION = 5,
  /** The operation exists but this device, driver or model does not provide it (e.g.
   *  clock settings on the host device, an unsupported ONNX operator). */
  EDGERT_NOT_IMPLEMENTED = 6,
  /** An internal invariant broke: a bug in edgert. The message says where. */
  EDGERT_INTERNAL_ERROR = 7,
  /** The runtime or a device could not be reached (gone, shut down, or crashed). */
  EDGERT_CONNECTION_ERROR = 8,
  /** A wait ran past its deadline. */
  EDGERT_TIMEOUT = 9,
  /** A bounded queue is full and its overflow policy is to reject. */
  EDGERT_QUEUE_FULL = 10,
  /** The object (context, connection, instance, runner) was closed or released. */
  EDGERT_CLOSED = 11,
  /** The device reported a fault (hang, reset, DMA failure). */
  EDGERT_DEVICE_FAULT = 12,
  /** Device or host memory is not sufficient for the request. */
  EDGERT_OUT_OF_MEMORY = 13,
  /** A file could not be read or written (board file, lease file, model file). */
  EDGERT_IO_ERROR = 14
} edgert_status;

/** A stable lower-case name for a status ("ok", "device_in_use", ...); "unknown_status"
 *  for a value outside the enum. The string is static. */
const char* edgert_status_string(edgert_status status);

/** Why the last failing edgert call of the calling thread failed; "" after a call that
 *  succeeded. Owned by the library; valid until the next edgert call on this thread. */
const char* edgert_last_error_message(void);

/** The library version, "major.minor.patch" (a static string). */
edgert_status edgert_version(const char** version);

/* ---------------------------------------------------------------------------------------
 * Handles
 * ------------------------------------------------------------------------------------- */
typedef struct edgert_context edgert_context;             /* the runtime; owns devices */
typedef struct edgert_connection edgert_connection;       /* a lease on sub-devices */
typedef struct edgert_model edgert_model;                 /* a loaded ONNX model */
typedef struct edgert_model_instance edgert_model_instance; /* a model on a connection */
typedef struct edgert_runner edgert_runner;               /* a model served on a device */
typedef struct edgert_configuration edgert_configuration; /* a device configuration read */

/* ---------------------------------------------------------------------------------------
 * Context
 * ------------------------------------------------------------------------------------- */
typedef struct edgert_context_options {
  /** Which simulated boards exist (system grammar of docs/device-specs.md, e.g.
   *  "m2,sbc,host"); NULL or "" means $EDGERT_SYSTEM, else the default system. */
  const char* system;
  /** Where the board files live; NULL or "" means $EDGERT_BOARD_CONFIGS, else the
   *  board_configs shipped beside the edgert binaries. */
  const char* board_config_dir;
  /** Where leases and shared board state live; NULL or "" means $EDGERT_RUNTIME_DIR, else
   *  $XDG_RUNTIME_DIR/edgert, else /tmp/edgert-<uid>. */
  const char* runtime_dir;
  /** Actor scheduler: "sharing" (default) or "stealing"; NULL means the default. */
  const char* scheduler_policy;
  /** Scheduler worker threads; 0 means one per online core. */
  uint32_t scheduler_threads;
  /** Messages an actor may handle per turn; 0 means the default (100). */
  uint32_t scheduler_max_throughput;
  /** The longest any single call waits for the runtime, in ms; 0 means 10000. */
  uint32_t request_timeout_ms;
} edgert_context_options;

/** Fills `options` with the defaults (every field NULL or 0). */
edgert_status edgert_context_options_init(edgert_context_options* options);

/** Builds the system of boards and starts the runtime. `options` may be NULL (defaults).
 *  EDGERT_INVALID_ARGUMENT (bad system spec or option), EDGERT_INVALID_CONFIGURATION (bad
 *  board file), EDGERT_IO_ERROR (unreadable board or runtime directory). */
edgert_status edgert_context_create(const edgert_context_options* options,
                                    edgert_context** context);

/** Frees every lease taken through the context and stops the runtime, then frees the
 *  handle. Release the context's connections, instances and runners first: calls on them
 *  afterwards fail (EDGERT_CLOSED or EDGERT_CONNECTION_ERROR), though releasing them stays
 *  safe. NULL is allowed. */
edgert_status edgert_context_release(edgert_context* context);

/* ---------------------------------------------------------------------------------------
 * Devices
 * ------------------------------------------------------------------------------------- */
typedef enum edgert_board_type {
  EDGERT_BOARD_PCIE = 0,
  EDGERT_BOARD_M2 = 1,
  EDGERT_BOARD_DEVBOARD = 2,
  EDGERT_BOARD_SBC = 3,
  EDGERT_BOARD_HOST = 4
} edgert_board_type;

typedef enum edgert_device_state {
  EDGERT_DEVICE_OFFLINE = 0,
  EDGERT_DEVICE_CONFIGURING = 1,
  EDGERT_DEVICE_READY = 2,
  EDGERT_DEVICE_FAULTED = 3,
  EDGERT_DEVICE_RECOVERING = 4
} edgert_device_state;

#define EDGERT_INFO_STRING_SIZE 64
#define EDGERT_IN_USE_BY_SIZE 512

/** A snapshot of one device. Strings are NUL-terminated copies, cut to fit their array
 *  (in_use_by lists every holder and is the only one long enough to be cut in practice). */
typedef struct edgert_device_info {
  char name[EDGERT_INFO_STRING_SIZE];     /* "dev:0": the name every device call takes */
  char id[EDGERT_INFO_STRING_SIZE];       /* "m2-0": stable across processes */
  char kind[EDGERT_INFO_STRING_SIZE];     /* board kind: the board_configs file stem */
  edgert_board_type board_type;
  uint32_t sub_devices;                   /* cores / processing elements */
  int fusable;                            /* 1 when sub-devices can be fused */
  char board_revision[EDGERT_INFO_STRING_SIZE];
  char firmware_version[EDGERT_INFO_STRING_SIZE];
  char flashed_firmware_version[EDGERT_INFO_STRING_SIZE];
  char board_controller_version[EDGERT_INFO_STRING_SIZE];
  uint64_t max_memory;                    /* bytes of device memory */
  edgert_device_state state;
  int in_use;                             /* 1 when any sub-device is leased, by anyone */
  char in_use_by[EDGERT_IN_USE_BY_SIZE];  /* the holders (pid, user, program); "" if free */
} edgert_device_info;

/** How many devices the context's system has; indexes 0..count-1 stay valid for its life. */
edgert_status edgert_device_count(edgert_context* context, size_t* count);
/** The device at `index` (EDGERT_INVALID_ARGUMENT past the end), leases filled in. */
edgert_status edgert_device_info_at(edgert_context* context, size_t index,
                                    edgert_device_info* info);
/** The device named `device` ("dev:0", "host", a board kind such as "m2"). */
edgert_status edgert_device_info_by_name(edgert_context* context, const char* device,
                                         edgert_device_info* info);

/** One device setting: "clock_profile" (MHz, every core), "clock_profile_core_N" (MHz,
 *  core N), "mvm_utilisation_core_N" (1..100 %, core N). */
typedef struct edgert_setting {
  const char* key;
  int64_t value;
} edgert_setting;

/** Applies `count` settings at once. `*complete` is 1 when they took effect, 0 when the
 *  configuration is pending (poll edgert_device_ready()). EDGERT_INVALID_CONFIGURATION
 *  for an unknown key or a value the board does not allow, EDGERT_NOT_IMPLEMENTED on the
 *  host device. */
edgert_status edgert_configure_device(edgert_context* context, const char* device,
                                      const edgert_setting* settings, size_t count,
                                      int* complete);
/** Polls once: `*ready` is 1 when no configuration is pending. */
edgert_status edgert_device_ready(edgert_context* context, const char* device, int* ready);
/** Waits up to `timeout_ms` for a pending configuration: `*ready` 1 when it settled. */
edgert_status edgert_wait_device_ready(edgert_context* context, const char* device,
                                       uint32_t timeout_ms, int* ready);
/** Returns the board to its defaults; brings a faulted device back to ready. */
edgert_status edgert_reset_device(edgert_context* context, const char* device);

/** Reads the device's configuration: the setting keys above plus "pending" and, while
 *  pending, "settles_in_ms", all as strings. Free it with edgert_configuration_release(). */
edgert_status edgert_read_device_configuration(edgert_context* context, const char* device,
                                               edgert_configuration** configuration);
/** Number of entries (sorted by key). */
edgert_status edgert_configuration_count(edgert_configuration* configuration, size_t* count);
/** Entry `index`; the strings belong to `configuration`. */
edgert_status edgert_configuration_entry(edgert_configuration* configuration, size_t index,
                                         const char** key, const char** value);
/** The value of `key`; EDGERT_INVALID_ARGUMENT when the key is absent. */
edgert_status edgert_configuration_get(edgert_configuration* configuration, const char* key,
                                       const char** value);
edgert_status edgert_configuration_release(edgert_configuration* configuration);

/** Leases `num_sub_devices` free sub-devices of `device`, or exactly the sub-devices a
 *  "dev:X:Y" / "dev:X:Y-Z" name lists (then num_sub_devices is 0 or matches).
 *  EDGERT_DEVICE_IN_USE names the holder when they are taken. */
edgert_status edgert_device_connect(edgert_context* context, const char* device,
                                    uint32_t num_sub_devices, edgert_connection** connection);
/** The device name ("dev:0") and the number of leased sub-devices. Either may be NULL. */
edgert_status edgert_connection_info(edgert_connection* connection, const char** device,
                                     uint32_t* sub_devices);
/** Drops the handle. The lease is freed once no model instance loaded through this
 *  connection is left (each instance keeps the lease it runs on). NULL is allowed. */
edgert_status edgert_connection_release(edgert_connection* connection);

/* ---------------------------------------------------------------------------------------
 * Models and tensors
 * ------------------------------------------------------------------------------------- */
/** Element types; the values are ONNX's TensorProto.DataType numbers. */
typedef enum edgert_dtype {
  EDGERT_DTYPE_UNDEFINED = 0,
  EDGERT_DTYPE_FLOAT32 = 1,
  EDGERT_DTYPE_UINT8 = 2,
  EDGERT_DTYPE_INT8 = 3,
  EDGERT_DTYPE_UINT16 = 4,
  EDGERT_DTYPE_INT16 = 5,
  EDGERT_DTYPE_INT32 = 6,
  EDGERT_DTYPE_INT64 = 7,
  EDGERT_DTYPE_BOOL = 9,
  EDGERT_DTYPE_FLOAT16 = 10,
  EDGERT_DTYPE_FLOAT64 = 11,
  EDGERT_DTYPE_UINT32 = 12,
  EDGERT_DTYPE_UINT64 = 13,
  EDGERT_DTYPE_BFLOAT16 = 16
} edgert_dtype;

#define EDGERT_MAX_RANK 8

/** A model input or output as the device stores it. `name` and `layout` belong to the
 *  handle the info was read from and stay valid until it is released. */
typedef struct edgert_tensor_info {
  const char* name;
  edgert_dtype dtype;
  size_t rank;
  int64_t shape[EDGERT_MAX_RANK];  /* first `rank` entries; -1 for a dimension known at run time */
  int64_t elements;                /* product of the shape; -1 when a dimension is unknown */
  size_t size_bytes;               /* bytes a buffer for it must hold */
  const char* layout;              /* "NCHW", "NC", ... or "" */
  int quantized;                   /* 1 when scale and zero_point apply */
  float scale;
  int64_t zero_point;
} edgert_tensor_info;

/** A tensor buffer owned by the caller. Its dtype and shape are those of the model input
 *  or output it is passed for; `size_bytes` must equal that tensor's size_bytes, and
 *  `data` may be NULL only when that size is 0. */
typedef struct edgert_tensor {
  void* data;
  size_t size_bytes;
} edgert_tensor;

/** Loads an ONNX model (and the manifest.json beside it). EDGERT_INVALID_ARGUMENT for a
 *  missing, truncated or malformed file, EDGERT_NOT_IMPLEMENTED naming unsupported ops.
 *  A model does not depend on its context after loading and may be used with any. */
edgert_status edgert_load_model(edgert_context* context, const char* path,
                                edgert_model** model);
/** Loads a serialised ONNX model from `size` bytes (copied). External data files are
 *  looked up under `base_dir`, which may be NULL. */
edgert_status edgert_load_model_from_bytes(edgert_context* context, const void* bytes,
                                           size_t size, const char* base_dir,
                                           edgert_model** model);
/** Drops the handle; instances and runners made from the model keep what they need. */
edgert_status edgert_model_release(edgert_model* model);

edgert_status edgert_model_name(edgert_model* model, const char** name);
/** Multiply-accumulates of one inference. */
edgert_status edgert_model_macs(edgert_model* model, uint64_t* macs);
edgert_status edgert_model_input_count(edgert_model* model, size_t* count);
edgert_status edgert_model_output_count(edgert_model* model, size_t* count);
edgert_status edgert_model_input_info(edgert_model* model, size_t index,
                                      edgert_tensor_info* info);
edgert_status edgert_model_output_info(edgert_model* model, size_t index,
                                       edgert_tensor_info* info);

/* ---------------------------------------------------------------------------------------
 * Model instances: a model loaded onto the sub-devices of a connection
 * ------------------------------------------------------------------------------------- */
typedef struct edgert_model_instance_options {
  uint32_t num_sub_devices;  /* sub-devices of the connection to use; 0 = all */
  uint32_t aipu_cores;       /* cores per sub-device; 0 = all */
  int double_buffer;         /* 1: two jobs in flight per sub-device (default 1) */
  int input_dmabuf;          /* 1: inputs come as file descriptors (run_fds) */
  int output_dmabuf;         /* 1: outputs come as file descriptors (run_fds) */
  int device_profiling;
  int host_profiling;
  uint32_t num_runtimes;     /* request slots; run/schedule block while all are busy (default 4) */
  uint32_t threads;          /* compute threads per execution unit (default 1) */
  uint32_t timeout_ms;       /* bound of every wait of the instance (default 60000) */
  int process_isolation;     /* 1: compute in edgert-worker processes; a crash there fails
                                only the job in flight (EDGERT_DEVICE_FAULT), then a new
                                worker takes over (default 0) */
} edgert_model_instance_options;

/** Fills `options` with the defaults shown above. */
edgert_status edgert_model_instance_options_init(edgert_model_instance_options* options);

/** Loads `model` onto the connection's sub-devices; `options` may be NULL (defaults). The
 *  instance keeps the connection's lease until it is released. EDGERT_INVALID_ARGUMENT
 *  (bad options, dynamic shapes), EDGERT_OUT_OF_MEMORY (does not fit the device),
 *  EDGERT_CLOSED (context released). */
edgert_status edgert_load_model_instance(edgert_connection* connection, edgert_model* model,
                                         const edgert_model_instance_options* options,
                                         edgert_model_instance** instance);

edgert_status edgert_model_instance_input_count(edgert_model_instance* instance, size_t* count);
edgert_status edgert_model_instance_output_count(edgert_model_instance* instance, size_t* count);
edgert_status edgert_model_instance_input_info(edgert_model_instance* instance, size_t index,
                                               edgert_tensor_info* info);
edgert_status edgert_model_instance_output_info(edgert_model_instance* instance, size_t index,
                                                edgert_tensor_info* info);

/** Runs once and waits: inputs are read and outputs written before it returns.
 *  EDGERT_INVALID_ARGUMENT for a wrong tensor count or size or a NULL buffer,
 *  EDGERT_CLOSED after close, EDGERT_TIMEOUT, EDGERT_DEVICE_FAULT, ... */
edgert_status edgert_model_instance_run(edgert_model_instance* instance,
                                        const edgert_tensor* inputs, size_t input_count,
                                        const edgert_tensor* outputs, size_t output_count);
/** The same with buffers passed as file descriptors (memfd, dma-buf), each at least as
 *  large as its tensor; needs input_dmabuf and output_dmabuf. The fds stay the caller's. */
edgert_status edgert_model_instance_run_fds(edgert_model_instance* instance,
                                            const int* input_fds, size_t input_count,
                                            const int* output_fds, size_t output_count);

/** Starts a request and returns at once with its sequence id in `*id` (execution-unit id in
 *  the top 16 bits, a per-instance strictly increasing sequence in the low 48). Inputs are
 *  copied before it returns; the output buffers must stay valid and untouched until the
 *  request completes. A failed request is reported by edgert_model_instance_take_errors(). */
edgert_status edgert_model_instance_schedule(edgert_model_instance* instance,
                                             const edgert_tensor* inputs, size_t input_count,
                                             const edgert_tensor* outputs, size_t output_count,
                                             uint64_t* id);
/** `*completed` is 1 once the request finished, successfully or not.
 *  EDGERT_INVALID_ARGUMENT for an id this instance never issued. */
edgert_status edgert_model_instance_is_completed(edgert_model_instance* instance, uint64_t id,
                                                 int* completed);
/** A new file descriptor that becomes readable (an eventfd counting 1) when the request
 *  completes; readable at once if it has. The caller owns it and closes it. */
edgert_status edgert_model_instance_completion_fd(edgert_model_instance* instance, uint64_t id,
                                                  int* fd);
/** Waits up to `timeout_ms`; `*completed` is 1 when the request completed in time. */
edgert_status edgert_model_instance_wait(edgert_model_instance* instance, uint64_t id,
                                         uint32_t timeout_ms, int* completed);

#define EDGERT_ERROR_MESSAGE_SIZE 256

/** One failed scheduled request. */
typedef struct edgert_scheduled_error {
  uint64_t id;
  edgert_status status;
  char message[EDGERT_ERROR_MESSAGE_SIZE];  /* NUL-terminated, cut to fit */
} edgert_scheduled_error;

/** Moves up to `capacity` failed requests (oldest first) into `errors` and sets `*count` to
 *  how many it wrote; the rest stay for the next call, and `*remaining` (may be NULL) says
 *  how many. `errors` may be NULL when `capacity` is 0 (to learn `*remaining`). The
 *  tracker keeps the latest 1024 failures; `dropped` (may be NULL) counts older ones lost. */
edgert_status edgert_model_instance_take_errors(edgert_model_instance* instance,
                                                edgert_scheduled_error* errors, size_t capacity,
                                                size_t* count, size_t* remaining,
                                                uint64_t* dropped);

/** Stops intake and completes everything in flight; what has not started by `timeout_ms`
 *  fails with EDGERT_CLOSED (and lands in the error tracker). `*in_time` (may be NULL) is 1
 *  when everything finished in time. Later run/schedule calls give EDGERT_CLOSED. */
edgert_status edgert_model_instance_close(edgert_model_instance* instance, uint32_t timeout_ms,
                                          int* in_time);
/** Closes (waiting up to the instance's timeout) and frees the handle; then frees the
 *  connection's lease if the connection handle was released too. NULL is allowed. */
edgert_status edgert_model_instance_release(edgert_model_instance* instance);

/* ---------------------------------------------------------------------------------------
 * Runners: a model served on a device spec, leasing its sub-devices itself
 * ------------------------------------------------------------------------------------- */
typedef struct edgert_runner_options {
  const char* device;       /* device spec: "host", "dev:0", "dev:0:1", "m2", ...; NULL = "host" */
  uint32_t worker_num;      /* execution units, each on its own sub-device (default 1) */
  uint32_t batch_size;      /* multiplies the first dimension of every tensor (default 1) */
  uint32_t threads;         /* compute threads per execution unit (default 1) */
  uint32_t max_in_flight;   /* request slots (default 64) */
  uint32_t timeout_ms;      /* bound of every wait (default 60000) */
} edgert_runner_options;

edgert_status edgert_runner_options_init(edgert_runner_options* options);
/** Serves `model`; `options` may be NULL. EDGERT_INVALID_ARGUMENT (bad options or spec),
 *  EDGERT_DEVICE_IN_USE, EDGERT_OUT_OF_MEMORY. */
edgert_status edgert_runner_create(edgert_context* context, edgert_model* model,
                                   const edgert_runner_options* options, edgert_runner** runner);
/** Tensor infos with batch_size applied. */
edgert_status edgert_runner_input_count(edgert_runner* runner, size_t* count);
edgert_status edgert_runner_output_count(edgert_runner* runner, size_t* count);
edgert_status edgert_runner_input_info(edgert_runner* runner, size_t index,
                                       edgert_tensor_info* info);
edgert_status edgert_runner_output_info(edgert_runner* runner, size_t index,
                                        edgert_tensor_info* info);
/** Runs once and waits; any number of threads may run at once. */
edgert_status edgert_runner_run(edgert_runner* runner, const edgert_tensor* inputs,
                                size_t input_count, const edgert_tensor* outputs,
                                size_t output_count);
/** Stops intake and waits for what is in flight; `*in_time` (may be NULL) as for instances. */
edgert_status edgert_runner_close(edgert_runner* runner, uint32_t timeout_ms, int* in_time);
/** Closes and frees the runner and its lease. NULL is allowed. */
edgert_status edgert_runner_release(edgert_runner* runner);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* EDGERT_EDGERT_H */
