// Runs a TypeScript entry point in Node through Vite's module runner (the project's own
// transform; nothing is compiled to disk): `node scripts/run-ts.mjs bench/run.ts [args]`. The
// entry sees its own arguments from process.argv[2] on, as if it were run directly.
import { resolve } from 'node:path';
import { runnerImport } from 'vite';

const [entry] = process.argv.splice(2, 1);
if (entry === undefined) {
  console.error('usage: node scripts/run-ts.mjs <entry.ts> [args]');
  process.exit(2);
}
await runnerImport(resolve(entry));
