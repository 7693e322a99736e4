// Matrix products for the linear head (cross-entropy from hidden states H [N, D] and a classifier
// W [V, D] without all N × V logits):
//   out = op(A) · op(B)   (+ bias[j])   (out += ... when ACCUMULATE)
// where op(A) is [M, K] and op(B) is [K, P]:
//   logits = H · Wᵀ + bias : A = H [N, D],  B = W [V, D] transposed (B_TRANSPOSED), bias [V]
//   dH     = G · W         : A = G [N, V],  B = W [V, D]
//   dW    += Gᵀ · H        : A = G [N, V] transposed (A_TRANSPOSED), B = H [N, D], ACCUMULATE
// ACCUMULATE adds the product to what `out` holds, so a gradient can be summed over chunks of rows
// in an order the host fixes. Which operand is transposed, accumulating, the bias and how A and B
// are stored are override constants: a pipeline holds one product's code, with no per-element
// test of the layout.
//
// Storage: every operand is row-major with a row stride of its own (elements between the starts
// of consecutive stored rows, at least a row's length), so a block of columns of a wider matrix
// (a slice of the vocabulary in logits or G [N, V]) is read or written in place. A and B are f32,
// or (A_STORAGE, B_STORAGE) 16-bit values, float16 or bfloat16 (lib/input-half.wgsl's
// HALF_FORMAT, one for both), packed two per word as lib/input-half.wgsl describes, offsets and
// strides still in elements; each 16-bit value is converted to f32 exactly (unpack_words), and
// the arithmetic and `out` are f32. The bias and `out` are f32.
//
// One invocation owns a 4 × 4 block of `out` (rows i0..i0+3, columns j0..j0+3, consecutive
// invocations take consecutive column blocks) and sums its 16 dot products itself, over k in
// steps of 4, in increasing k: the order of every addition depends on the shape alone, so reruns
// are bit-identical (no atomics, no workgroup memory). There are no barriers: each step loads the
// 4 × 4 tile of op(A) and of op(B) it needs straight from storage (on a CPU driver such as
// SwiftShader the caches do what workgroup memory would, and a barrier costs more than it saves).
// A 4 × 4 block does 64 multiply-adds per 32 values loaded; larger blocks load less per
// multiply-add but hold more sums, past what the registers of an emulated SIMD lane group hold.
//
// Each tile is four runs of four neighbours in memory: along k (A, and B transposed) or along the
// block's rows or columns (A transposed, B). Each entry point reads each operand through one view
// (two views of one binding cannot both be used by one entry point); the host picks it from the
// layout:
//   vec4  (a4, b4): f32, the stride, the offset and the run's direction's length (stored row
//                   length) multiples of 4, so each run is one aligned vec4
//   words (a, b)  : the operand's 32-bit words: f32 bits, gathered one element at a time, or
//                   16-bit values, a run read as the two words holding it (STORED_HALF_ALIGNED:
//                   the offset and stride are even, so every run starts a word) or three
//                   (STORED_HALF: a run may start in a word's high half)
//   main_vec4   : A and B through vec4s      main_vec4_a : A through vec4s, B through words
//   main_vec4_b : A through words, B vec4s   main_scalar : both through words
// Rows and columns past the matrix are read at the last row or column (clamped, so every read is
// of the bound operand; a 16-bit run reads on past them, its word indices clamped to the last word
// bound) and never stored; the k steps past K (the last step when K is not a multiple of 4) are
// read the same way and zeroed in both tiles, so they add exactly +0.
// Split K: a product with few blocks and a long K (d(hidden) = G·W sums over the vocabulary) can
// be cut into `splits` runs of k, each block of each run an invocation of its own, each run's
// sums written as a partial product of its own (out_split_step elements after the previous run's);
// the host then sums the partials in run order (a product with a column of ones). Without a split,
// splits = 1 and split_k = K.
// Dispatch: one invocation per block and run, ceil(M / 4) · ceil(P / 4) · splits of them, 2-D
// folded.
//
// Bindings:
//   params : the shape (m, p, k), blocks per row of `out`, each operand's offset and row stride in
//            elements
//   a, a4  : A, stored [M, K] (or [K, M] when A_TRANSPOSED) from element a_offset: its words; a4
//            its vec4s (f32 only)
//   b, b4  : B, stored [K, P] (or [P, K] when B_TRANSPOSED) from element b_offset; likewise
//   bias   : bias[j] at bias_offset + j (read when HAS_BIAS)
//   out    : out, [M, P] from element out_offset (read too when ACCUMULATE)
// (lib/input-half.wgsl's own bindings, at binding 1, are declared and not used.)

