// Plain Node, no Vite, no TypeScript: imports the built package by its own name (package.json
// "exports" → dist/index.js) and computes losses on a device from the `webgpu` package.
// Prints one JSON line; test/node/dist.test.ts runs it and checks the numbers.
import { create } from 'webgpu';
import { CrossEntropy, crossEntropyReference } from 'webgpu-cross-entropy';

process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';
const gpu = create([]);
const adapter = await gpu.requestAdapter();
if (adapter === null) {
  console.log(JSON.stringify({ error: 'no WebGPU adapter' }));
  process.exit(2);
}
const device = await adapter.requestDevice();
const ce = await CrossEntropy.create({ device });
try {
  const seeds = await ce.forward(
    { data: new Float32Array([0.7, 0.2, 0.1]), shape: [3] },
    { data: new Int32Array([0]), shape: [] },
    { input: 'probabilities' },
  );
  const logits = { data: Float32Array.from({ length: 64 * 100 }, (_, i) => Math.sin(i) * 5), shape: [64, 100] };
  const target = { data: Int32Array.from({ length: 64 }, (_, i) => (i * 37) % 100), shape: [64] };
  const batch = await ce.forward(logits, target, { labelSmoothing: 0.1 });
  const reference = crossEntropyReference(logits, target, { labelSmoothing: 0.1 });
  console.log(JSON.stringify({ seeds: seeds.loss, batch: batch.loss, reference: reference.loss }));
} finally {
  ce.destroy();
  device.destroy();
}
