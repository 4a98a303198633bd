// Entry of the synchronous WebGPU backend's worker: loads the TypeScript worker through tsx (a worker does not
// inherit the parent's loader when it was registered through tsx's API, as bin/tinystories.mjs does).
import { register } from 'tsx/esm/api';
register();
await import('./sync-worker.ts');
