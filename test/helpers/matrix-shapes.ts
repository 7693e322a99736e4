/** The shapes of the test matrix (matrix.test.ts), also rerun for bit-identical results (determinism.test.ts). */
export const MATRIX_SHAPES: readonly (readonly number[])[] = [
  [5],                // one unbatched sample
  [1, 1],             // one row, one class
  [3, 1],
  [7, 3],
  [130, 10],          // rows not a multiple of the workgroup size
  [65, 36],           // a multiple of 4 long, short of VEC4_MIN_CLASSES: scanned as scalars
  [9, 40],            // the shortest rows read as vec4s
  [33, 1000],
  [4, 1025],          // one class past a chunk boundary
  [3, 4097],
  [3, 4100],          // contiguous vec4 rows cut into 5 chunks
  [2, 32000],         // a language model's vocabulary
  [1, 262144],        // the largest vocabulary docs/accuracy.md names
  [70000, 3],         // more than 65,535 rows
  [2, 5, 4, 3],       // K-dimensional: classes strided by 12
  [2, 21, 16, 16],    // segmentation-like
];