struct MatmulParams {
  m: u32,
  p: u32,
  k: u32,
  blocks_p: u32,      // ceil(p / 4): column blocks per block row
  a_offset: u32,      // elements (a multiple of 4 where the operand is read through vec4s)
  b_offset: u32,
  bias_offset: u32,
  out_offset: u32,
  a_stride: u32,      // elements between the starts of consecutive stored rows of A
  b_stride: u32,
  out_stride: u32,
  split_k: u32,       // k per split (a multiple of 4; k itself when the product is not split)
  splits: u32,        // ceil(k / split_k)
  out_split_step: u32, // elements between the outputs of consecutive splits
}

@group(0) @binding(0) var<uniform> params: MatmulParams;
@group(0) @binding(1) var<storage, read> a: array<u32>;
@group(0) @binding(2) var<storage, read> b: array<u32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
// The same operands seen as vec4s of f32 (an entry point uses one view of each operand).
@group(0) @binding(1) var<storage, read> a4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b4: array<vec4<f32>>;

override workgroup_size: u32 = 64u;
override A_TRANSPOSED: bool = false;   // A is stored [K, M]: op(A) = Aᵀ
override B_TRANSPOSED: bool = false;   // B is stored [P, K]: op(B) = Bᵀ
override ACCUMULATE: bool = false;     // out += product (else out = product)
override HAS_BIAS: bool = false;       // out = product + bias[j]
override A_STORAGE: u32 = 0u;          // how `a` holds A: one of the three below
override B_STORAGE: u32 = 0u;

const STORED_F32: u32 = 0u;            // f32 values
const STORED_HALF: u32 = 1u;           // 16-bit values (HALF_FORMAT), runs starting anywhere
const STORED_HALF_ALIGNED: u32 = 2u;   // 16-bit values, every run starting a word

// A 4 × 4 tile as four vec4 rows. Everything below is written out for the four rows and columns,
// never indexed by a loop counter: a compiler that keeps dynamically indexed arrays in memory
// (SwiftShader does) then holds the tiles and the block's sums in registers.
struct Tile {
  r0: vec4<f32>,
  r1: vec4<f32>,
  r2: vec4<f32>,
  r3: vec4<f32>,
}

// Where an invocation's reads start: for each of its four rows of op(A) and columns of op(B), the
// index of its element at k = 0, clamped to the last row or column of the matrix.
struct Block {
  i0: u32,
  j0: u32,
  a_at: vec4<u32>,
  b_at: vec4<u32>,
}

const STEP = vec4<u32>(0u, 1u, 2u, 3u);

// The invocation's run of k, [k_begin, k_end), and where its partial product starts in `out`
// (set by begin_run before anything reads them).
var<private> k_begin: u32;
var<private> k_end: u32;
var<private> run_out: u32;

// Sets the run of invocation `index`; returns the index of its block within the run.
fn begin_run(index: u32) -> u32 {
  let blocks = block_count();
  let run = index / blocks;
  k_begin = run * params.split_k;
  k_end = min(params.k, k_begin + params.split_k);
  run_out = run * params.out_split_step;
  return index % blocks;
}

// The block of invocation `index`, or none past the last block (the last workgroup's spares).
fn block_of(index: u32) -> Block {
  let i0 = (index / params.blocks_p) * 4u;
  let j0 = (index % params.blocks_p) * 4u;
  let rows = min(vec4<u32>(i0) + STEP, vec4<u32>(params.m - 1u));
  let cols = min(vec4<u32>(j0) + STEP, vec4<u32>(params.p - 1u));
  // Row i of op(A) starts at stored row i of A [M, K], at column i of Aᵀ's storage [K, M]; column
  // j of op(B) at stored row j of B [P, K] (transposed), at column j of B [K, P].
  let a_at = vec4<u32>(params.a_offset) + select(rows * params.a_stride, rows, A_TRANSPOSED);
  let b_at = vec4<u32>(params.b_offset) + select(cols, cols * params.b_stride, B_TRANSPOSED);
  return Block(i0, j0, a_at, b_at);
}

