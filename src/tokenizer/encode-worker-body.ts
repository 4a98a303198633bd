// Inside an EncodePool worker: rebuild the tokenizer from plain data, encode batches, send back flat id arrays.
import { parentPort, workerData } from 'node:worker_threads';
import { Tokenizer, type TokenizerData } from './tokenizer.ts';

const tok = new Tokenizer(workerData.data as TokenizerData);
parentPort!.on('message', (msg: { job: number; texts: string[] }) => {
  const ids: number[] = [];
  const lengths = new Int32Array(msg.texts.length);
  for (let i = 0; i < msg.texts.length; i++) {
    const before = ids.length;
    tok.encodeInto(msg.texts[i]!, ids);
    lengths[i] = ids.length - before;
  }
  const flat = Int32Array.from(ids);
  parentPort!.postMessage({ job: msg.job, ids: flat, lengths }, [flat.buffer, lengths.buffer]);
});
parentPort!.postMessage({ ready: true });
