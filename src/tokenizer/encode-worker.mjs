// Worker-thread entry for EncodePool: makes the TypeScript sources importable here, then runs the worker body.
// (Workers do not inherit a loader registered programmatically by bin/tinystories.mjs, so register tsx again.)
import { register } from 'tsx/esm/api';
register();
await import('./encode-worker-body.ts');