fn invocation_index(group: vec3<u32>, groups: vec3<u32>, lane: u32) -> u32 {
  return (group.y * groups.x + group.x) * workgroup_size + lane;
}

fn block_count() -> u32 {
  return ((params.m + 3u) / 4u) * params.blocks_p;
}

fn transposed(t: Tile) -> Tile {
  return Tile(vec4<f32>(t.r0.x, t.r1.x, t.r2.x, t.r3.x), vec4<f32>(t.r0.y, t.r1.y, t.r2.y, t.r3.y),
              vec4<f32>(t.r0.z, t.r1.z, t.r2.z, t.r3.z), vec4<f32>(t.r0.w, t.r1.w, t.r2.w, t.r3.w));
}

// The four k of the step at `k`: clamped to the last k in the step that crosses K (`tail`).
fn step_ks(k: u32, tail: bool) -> vec4<u32> {
  return select(vec4<u32>(k) + STEP, min(vec4<u32>(k) + STEP, vec4<u32>(k_end - 1u)), tail);
}

// Zeroes, in the step that crosses K, op(A)'s columns or op(B)'s rows at k ≥ K, so that they add
// exactly +0 (zeroing one operand only would leave 0 · inf = NaN where the other holds an inf).
fn k_valid(k: u32) -> vec4<bool> {
  return vec4<u32>(k) + STEP < vec4<u32>(k_end);
}

fn masked_columns(t: Tile, k: u32) -> Tile {
  let valid = k_valid(k);
  let zero = vec4<f32>(0.0);
  return Tile(select(zero, t.r0, valid), select(zero, t.r1, valid), select(zero, t.r2, valid), select(zero, t.r3, valid));
}

fn masked_rows(t: Tile, k: u32) -> Tile {
  let valid = k_valid(k);
  let zero = vec4<f32>(0.0);
  return Tile(select(zero, t.r0, valid.x), select(zero, t.r1, valid.y), select(zero, t.r2, valid.z),
              select(zero, t.r3, valid.w));
}

// The four values of `words` from the low half of its first word on, or from its high half (`odd`).
fn halves4(words: vec3<u32>, odd: bool) -> vec4<f32> {
  let shifted = vec2<u32>((words.x >> 16u) | (words.y << 16u), (words.y >> 16u) | (words.z << 16u));
  return unpack_words(select(words.xy, shifted, odd));
}

// A run of four neighbours of A in memory, whose indices are `at` (from at.x on, clamped to the
// matrix): f32 elements gathered at `at`; 16-bit ones read from the words holding at.x .. at.x + 3,
// clamped to the last word bound.
fn a_run(at: vec4<u32>) -> vec4<f32> {
  if (A_STORAGE == STORED_F32) {
    return bitcast<vec4<f32>>(vec4<u32>(a[at.x], a[at.y], a[at.z], a[at.w]));
  }
  let last = arrayLength(&a) - 1u;
  let word = at.x >> 1u;
  let next = a[min(word + 1u, last)];
  if (A_STORAGE == STORED_HALF_ALIGNED) {
    return unpack_words(vec2<u32>(a[word], next));
  }
  return halves4(vec3<u32>(a[word], next, a[min(word + 2u, last)]), (at.x & 1u) != 0u);
}

fn b_run(at: vec4<u32>) -> vec4<f32> {
  if (B_STORAGE == STORED_F32) {
    return bitcast<vec4<f32>>(vec4<u32>(b[at.x], b[at.y], b[at.z], b[at.w]));
  }
  let last = arrayLength(&b) - 1u;
  let word = at.x >> 1u;
  let next = b[min(word + 1u, last)];
  if (B_STORAGE == STORED_HALF_ALIGNED) {
    return unpack_words(vec2<u32>(b[word], next));
  }
  return halves4(vec3<u32>(b[word], next, b[min(word + 2u, last)]), (at.x & 1u) != 0u);
}

