import { defineConfig } from 'vite';

/**
 * One config, two uses: `vite` serves index.html (the demo page) and the browser test harness;
 * `vite build` builds the library (src/index.ts → dist/index.js, shaders inlined from `?raw`) and
 * its TF.js adapter (src/tfjs/index.ts → dist/tfjs/index.js, which imports ../index.js and TF.js).
 */
export default defineConfig({
  server: { host: 'localhost' },
  build: {
    lib: {
      entry: { index: 'src/index.ts', 'tfjs/index': 'src/tfjs/index.ts' },
      formats: ['es'],
      fileName: (_format, name) => `${name}.js`,
    },
    rolldownOptions: {
      // TF.js is the adapter's peer dependency, never bundled.
      external: [/^@tensorflow\//],
      // dist/index.js stays one file: what the adapter shares with it is exported from it (under
      // internal names), not split into a chunk of its own.
      preserveEntrySignatures: 'allow-extension',
    },
    outDir: 'dist',
    emptyOutDir: true,
    // No source maps: the tarball ships dist/ without them, and a map URL to a missing file warns.
    sourcemap: false,
    minify: false,
    target: 'es2022',
  },
});
