/**
 * Structs shared by WGSL and TypeScript, described once: field names and scalar types in WGSL order.
 * Offsets, sizes, writers and readers all come from the description (every field here is a 4-byte
 * scalar, so a field's offset is 4 × its position); a test checks each description against the
 * struct declared in its shader.
 */

/** The scalar types of shared struct fields (an `atomic<u32>` is laid out as a u32). */
export type ScalarType = 'u32' | 'i32' | 'f32';

/** A struct's fields, in declaration order. */
export type StructFields = Readonly<Record<string, ScalarType>>;

/** One value per field. */
export type StructValues<F extends StructFields> = { readonly [K in keyof F]: number };

/** A WGSL struct as TypeScript sees it. */
export interface StructLayout<F extends StructFields = StructFields> {
  /** The struct's name in WGSL. */
  readonly name: string;
  readonly fields: F;
  /** Byte offset of each field. */
  readonly offsets: { readonly [K in keyof F]: number };
  /** Bytes of one struct in an array (WGSL's size: 4 bytes a field, scalars only). */
  readonly byteSize: number;
}

const SCALAR_BYTES = 4;

export function defineStruct<F extends StructFields>(name: string, fields: F): StructLayout<F> {
  const names = Object.keys(fields);
  const offsets = Object.fromEntries(names.map((field, i) => [field, i * SCALAR_BYTES])) as StructLayout<F>['offsets'];
  return { name, fields, offsets, byteSize: names.length * SCALAR_BYTES };
}

/** Writes `values` (every field, no other) as struct `layout` at byte `at` of `view`. */
export function writeStruct<F extends StructFields>(view: DataView, at: number, layout: StructLayout<F>,
  values: StructValues<F>): void {
  const given = Object.keys(values);
  const missing = Object.keys(layout.fields).filter((field) => !(field in values));
  const extra = given.filter((field) => !(field in layout.fields));
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(`${layout.name}: values must name every field and no other (missing: ${missing.join(', ') || 'none'}; `
      + `unknown: ${extra.join(', ') || 'none'})`);
  }
  for (const [field, type] of Object.entries(layout.fields)) {
    const offset = at + layout.offsets[field]!;
    const value = values[field]!;
    if (type === 'u32') view.setUint32(offset, value, true);
    else if (type === 'i32') view.setInt32(offset, value, true);
    else view.setFloat32(offset, value, true);
  }
}

/** Field `field` of each of `count` consecutive structs `layout` in `bytes`, as numbers. */
export function readStructField<F extends StructFields>(bytes: ArrayBuffer, layout: StructLayout<F>, field: keyof F & string,
  count: number): Float64Array {
  const view = new DataView(bytes);
  const type = layout.fields[field];
  const offset = layout.offsets[field];
  return Float64Array.from({ length: count }, (_, i) => {
    const at = i * layout.byteSize + offset;
    return type === 'u32' ? view.getUint32(at, true) : type === 'i32' ? view.getInt32(at, true) : view.getFloat32(at, true);
  });
}