// op(A)'s tile at the block's rows and k..k+3, as rows (vec4s along k), read through A's words.
fn a_tile_scalar(at: Block, k: u32, tail: bool) -> Tile {
  let ks = step_ks(k, tail);
  var t: Tile;
  if (A_TRANSPOSED) {
    // Element (i, k) at k · stride + i: read the four rows of each k, then transpose.
    let kk = ks * params.a_stride;
    t = transposed(Tile(a_run(at.a_at + kk.x), a_run(at.a_at + kk.y), a_run(at.a_at + kk.z),
                        a_run(at.a_at + kk.w)));
  } else {
    t = Tile(a_run(at.a_at.x + ks), a_run(at.a_at.y + ks), a_run(at.a_at.z + ks), a_run(at.a_at.w + ks));
  }
  if (tail) {
    t = masked_columns(t, k);
  }
  return t;
}

// The same through vec4 reads: four neighbours along k (A [M, K], K a multiple of 4: no step
// crosses K), or the block's four rows at one k (Aᵀ stored [K, M], M a multiple of 4).
fn a_tile_vec4(at: Block, k: u32, tail: bool) -> Tile {
  var t: Tile;
  if (A_TRANSPOSED) {
    let kk = step_ks(k, tail) * params.a_stride + at.a_at.x;
    t = transposed(Tile(a4[kk.x / 4u], a4[kk.y / 4u], a4[kk.z / 4u], a4[kk.w / 4u]));
  } else {
    let rows = (at.a_at + k) / 4u;
    t = Tile(a4[rows.x], a4[rows.y], a4[rows.z], a4[rows.w]);
  }
  if (tail) {
    t = masked_columns(t, k);
  }
  return t;
}

// op(B)'s tile at k..k+3 and the block's columns, as rows (vec4s along the columns), read through
// B's words.
fn b_tile_scalar(at: Block, k: u32, tail: bool) -> Tile {
  let ks = step_ks(k, tail);
  var t: Tile;
  if (B_TRANSPOSED) {
    // Element (k, j) at j · stride + k: read the four k of each column, then transpose.
    t = transposed(Tile(b_run(at.b_at.x + ks), b_run(at.b_at.y + ks), b_run(at.b_at.z + ks),
                        b_run(at.b_at.w + ks)));
  } else {
    let kk = ks * params.b_stride;
    t = Tile(b_run(at.b_at + kk.x), b_run(at.b_at + kk.y), b_run(at.b_at + kk.z), b_run(at.b_at + kk.w));
  }
  if (tail) {
    t = masked_rows(t, k);
  }
  return t;
}

// The same through vec4 reads: four neighbours along k (B stored [P, K], K a multiple of 4), or
// the block's four columns at one k (B [K, P], P a multiple of 4).
fn b_tile_vec4(at: Block, k: u32, tail: bool) -> Tile {
  var t: Tile;
  if (B_TRANSPOSED) {
    let cols = (at.b_at + k) / 4u;
    t = transposed(Tile(b4[cols.x], b4[cols.y], b4[cols.z], b4[cols.w]));
  } else {
    let kk = step_ks(k, tail) * params.b_stride + at.b_at.x;
    t = Tile(b4[kk.x / 4u], b4[kk.y / 4u], b4[kk.z / 4u], b4[kk.w / 4u]);
  }
  if (tail) {
    t = masked_rows(t, k);
  }
  return t;
}

// One step: each output takes the step's four products in increasing k.
fn row_step(acc: vec4<f32>, a_row: vec4<f32>, tb: Tile) -> vec4<f32> {
  return (((acc + a_row.x * tb.r0) + a_row.y * tb.r1) + a_row.z * tb.r2) + a_row.w * tb.r3;
}

fn multiply_add(acc: Tile, ta: Tile, tb: Tile) -> Tile {
  return Tile(row_step(acc.r0, ta.r0, tb), row_step(acc.r1, ta.r1, tb), row_step(acc.r2, ta.r2, tb),
              row_step(acc.r3, ta.r3, tb));
}

