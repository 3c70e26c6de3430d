#!/usr/bin/env node
// ort_runner.js: single-inference latency of one ONNX model through ONNX Runtime's CPU
// execution provider (the npm package onnxruntime-node), the peer baseline for
// bench/engine_latency. bench/compare_ort installs the package and starts this script.
//
// Session: intraOpNumThreads = --threads, interOpNumThreads = 1, sequential execution, all
// graph optimisations. What is timed: only `await session.run(feeds)`, which includes the
// Node binding's call overhead (tens of microseconds) and output tensor creation.
//
// Input: --input FILE.npy (once per graph input, in order), else zeros. Output: --output
// FILE.npy receives the first graph output of the last run. Memory: VmHWM (peak resident
// set, KiB) of this Node process at the end, and VmRSS before the session was created; the
// Node runtime itself accounts for roughly 40-50 MiB of both.
//
// --serve speaks the same line protocol as engine_latency --serve: a {"ready": true} line,
// then "run N" -> {"times_ms": [...]}, "quit" -> write the output, {"vmhwm_kib": ...}, exit.
//
// Usage: node ort_runner.js MODEL.onnx --ort-dir DIR [--threads N] [--count N] [--warmup N]
//                           [--json] [--input FILE.npy]... [--output FILE.npy] [--serve]
// DIR is the directory holding node_modules/onnxruntime-node.
'use strict';

const fs = require('fs');
const path = require('path');
const readline = require('readline');

