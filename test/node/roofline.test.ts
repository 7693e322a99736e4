/**
 * The benchmark's roofline kernels (bench/roofline.ts): every candidate the tuner may pick reads,
 * sums and copies every value, whatever the count (runs of four vec4s a step and their tails) and
 * however the values are shared among invocations. A roofline that skipped values would flatter
 * every ratio the benchmark prints.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Roofline, type PassKind } from '../../bench/roofline.js';
import { requireDevice } from '../helpers/webgpu-node.js';
import { Random } from '../../problems/random.js';

const device = await requireDevice();

const STORAGE = 0x80;
const COPY_SRC = 0x04;
const COPY_DST = 0x08;
const MAP_READ = 0x01;

/** Value counts: one vec4, a tail of each length after whole steps, chunks that end mid-step, 1M. */
const COUNTS = [4, 20, 36, 44, 52, 4 * 16 * 3 + 4 * 3, 4 * 1000 + 4 * 7, 4 * 262_147];

function values(count: number, seed: number): Float32Array {
  const random = new Random(seed);
  return Float32Array.from({ length: count }, () => random.uniform(-2, 2));
}

/** Integers in [-8, 8]: their f32 sums are exact (below 2^24), so one value left out shows. */
function integers(count: number, seed: number): Float32Array {
  const random = new Random(seed);
  return Float32Array.from({ length: count }, () => random.int(17) - 8);
}

function upload(data: Float32Array): GPUBuffer {
  const buffer = device!.createBuffer({ size: data.byteLength, usage: STORAGE | COPY_SRC | COPY_DST });
  device!.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  return buffer;
}

async function download(buffer: GPUBuffer): Promise<Float32Array> {
  const staging = device!.createBuffer({ size: buffer.size, usage: MAP_READ | COPY_DST });
  const encoder = device!.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, 0, staging, 0, buffer.size);
  device!.queue.submit([encoder.finish()]);
  await staging.mapAsync(MAP_READ);
  const copy = new Float32Array(staging.getMappedRange().slice(0));
  staging.destroy();
  return copy;
}

function hostSum(data: Float32Array, map: (x: number) => number = (x) => x): number {
  let sum = 0;
  for (const x of data) sum += map(x);
  return sum;
}

function hostLogSumExp(data: Float32Array): number {
  const max = data.reduce((a, b) => Math.max(a, b), -Infinity);
  return max + Math.log(hostSum(data, (x) => Math.exp(x - max)));
}

/** Each value as a copy of `kind` writes it, in float64 (`lse`: the values' log-sum-exp). */
const COPIED: Record<PassKind, (x: number, lse: number) => number> = {
  roofline: (x) => x,
  exp: (x) => Math.exp(x),
  softmax: (x, lse) => Math.exp(x - lse),
  exact: (x, lse) => Math.exp(x - lse),
};

