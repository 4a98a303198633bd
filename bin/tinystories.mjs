#!/usr/bin/env node
// CLI entry: loads the TypeScript sources through tsx so a fresh clone works right after `npm install`.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/main.ts');
