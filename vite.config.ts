import { defineConfig } from 'vite';

/**
 * One config, two uses: `vite` serves index.html (the demo page) and the browser test harness;
 * `vite build` builds the library (src/index.ts → dist/index.js, shaders inlined from `?raw`).
 */
export default defineConfig({
  server: { host: 'localhost' },
  build: {
    lib: {
      entry: 'src/index.ts',
      formats: ['es'],
      fileName: 'index',
    },
    outDir: 'dist',
    emptyOutDir: true,
    // No source maps: the tarball ships dist/ without them, and a map URL to a missing file warns.
    sourcemap: false,
    minify: false,
    target: 'es2022',
  },
});
