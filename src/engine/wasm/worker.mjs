// Kernel worker (plain JS so it runs unchanged as a Node worker_threads worker and as a browser module Web Worker):
// instantiates the kernels on the shared memory, then loops waiting on the job word of the control block.
// Control block (Int32Array over a SharedArrayBuffer), see pool.ts: [0] job sequence, [1] workers still running,
// [2] kernel index, [3] argument count, [4] quit, [5] error flag; Float64Array arguments from byte 64.

const SPIN = 4000;

let post;
const isNode = typeof process !== 'undefined' && process.versions != null && process.versions.node != null && typeof self === 'undefined';
if (isNode) {
  const { parentPort } = await import('node:worker_threads');
  post = (m) => parentPort.postMessage(m);
  parentPort.once('message', start);
} else {
  post = (m) => self.postMessage(m);
  self.onmessage = (e) => start(e.data);
}

async function start(init) {
  const { module, memory, names, tid, nth, control, scratch } = init;
  try {
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    const ex = instance.exports;
    ex.set_scratch(scratch);
    const fns = names.map((n) => ex[n]);
    post({ ready: true });
    loop(fns, new Int32Array(control, 0, 16), new Float64Array(control, 64, 24), tid, nth);
  } catch (err) {
    post({ error: String(err && err.stack ? err.stack : err) });
  }
}

function call(f, a, n, tid, nth) {
  switch (n) {
    case 1: return f(a[0], tid, nth);
    case 3: return f(a[0], a[1], a[2], tid, nth);
    case 4: return f(a[0], a[1], a[2], a[3], tid, nth);
    case 5: return f(a[0], a[1], a[2], a[3], a[4], tid, nth);
    case 6: return f(a[0], a[1], a[2], a[3], a[4], a[5], tid, nth);
    case 7: return f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], tid, nth);
    case 8: return f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], tid, nth);
    case 9: return f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], tid, nth);
    case 10: return f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], tid, nth);
    case 11: return f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], tid, nth);
    case 12: return f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], tid, nth);
    case 13: return f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], tid, nth);
    default: throw new Error(`worker: unsupported argument count ${n}`);
  }
}

function loop(fns, ctrl, args, tid, nth) {
  // jobs are numbered from 1: the main thread may post the first one before this loop starts
  let seen = 0;
  for (;;) {
    let spins = 0;
    let s;
    while ((s = Atomics.load(ctrl, 0)) === seen) {
      // spin briefly (a kernel burst arrives back to back), then sleep on the futex
      if (++spins > SPIN) {
        Atomics.wait(ctrl, 0, seen);
        spins = 0;
      }
    }
    seen = s;
    if (Atomics.load(ctrl, 4) !== 0) return;
    try {
      call(fns[ctrl[2]], args, ctrl[3], tid, nth);
    } catch (err) {
      Atomics.store(ctrl, 5, 1);
      post({ error: String(err && err.stack ? err.stack : err) });
    }
    if (Atomics.sub(ctrl, 1, 1) === 1) Atomics.notify(ctrl, 1);
  }
}
