// CrossEntropy.create() without a device, several times in one process, with garbage collected
// between every step and nothing of an instance kept once it is destroyed, except one instance's
// device, kept to the end. Dawn aborts the process if the `webgpu` package's GPU object is collected
// while anything made from it is still reachable. Run with --expose-gc; prints one JSON line.
import { CrossEntropy, crossEntropyReference } from 'webgpu-cross-entropy';

async function collect() {
  for (let i = 0; i < 3; i++) {
    globalThis.gc();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const logits = { data: Float32Array.from({ length: 4 * 7 }, (_, i) => Math.sin(i) * 3), shape: [4, 7] };
const target = { data: new Int32Array([0, 3, 6, 2]), shape: [4] };
const losses = [];
let keptDevice;
for (let i = 0; i < 3; i++) {
  let ce = await CrossEntropy.create();
  await collect();
  const { loss } = await ce.forward(logits, target, { labelSmoothing: 0.1 });
  await collect();
  losses.push(loss);
  if (i === 0) keptDevice = ce.device;
  ce.destroy();
  ce = undefined;
  await collect();
}
await collect();
console.log(JSON.stringify({
  losses,
  reference: crossEntropyReference(logits, target, { labelSmoothing: 0.1 }),
  keptDeviceLost: (await keptDevice.lost).reason,
}));