describe.skipIf(!device)('roofline kernels', () => {
  const roofline = device ? new Roofline(device) : undefined;
  const owned: GPUBuffer[] = [];
  afterAll(() => {
    roofline?.destroy();
    owned.forEach((b) => b.destroy());
  });

  it.each(COUNTS)('read of %i values sums every value exactly, with every invocation count tried', async (count) => {
    const data = integers(count, count);
    const source = upload(data);
    owned.push(source);
    const candidates = roofline!.readCandidates(source, data.byteLength);
    expect(candidates.length).toBeGreaterThan(0);
    for (const run of candidates) expect(await run()).toBe(hostSum(data));
  });

  it.each(COUNTS)('exp read of %i values sums exp of every value, with every invocation count tried', async (count) => {
    const data = values(count, 3 * count);
    const source = upload(data);
    owned.push(source);
    const expected = hostSum(data, Math.exp);
    for (const run of roofline!.readCandidates(source, data.byteLength, 'exp')) {
      // Below the smallest term, exp(-2), for all but the largest count: one term left out shows.
      expect(Math.abs((await run()) - expected)).toBeLessThanOrEqual(1e-5 * expected);
    }
  });

  it.each(COUNTS.flatMap((count) => [[count, 'softmax'], [count, 'exact']] as const))('%i values: the %s read returns their log-sum-exp, with every invocation count tried', async (count, kind) => {
    const data = values(count, 5 * count);
    const source = upload(data);
    owned.push(source);
    const expected = hostLogSumExp(data);
    for (const run of roofline!.readCandidates(source, data.byteLength, kind)) {
      // An error in the log-sum-exp is a relative error in the sum of exps: one term left out
      // shows, for all but the largest count, as in the exp read.
      expect(Math.abs((await run()) - expected)).toBeLessThanOrEqual(1e-5);
    }
  });

  it('the exact read keeps the log-sum-exp of a confident row, which the plain one rounds away', async () => {
    // A unique max of 0 after values 24 and 25 below it (two at -24, the max of the first blocks:
    // ties counted apart, then shifted): the log-sum-exp is about 5.6e-8, below f32's spacing at 1,
    // so only a sum kept as its excess over the max's own 1 holds it.
    const data = new Float32Array(4 * 1000).fill(-25);
    data[10] = -24;
    data[11] = -24;
    data[3001] = 0;
    const source = upload(data);
    owned.push(source);
    const expected = hostLogSumExp(data);
    for (const run of roofline!.readCandidates(source, data.byteLength, 'exact')) {
      expect(Math.abs((await run()) - expected)).toBeLessThanOrEqual(1e-5 * expected);
    }
    const plain = await roofline!.readCandidates(source, data.byteLength, 'softmax')[0]!();
    expect(Math.abs(plain - expected)).toBeGreaterThan(0.1 * expected);
  });

  it.each(COUNTS)('copy, exp copy and the softmax copies of %i values write every value, with every invocation count tried', async (count) => {
    const data = values(count, 7 * count);
    const source = upload(data);
    const destination = device!.createBuffer({ size: data.byteLength, usage: STORAGE | COPY_SRC | COPY_DST });
    owned.push(source, destination);
    const lse = hostLogSumExp(data);
    for (const kind of ['roofline', 'exp', 'softmax', 'exact'] as const) {
      // The softmax's values carry the log-sum-exp's rounding (1e-5 above) as a relative error.
      const rtol = kind === 'softmax' || kind === 'exact' ? 2e-5 : 1e-6;
      for (const run of roofline!.copyCandidates(source, destination, data.byteLength, kind)) {
        // Poisoned first, so an element no invocation writes cannot keep a right value.
        device!.queue.writeBuffer(destination, 0, new Float32Array(count).fill(NaN));
        await run();
        const copy = await download(destination);
        for (let i = 0; i < count; i++) {
          const expected = COPIED[kind](data[i]!, lse);
          if (!(Math.abs(copy[i]! - expected) <= rtol * Math.abs(expected))) {
            throw new Error(`${kind} copy of ${count} values: element ${i} is ${copy[i]}, expected ${expected}`);
          }
        }
      }
    }
  });

  it.each([4 * 1024 * 3, 4 * 1024 * 2 + 4 * 37, 4 * 1024 * 2 + 6])('a read of %i host values streamed through 16 KiB pieces sums every value once', async (count) => {
    const data = integers(count, 13 * count);
    const run = await roofline!.prepareStreamedRead(data, 16 * 1024);
    expect(await run()).toBe(hostSum(data));
    // Again: the last piece's tail must not keep values of the run before.
    expect(await run()).toBe(hostSum(data));
  });

  it('the tuned read is one of the candidates and gives the same sum', async () => {
    const data = integers(4 * 100_003, 11);
    const source = upload(data);
    owned.push(source);
    const run = await roofline!.prepareRead(source, data.byteLength);
    expect(await run()).toBe(hostSum(data));
  });
});
