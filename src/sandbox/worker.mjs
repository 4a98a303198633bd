// Sandbox worker thread: loads Pyodide with a capped WebAssembly heap, cuts Python off from the host (runner.py),
// hardens this thread's JavaScript realm as a backstop, then runs one program per message.
// Plain JavaScript (no tsx) so a replacement worker starts as fast as Pyodide allows.
import { parentPort, workerData } from 'node:worker_threads';
import { readFileSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';

const { memoryLimitBytes, interrupt, runnerPath } = workerData;
const require = createRequire(import.meta.url);

// --- Memory cap: every growth of a WebAssembly memory in this thread goes through here once booted. ---
let booted = false;
let capHit = false;
let heap = null;
const realGrow = WebAssembly.Memory.prototype.grow;
WebAssembly.Memory.prototype.grow = function grow(pages) {
  heap = this;
  if (booted && this.buffer.byteLength + pages * 65536 > memoryLimitBytes) {
    capHit = true;
    throw new RangeError('sandbox memory limit');
  }
  return realGrow.call(this, pages);
};

// --- Escape backstops: anything that reaches them is recorded and the run is reported as blocked. ---
let blocked = null;
function denied(what, returnValue) {
  const f = function () {
    blocked ??= what;
    if (returnValue !== undefined) return returnValue;
    throw new Error(`sandbox: ${what} is blocked`);
  };
  return f;
}

// This thread's /proc entry (Linux): the pool reads its schedstat to charge the time limit with the time this thread
// ran or slept, not the time it waited for a CPU on a busy machine.
let threadProc = null;
try {
  threadProc = '/proc/' + readlinkSync('/proc/thread-self');
} catch {}

const t0 = Date.now();
const { loadPyodide } = await import('pyodide');
const { dirname } = await import('node:path');
const py = await loadPyodide({
  // Pyodide guesses its files' location from a stack trace, which fails inside a worker: say it.
  indexURL: dirname(require.resolve('pyodide/pyodide.mjs')) + '/',
  jsglobals: Object.create(null),
  stdout: () => {},
  stderr: () => {},
  // Pyodide's own messages ("Loading ...") and fatal-error dumps are not the program's output.
});
py.unregisterJsModule('js');
py.unregisterJsModule('pyodide_js');
py.setInterruptBuffer(new Int32Array(interrupt));
py.runPython(readFileSync(runnerPath, 'utf8'));
const run = py.globals.get('_sandbox_run');
const selftest = py.globals.get('_sandbox_selftest');

// Host capabilities the Emscripten runtime could still reach: processes (system()), sockets, string evaluation
// (emscripten_run_script via ctypes), code generation through any function's constructor, host filesystem mounts.
const cp = require('node:child_process');
for (const k of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
  cp[k] = k === 'spawnSync' ? denied('child_process', { status: 127, signal: null, pid: 0, output: [], stdout: null, stderr: null }) : denied('child_process');
}
for (const mod of ['node:net', 'node:tls', 'node:http', 'node:https', 'node:dgram']) {
  const m = require(mod);
  for (const k of ['connect', 'createConnection', 'createServer', 'request', 'get', 'createSocket']) if (typeof m[k] === 'function') m[k] = denied(mod);
  if (m.Socket) m.Socket.prototype.connect = denied(mod);
}
const wt = require('node:worker_threads');
try { wt.Worker = denied('worker_threads'); } catch {}
if (py.FS?.filesystems) {
  for (const k of ['NODEFS', 'NODERAWFS', 'WORKERFS', 'PROXYFS']) if (k in py.FS.filesystems) delete py.FS.filesystems[k];
}
py.mountNodeFS = denied('mountNodeFS');
if (py.FS) py.FS.mount = denied('FS.mount');
globalThis.eval = denied('eval');
const poison = denied('Function constructor');
for (const F of [Function, Object.getPrototypeOf(async function () {}).constructor, Object.getPrototypeOf(function* () {}).constructor, Object.getPrototypeOf(async function* () {}).constructor]) {
  Object.defineProperty(F.prototype, 'constructor', { value: poison, writable: false, configurable: false });
}
for (const k of ['process', 'require', 'fetch', 'WebSocket', 'Worker', 'SharedWorker', 'XMLHttpRequest', 'importScripts']) {
  try { delete globalThis[k]; } catch {}
}

const interruptView = new Int32Array(interrupt);
const heapBytes = () => heap?.buffer.byteLength ?? py._module?.HEAPU8?.buffer.byteLength ?? 0;
booted = true;
parentPort.postMessage({ ready: true, coldMs: Date.now() - t0, info: JSON.parse(selftest()), heapBytes: heapBytes(), threadProc });

parentPort.on('message', (m) => {
  Atomics.store(interruptView, 0, 0);
  capHit = false;
  blocked = null;
  let result;
  try {
    result = JSON.parse(run(m.code, m.entry, m.maxOutput));
  } catch (e) {
    // Pyodide's fatal errors leave the interpreter unusable: the pool replaces this worker.
    parentPort.postMessage({ id: m.id, fatal: String(e?.message ?? e).split('\n')[0], blocked, capHit });
    return;
  }
  // Going over the memory cap is what the program did, whether or not the time limit also came: memory wins.
  if (capHit) result = { status: 'memory', message: `the program went over the ${memoryLimitBytes >> 20} MiB memory limit`, stdout: result.stdout };
  if (blocked) result = { status: 'blocked', message: `blocked: ${blocked}`, stdout: result.stdout };
  parentPort.postMessage({ id: m.id, result, heapBytes: heapBytes(), blocked });
});
