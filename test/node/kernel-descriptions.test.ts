/**
 * The kernel table and the shared structs against the WGSL they describe, without a GPU: every
 * described binding is declared by its module under that name, with the access its kind needs;
 * every override constant a kernel is made with is declared; every struct the host writes or reads
 * has the fields, in order and of the types, of its WGSL declaration.
 */
import { describe, expect, it } from 'vitest';
import { KERNELS, type KernelDescription, type KernelName } from '../../src/gpu/kernels.js';
import { overrideConstants, type MatmulVariant, type RowVariant } from '../../src/gpu/pipelines.js';
import {
  BINARY_PARAMS, MATMUL_PARAMS, REDUCE_PARAMS, ROW_PARAMS, ROW_STATE, ROW_SUMMARY, STATUS,
} from '../../src/gpu/shader-structs.js';
import { declaredBindings, moduleSource, SHADER_MODULES, type ShaderFile } from '../../src/gpu/shader-modules.js';
import type { StructLayout } from '../../src/gpu/wgsl-struct.js';

const ACCESS_OF_KIND = { 'uniform': 'uniform', 'read-only-storage': 'read', 'storage': 'read_write' } as const;
const VARIANT: RowVariant = { input: 'logits', targetKind: 'classIndex', hasWeight: true, needSmoothingSum: true,
  hasSoftcap: false, writeSummary: true, gradInPlace: false, dtype: 'float32' };
const MATMUL_VARIANT: MatmulVariant = { aTransposed: true, bTransposed: true, accumulate: true, bias: true };

/** The source of a module without its comments. */
function codeOf(files: readonly ShaderFile[]): string {
  return moduleSource(files).replace(/\/\/.*$/gm, '');
}

const kernels = Object.entries(KERNELS) as [KernelName, KernelDescription][];

describe.each(kernels)('kernel %s', (name, description) => {
  const files = SHADER_MODULES[description.module];
  const code = codeOf(files);
  const declared = declaredBindings(moduleSource(files));

  it('names bindings its module declares, with the access of their kind', () => {
    for (const [binding, kind] of Object.entries(description.bindings)) {
      expect(declared.get(binding), `${name}.${binding}`).toMatchObject({ access: ACCESS_OF_KIND[kind] });
    }
  });

  it('binds each binding number once, within WebGPU\'s default of 8 storage buffers', () => {
    const numbers = Object.keys(description.bindings).map((binding) => declared.get(binding)!.binding);
    expect(new Set(numbers).size).toBe(numbers.length);
    expect(Object.values(description.bindings).filter((kind) => kind !== 'uniform').length).toBeLessThanOrEqual(8);
  });

  it('has its entry point and every override constant it is made with', () => {
    expect(code).toMatch(new RegExp(`@compute[^;{]*\\bfn ${description.entryPoint}\\(`));
    const variant = description.overrides.includes('matmul') ? MATMUL_VARIANT : VARIANT;
    for (const constant of Object.keys(overrideConstants(description, variant, 4))) {
      expect(code, `${name}: override ${constant}`).toMatch(new RegExp(`\\boverride ${constant}\\b`));
    }
  });
});

describe('declaredBindings', () => {
  it('reads names, numbers and access, both views of one binding, and skips comments', () => {
    const bindings = declaredBindings([
      '@group(0) @binding(0) var<uniform> params: Params;',
      '@group(0) @binding(3) var<storage, read> x: array<f32>;',
      '@group(0) @binding(3) var<storage, read> x4: array<vec4<f32>>;',
      '@group(0)  @binding(12) var<storage,read_write> out: array<f32>;',
      '// @group(0) @binding(5) var<storage, read> commented: array<f32>;',
    ].join('\n'));
    expect(Object.fromEntries(bindings)).toEqual({
      params: { binding: 0, access: 'uniform' },
      x: { binding: 3, access: 'read' },
      x4: { binding: 3, access: 'read' },
      out: { binding: 12, access: 'read_write' },
    });
  });
});

/** The fields of `struct name { ... }` in `file`, as [name, type] with atomics as their scalar. */
function wgslStruct(file: ShaderFile, name: string): [string, string][] {
  const code = file.code.replace(/\/\/.*$/gm, '');
  const body = new RegExp(`struct ${name} \\{([^}]*)\\}`).exec(code)?.[1];
  if (body === undefined) throw new Error(`${file.name}.wgsl declares no struct ${name}`);
  return body.split(',').map((field) => field.trim()).filter(Boolean).map((field) => {
    const [fieldName, type] = field.split(':').map((part) => part.trim());
    return [fieldName!, type!.replace(/^atomic<(\w+)>$/, '$1')];
  });
}

const fileNamed = (name: string) => Object.values(SHADER_MODULES).flat().find((file) => file.name === name)!;

describe.each([
  ['lib/row-common', ROW_PARAMS],
  ['lib/row-common', ROW_STATE],
  ['lib/row-common', ROW_SUMMARY],
  ['lib/row-finish', STATUS],
  ['batch-reduce', REDUCE_PARAMS],
  ['binary', BINARY_PARAMS],
  ['matmul', MATMUL_PARAMS],
] as [string, StructLayout][])('%s.wgsl', (file, layout) => {
  it(`struct ${layout.name} has the described fields, in order, of the described types`, () => {
    expect(wgslStruct(fileNamed(file), layout.name)).toEqual(Object.entries(layout.fields));
    expect(layout.byteSize).toBe(4 * Object.keys(layout.fields).length);
  });
});
