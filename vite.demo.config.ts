import { defineConfig } from 'vite';

/**
 * `npm run build:demo`: the demo page (index.html, with the benchmark's code for its benchmark view)
 * as a static site in dist-demo/. `base: './'` makes every URL relative, so the folder works from any
 * static host and any path under it.
 */
export default defineConfig({
  base: './',
  build: {
    outDir: 'dist-demo',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // TF.js and jax-js (loaded only when a benchmark starts) are large by nature.
    chunkSizeWarningLimit: 4096,
  },
});
