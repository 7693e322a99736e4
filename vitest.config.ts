import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    pool: 'forks',
    // SwiftShader runs WebGPU on the CPU: one test file at a time keeps timings and memory sane.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    // TF.js's ES modules (their extensionless imports resolved by Vite), so that the gradients
    // registered by tfjs-core/dist/register_all_gradients go into the same engine as the ops.
    server: { deps: { inline: [/@tensorflow\//] } },
  },
});
