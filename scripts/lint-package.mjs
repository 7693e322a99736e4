// Lints the package as npm would publish it, from the dist/ that `npm run build` made: publint
// (package.json's fields against the files) and Are the Types Wrong (what each TypeScript module
// resolution sees) on the tarball `npm pack` makes, packed without its prepack (a second build).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name) => join(root, 'node_modules', '.bin', name);
const run = (command, args) => execFileSync(command, args, { cwd: root, stdio: 'inherit' });

const folder = mkdtempSync(join(tmpdir(), 'lint-package-'));
try {
  const packed = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', folder],
    { cwd: root, encoding: 'utf8' });
  const [{ filename }] = JSON.parse(packed);
  run(bin('publint'), ['--strict']);
  // require() of this ESM package is Node's require(esm), unflagged from the Node this package
  // needs (engines: >= 20.19; test/node/package.test.ts requires it), which attw's node16-from-CJS
  // rule does not know of. TypeScript types it under module nodenext. Every other rule applies.
  run(bin('attw'), [join(folder, filename), '--ignore-rules', 'cjs-resolves-to-esm']);
} finally {
  rmSync(folder, { recursive: true, force: true });
}