function die(message, code = 1) {
  process.stderr.write(`ort_runner: ${message}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const o = { threads: 1, count: 50, warmup: 5, json: false, serve: false, inputs: [], output: '', ortDir: '' };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) die(`${a} needs a value`, 2);
      return argv[++i];
    };
    const int = (min) => {
      const v = Number(value());
      if (!Number.isInteger(v) || v < min) die(`${a} needs an integer >= ${min}`, 2);
      return v;
    };
    if (a === '--threads') o.threads = int(1);
    else if (a === '--count') o.count = int(1);
    else if (a === '--warmup') o.warmup = int(0);
    else if (a === '--json') o.json = true;
    else if (a === '--serve') o.serve = true;
    else if (a === '--input') o.inputs.push(value());
    else if (a === '--output') o.output = value();
    else if (a === '--ort-dir') o.ortDir = value();
    else if (a.startsWith('-')) die(`unknown option ${a}`, 2);
    else if (!o.model) o.model = a;
    else die('more than one model given', 2);
  }
  if (!o.model) die('no model given', 2);
  return o;
}

// NumPy descriptor <-> ORT tensor type and typed array.
const NPY_TYPES = {
  '<f4': ['float32', Float32Array], '<f8': ['float64', Float64Array], '|i1': ['int8', Int8Array],
  '|u1': ['uint8', Uint8Array], '<i2': ['int16', Int16Array], '<u2': ['uint16', Uint16Array],
  '<i4': ['int32', Int32Array], '<u4': ['uint32', Uint32Array], '<i8': ['int64', BigInt64Array],
  '<u8': ['uint64', BigUint64Array], '|b1': ['bool', Uint8Array],
};

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') die(`${file}: not a .npy file`, 2);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header);
  const order = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !order || !shape) die(`${file}: malformed .npy header`, 2);
  if (order[1] === 'True') die(`${file}: Fortran order is not supported`, 2);
  const type = NPY_TYPES[descr[1]];
  if (!type) die(`${file}: dtype ${descr[1]} is not supported`, 2);
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const bytes = buf.subarray(start + headerLen);
  const Ctor = type[1];
  if (bytes.length < count * Ctor.BYTES_PER_ELEMENT) die(`${file}: truncated data`, 2);
  const data = new Ctor(count);  // copied so the typed array is aligned
  new Uint8Array(data.buffer).set(bytes.subarray(0, count * Ctor.BYTES_PER_ELEMENT));
  return { type: type[0], data: type[0] === 'bool' ? data.map((v) => v !== 0) : data, dims };
}

function writeNpy(file, tensor) {
  const entry = Object.entries(NPY_TYPES).find(([, t]) => t[0] === tensor.type);
  if (!entry) die(`cannot write output type ${tensor.type}`);
  const dims = tensor.dims.map(Number);
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${entry[0]}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const data = tensor.data;
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
}

function statusKib(field) {
  try {
    const m = new RegExp(`^${field}:\\s*(\\d+)`, 'm').exec(fs.readFileSync('/proc/self/status', 'latin1'));
    return m ? Number(m[1]) : -1;
  } catch (e) {
    return -1;
  }
}

function percentile(values, p) {
  const v = [...values].sort((a, b) => a - b);
  const rank = Math.min(v.length, Math.max(1, Math.ceil((p / 100) * v.length)));
  return v[rank - 1];
}

async function timedRuns(session, feeds, count, keep) {
  const times = [];
  for (let i = 0; i < count; ++i) {
    const start = process.hrtime.bigint();
    const out = await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    keep.last = out;
  }
  return times;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const rssStart = statusKib('VmRSS');
  const modulePath = o.ortDir ? path.join(o.ortDir, 'node_modules', 'onnxruntime-node') : 'onnxruntime-node';
  let ort;
  try {
    ort = require(modulePath);
  } catch (e) {
    die(`cannot load onnxruntime-node from ${modulePath}: ${e.message}`);
  }

  let start = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(o.model, {
    intraOpNumThreads: o.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const prepareMs = Number(process.hrtime.bigint() - start) / 1e6;

  if (o.inputs.length && o.inputs.length !== session.inputNames.length)
    die(`the model has ${session.inputNames.length} inputs but ${o.inputs.length} --input files were given`, 2);
  if (!o.inputs.length) die('give --input FILE.npy for each model input', 2);
  const feeds = {};
  session.inputNames.forEach((name, i) => {
    const t = readNpy(o.inputs[i]);
    feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
  });

  const keep = {};
  start = process.hrtime.bigint();
  keep.last = await session.run(feeds);
  const firstMs = Number(process.hrtime.bigint() - start) / 1e6;
  await timedRuns(session, feeds, o.warmup, keep);

  const doc = {
    runtime: 'onnxruntime', version: ort.env.versions ? ort.env.versions.common : undefined,
    model: o.model, threads: o.threads, prepare_ms: prepareMs, first_run_ms: firstMs,
    vmrss_start_kib: rssStart,
  };
  const writeOutput = () => {
    if (o.output) writeNpy(o.output, keep.last[session.outputNames[0]]);
  };

  if (o.serve) {
    process.stdout.write(JSON.stringify({ ...doc, ready: true }) + '\n');
    const lines = readline.createInterface({ input: process.stdin, terminal: false });
    for await (const line of lines) {
      const words = line.trim().split(/\s+/);
      if (words[0] === 'run') {
        const n = Number(words[1]);
        if (!Number.isInteger(n) || n < 1) die("serve: 'run N' needs N >= 1", 2);
        const times = await timedRuns(session, feeds, n, keep);
        process.stdout.write(JSON.stringify({ times_ms: times }) + '\n');
      } else if (words[0] === 'quit') {
        writeOutput();
        process.stdout.write(JSON.stringify({ vmhwm_kib: statusKib('VmHWM') }) + '\n');
        break;
      } else if (words[0] !== '') {
        die(`serve: unknown command '${words[0]}'`, 2);
      }
    }
    lines.close();
    return;
  }

  const times = await timedRuns(session, feeds, o.count, keep);
  writeOutput();
  Object.assign(doc, {
    count: o.count, median_ms: percentile(times, 50), p90_ms: percentile(times, 90),
    min_ms: Math.min(...times), times_ms: times, vmhwm_kib: statusKib('VmHWM'),
  });
  if (o.json) {
    process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
  } else {
    process.stdout.write(`${o.model}  onnxruntime  threads ${o.threads}  runs ${o.count}\n` +
      `median ${doc.median_ms.toFixed(3)} ms  p90 ${doc.p90_ms.toFixed(3)} ms  min ${doc.min_ms.toFixed(3)} ms\n` +
      `peak RSS ${(doc.vmhwm_kib / 1024).toFixed(1)} MiB (${(rssStart / 1024).toFixed(1)} MiB at start)\n`);
  }
}

main().catch((e) => die(e && e.stack ? e.stack : String(e)));
