/**
 * Which options each public function takes, stated once, and the TypeError for one it does not:
 * from plain JavaScript a misplaced option (`encoder` passed to `forward`) would otherwise be
 * silently unused and give a different computation than the caller meant.
 */
import { describeKind } from './tensor-data.js';

const FORWARD = [
  'reduction', 'weight', 'ignoreIndex', 'labelSmoothing', 'input', 'zLoss', 'softcap', 'grad', 'gradOutput',
  'gradInPlace', 'gradDtype',
] as const;
const BINARY = ['reduction', 'input', 'weight', 'posWeight', 'grad', 'gradOutput', 'gradInPlace', 'gradDtype'] as const;

const LINEAR = ['bias', 'reduction', 'weight', 'ignoreIndex', 'labelSmoothing', 'zLoss', 'softcap', 'gradOutput', 'grad'] as const;

/** The options of every public function that takes an options object, by the name users call it by. */
export const OPTIONS_OF = {
  'CrossEntropy.create': ['device', 'poisonOutputs', 'subgroups'],
  'CrossEntropy.forward': FORWARD,
  'CrossEntropy.forwardGpu': [...FORWARD, 'encoder'],
  'CrossEntropy.binary': BINARY,
  'CrossEntropy.rowStatistics': ['classOffset', 'weight', 'ignoreIndex', 'softcap'],
  // The references compute on the host: there is no logits buffer to write a gradient over.
  crossEntropyReference: FORWARD.filter((name) => name !== 'gradInPlace'),
  binaryCrossEntropyReference: BINARY.filter((name) => name !== 'gradInPlace'),
  lossFromRowStatistics: ['reduction', 'labelSmoothing', 'zLoss'],
  // The linear head: class-index options only.
  'CrossEntropy.linear': [...LINEAR, 'gradDtype', 'memoryBudget'],
  'CrossEntropy.linearGpu': [...LINEAR, 'gradDtype', 'memoryBudget', 'encoder'],
  linearCrossEntropyReference: LINEAR,
} as const satisfies Record<string, readonly string[]>;

export type OptionsTaker = keyof typeof OPTIONS_OF;

/** The other functions that take `name`, so that the error can point the caller there. */
function takersOf(name: string, except: OptionsTaker): OptionsTaker[] {
  return (Object.keys(OPTIONS_OF) as OptionsTaker[])
    .filter((taker) => taker !== except && (OPTIONS_OF[taker] as readonly string[]).includes(name));
}

/** A known name `key` may be a slip for: the same letters, ignoring case, `_`, `-` and a plural s. */
function meant(key: string, known: readonly string[]): string | undefined {
  const plain = (name: string) => name.toLowerCase().replace(/[-_]/g, '').replace(/s$/, '');
  return known.find((name) => plain(name) === plain(key));
}

/**
 * Checks that `options` is an object (absent: `{}`) holding only options `method` takes. An option
 * set to `undefined` counts too: a caller who wrote it meant something by it.
 *
 * @example
 * readOptionNames({ encoder }, 'CrossEntropy.forward');
 * // TypeError: CrossEntropy.forward: unknown option "encoder" (known: reduction, …);
 * //   "encoder" is an option of CrossEntropy.forwardGpu
 */
export function readOptionNames(options: unknown, method: OptionsTaker): object {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${method}: options must be an object, got ${describeKind(options)}`);
  }
  const known: readonly string[] = OPTIONS_OF[method];
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const takers = takersOf(key, method);
    const slip = meant(key, known);
    throw new TypeError(`${method}: unknown option "${key}" (known: ${known.join(', ')})${
      takers.length > 0 ? `; "${key}" is an option of ${takers.join(', ')}` : ''}${
      slip === undefined ? '' : `; did you mean "${slip}"?`}`);
  }
  return options;
}