// The k at which the step that crosses the run's end starts, or its end when none does.
fn whole_steps_end() -> u32 {
  return k_begin + ((k_end - k_begin) & ~3u);
}

// Writes one row of the block's outputs inside the matrix: plus the bias, or added to what `out`
// holds.
fn store_row(i: u32, j0: u32, sums: vec4<f32>) {
  if (i >= params.m) {
    return;
  }
  var values = sums;
  if (HAS_BIAS) {
    let cols = min(vec4<u32>(j0) + STEP, vec4<u32>(params.p - 1u)) + params.bias_offset;
    values += vec4<f32>(bias[cols.x], bias[cols.y], bias[cols.z], bias[cols.w]);
  }
  let at = params.out_offset + run_out + i * params.out_stride + j0;
  let columns = params.p - j0;
  if (ACCUMULATE) {
    let last = at + min(columns, 4u) - 1u;
    values += vec4<f32>(out[at], out[min(at + 1u, last)], out[min(at + 2u, last)], out[min(at + 3u, last)]);
  }
  out[at] = values.x;
  if (columns > 1u) {
    out[at + 1u] = values.y;
  }
  if (columns > 2u) {
    out[at + 2u] = values.z;
  }
  if (columns > 3u) {
    out[at + 3u] = values.w;
  }
}

fn store_block(at: Block, acc: Tile) {
  store_row(at.i0, at.j0, acc.r0);
  store_row(at.i0 + 1u, at.j0, acc.r1);
  store_row(at.i0 + 2u, at.j0, acc.r2);
  store_row(at.i0 + 3u, at.j0, acc.r3);
}

@compute @workgroup_size(workgroup_size)
fn main_vec4(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lane: u32) {
  let index = invocation_index(group, groups, lane);
  if (index >= block_count() * params.splits) {
    return;
  }
  let at = block_of(begin_run(index));
  var acc = Tile();
  let end = whole_steps_end();
  for (var k = k_begin; k < end; k += 4u) {
    acc = multiply_add(acc, a_tile_vec4(at, k, false), b_tile_vec4(at, k, false));
  }
  if (end < k_end) {
    acc = multiply_add(acc, a_tile_vec4(at, end, true), b_tile_vec4(at, end, true));
  }
  store_block(at, acc);
}

@compute @workgroup_size(workgroup_size)
fn main_vec4_a(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lane: u32) {
  let index = invocation_index(group, groups, lane);
  if (index >= block_count() * params.splits) {
    return;
  }
  let at = block_of(begin_run(index));
  var acc = Tile();
  let end = whole_steps_end();
  for (var k = k_begin; k < end; k += 4u) {
    acc = multiply_add(acc, a_tile_vec4(at, k, false), b_tile_scalar(at, k, false));
  }
  if (end < k_end) {
    acc = multiply_add(acc, a_tile_vec4(at, end, true), b_tile_scalar(at, end, true));
  }
  store_block(at, acc);
}

@compute @workgroup_size(workgroup_size)
fn main_vec4_b(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lane: u32) {
  let index = invocation_index(group, groups, lane);
  if (index >= block_count() * params.splits) {
    return;
  }
  let at = block_of(begin_run(index));
  var acc = Tile();
  let end = whole_steps_end();
  for (var k = k_begin; k < end; k += 4u) {
    acc = multiply_add(acc, a_tile_scalar(at, k, false), b_tile_vec4(at, k, false));
  }
  if (end < k_end) {
    acc = multiply_add(acc, a_tile_scalar(at, end, true), b_tile_vec4(at, end, true));
  }
  store_block(at, acc);
}

@compute @workgroup_size(workgroup_size)
fn main_scalar(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lane: u32) {
  let index = invocation_index(group, groups, lane);
  if (index >= block_count() * params.splits) {
    return;
  }
  let at = block_of(begin_run(index));
  var acc = Tile();
  let end = whole_steps_end();
  for (var k = k_begin; k < end; k += 4u) {
    acc = multiply_add(acc, a_tile_scalar(at, k, false), b_tile_scalar(at, k, false));
  }
  if (end < k_end) {
    acc = multiply_add(acc, a_tile_scalar(at, end, true), b_tile_scalar(at, end, true));
  }
  store_block(at, acc);
}
