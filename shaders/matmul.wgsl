// Matrix products of f32 row-major operands, for the linear head (cross-entropy from hidden states
// H [N, D] and a classifier W [V, D] without all N × V logits):
//   out = op(A) · op(B)   (+ bias[j])   (out += ... when ACCUMULATE)
// where op(A) is [M, K] and op(B) is [K, P]:
//   logits = H · Wᵀ + bias : A = H [N, D],  B = W [V, D] transposed (B_TRANSPOSED), bias [V]
//   dH     = G · W         : A = G [N, V],  B = W [V, D]
//   dW    += Gᵀ · H        : A = G [N, V] transposed (A_TRANSPOSED), B = H [N, D], ACCUMULATE
// ACCUMULATE adds the product to what `out` holds, so a gradient can be summed over chunks of rows
// in an order the host fixes. Which operand is transposed, accumulating and the bias are override
// constants: a pipeline holds one product's code, with no per-element test of the layout.
//
// One invocation owns a 4 × 4 block of `out` (rows i0..i0+3, columns j0..j0+3, consecutive
// invocations take consecutive column blocks) and sums its 16 dot products itself, over k in
// steps of 4, in increasing k: the order of every addition depends on the shape alone, so reruns
// are bit-identical (no atomics, no workgroup memory). There are no barriers: each step loads the
// 4 × 4 tile of op(A) and of op(B) it needs straight from storage (on a CPU driver such as
// SwiftShader the caches do what workgroup memory would, and a barrier costs more than it saves).
// A 4 × 4 block does 64 multiply-adds per 32 values loaded; larger blocks run out of registers.
//
// Loads are vec4s where the layout allows: the stored rows of the operand are a multiple of 4
// long, and its offset too, so a vec4 is 4 aligned neighbours along k (A, and B transposed) or
// along the block's rows or columns (A transposed, B). Each entry point reads each operand through
// one view (scalar or vec4: two views of one binding cannot both be used by one entry point); the
// host picks it from the shapes:
//   main_vec4   : A and B through vec4s      main_vec4_a : A through vec4s, B scalar
//   main_vec4_b : A scalar, B through vec4s  main_scalar : both scalar
// Rows and columns past the matrix are read at the last row or column (clamped, so every read is
// of the bound operand) and never stored; the k steps past K (the last step when K is not a
// multiple of 4) are read clamped too and zeroed in both tiles, so they add exactly +0.
// Dispatch: one invocation per block, ceil(M / 4) · ceil(P / 4) of them, 2-D folded.
//
// Bindings:
//   params : the shape (m, p, k), blocks per row of `out`, and each operand's offset in elements
//   a, a4  : A, stored [M, K] (or [K, M] when A_TRANSPOSED) from element a_offset; a4 its vec4s
//   b, b4  : B, stored [K, P] (or [P, K] when B_TRANSPOSED) from element b_offset; b4 its vec4s
//   bias   : bias[j] at bias_offset + j (read when HAS_BIAS)
//   out    : out, [M, P] from element out_offset (read too when ACCUMULATE)

struct MatmulParams {
  m: u32,
  p: u32,
  k: u32,
  blocks_p: u32,      // ceil(p / 4): column blocks per block row
  a_offset: u32,      // elements (a multiple of 4 where the operand is read through vec4s)
  b_offset: u32,
  bias_offset: u32,
  out_offset: u32,
}

@group(0) @binding(0) var<uniform> params: MatmulParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
// The same operands seen as vec4s (an entry point uses one view of each operand).
@group(0) @binding(1) var<storage, read> a4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b4: array<vec4<f32>>;

override workgroup_size: u32 = 64u;
override A_TRANSPOSED: bool = false;   // A is stored [K, M]: op(A) = Aᵀ
override B_TRANSPOSED: bool = false;   // B is stored [P, K]: op(B) = Bᵀ
override ACCUMULATE: bool = false;     // out += product (else out = product)
override HAS_BIAS: bool = false;       // out = product + bias[j]

// A 4 × 4 tile: four vec4 rows.
alias Tile = array<vec4<f32>, 4>;

// The block an invocation owns: its first row and column, and the last row and column of the
// matrix, at which reads past the edge are clamped.
struct Block {
  i0: u32,
  j0: u32,
  last_i: u32,
  last_j: u32,
}

fn block_of(group: vec3<u32>, groups: vec3<u32>, lane: u32) -> Block {
  let index = (group.y * groups.x + group.x) * workgroup_size + lane;
  let i0 = (index / params.blocks_p) * 4u;
  return Block(i0, (index % params.blocks_p) * 4u, params.m - 1u, params.p - 1u);
}

// Whether invocation `lane` of `group` owns a block (the last workgroup may have spare invocations).
fn owns_block(group: vec3<u32>, groups: vec3<u32>, lane: u32) -> bool {
  let index = (group.y * groups.x + group.x) * workgroup_size + lane;
  return index < ((params.m + 3u) / 4u) * params.blocks_p;
}

// Which of the four k of the step at `k` lie before K.
fn k_valid(k: u32) -> vec4<bool> {
  return vec4<u32>(k) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(params.k);
}

// A 4 × 4 tile's transpose (rows become columns).
fn transposed(t: Tile) -> Tile {
  return Tile(vec4<f32>(t[0].x, t[1].x, t[2].x, t[3].x), vec4<f32>(t[0].y, t[1].y, t[2].y, t[3].y),
              vec4<f32>(t[0].z, t[1].z, t[2].z, t[3].z), vec4<f32>(t[0].w, t[1].w, t[2].w, t[3].w));
}

// Zeroes the columns (k) of a tile of op(A) at and past K, or the rows of a tile of op(B).
fn mask_columns(t: Tile, valid: vec4<bool>) -> Tile {
  let zero = vec4<f32>(0.0);
  return Tile(select(zero, t[0], valid), select(zero, t[1], valid), select(zero, t[2], valid), select(zero, t[3], valid));
}

fn mask_rows(t: Tile, valid: vec4<bool>) -> Tile {
  let zero = vec4<f32>(0.0);
  return Tile(select(zero, t[0], valid.x), select(zero, t[1], valid.y), select(zero, t[2], valid.z),
              select(zero, t[3], valid.w));
}

// The index in its binding of element (row, col) of an operand stored row-major with rows
// last_col + 1 long, read at the last row or column where past them.
fn clamped_at(offset: u32, row: u32, last_row: u32, col: u32, last_col: u32) -> u32 {
  return offset + min(row, last_row) * (last_col + 1u) + min(col, last_col);
}

// op(A)'s tile at rows i0..i0+3, k..k+3, as rows (vec4s along k). `tail`: the step may cross K.
fn a_tile_scalar(at: Block, k: u32, tail: bool) -> Tile {
  var t: Tile;
  let last_k = params.k - 1u;
  for (var r = 0u; r < 4u; r++) {
    for (var c = 0u; c < 4u; c++) {
      if (A_TRANSPOSED) {
        t[r][c] = a[clamped_at(params.a_offset, k + c, last_k, at.i0 + r, at.last_i)];
      } else {
        t[r][c] = a[clamped_at(params.a_offset, at.i0 + r, at.last_i, k + c, last_k)];
      }
    }
  }
  if (tail) {
    t = mask_columns(t, k_valid(k));
  }
  return t;
}

fn a_tile_vec4(at: Block, k: u32, tail: bool) -> Tile {
  var t: Tile;
  if (A_TRANSPOSED) {
    // Stored [K, M], M a multiple of 4: each k's row holds the block's four rows side by side.
    let first = params.a_offset / 4u + at.i0 / 4u;
    let stride = params.m / 4u;
    let last_k = params.k - 1u;
    for (var c = 0u; c < 4u; c++) {
      t[c] = a4[first + min(k + c, last_k) * stride];
    }
    t = transposed(t);
  } else {
    // Stored [M, K], K a multiple of 4: no step crosses K.
    let stride = params.k / 4u;
    for (var r = 0u; r < 4u; r++) {
      t[r] = a4[params.a_offset / 4u + min(at.i0 + r, at.last_i) * stride + k / 4u];
    }
  }
  if (tail) {
    t = mask_columns(t, k_valid(k));
  }
  return t;
}

// op(B)'s tile at k..k+3, columns j0..j0+3, as rows (vec4s along the block's columns).
fn b_tile_scalar(at: Block, k: u32, tail: bool) -> Tile {
  var t: Tile;
  let last_k = params.k - 1u;
  for (var r = 0u; r < 4u; r++) {
    for (var c = 0u; c < 4u; c++) {
      if (B_TRANSPOSED) {
        t[r][c] = b[clamped_at(params.b_offset, at.j0 + c, at.last_j, k + r, last_k)];
      } else {
        t[r][c] = b[clamped_at(params.b_offset, k + r, last_k, at.j0 + c, at.last_j)];
      }
    }
  }
  if (tail) {
    t = mask_rows(t, k_valid(k));
  }
  return t;
}

fn b_tile_vec4(at: Block, k: u32, tail: bool) -> Tile {
  var t: Tile;
  if (B_TRANSPOSED) {
    // Stored [P, K], K a multiple of 4: no step crosses K.
    let stride = params.k / 4u;
    for (var c = 0u; c < 4u; c++) {
      t[c] = b4[params.b_offset / 4u + min(at.j0 + c, at.last_j) * stride + k / 4u];
    }
    t = transposed(t);
  } else {
    // Stored [K, P], P a multiple of 4: each k's row holds the block's four columns side by side.
    let first = params.b_offset / 4u + at.j0 / 4u;
    let stride = params.p / 4u;
    let last_k = params.k - 1u;
    for (var r = 0u; r < 4u; r++) {
      t[r] = b4[first + min(k + r, last_k) * stride];
    }
  }
  if (tail) {
    t = mask_rows(t, k_valid(k));
  }
  return t;
}

// One step: each row's four outputs take the step's four products in increasing k.
fn multiply_add(acc: ptr<function, Tile>, ta: Tile, tb: Tile) {
  for (var r = 0u; r < 4u; r++) {
    var sum = (*acc)[r];
    sum += ta[r].x * tb[0];
    sum += ta[r].y * tb[1];
    sum += ta[r].z * tb[2];
    sum += ta[r].w * tb[3];
    (*acc)[r] = sum;
  }
}

// The k at which the last step starts when it crosses K, or K when none does.
fn whole_steps_end() -> u32 {
  return params.k & ~3u;
}

// Writes the block's outputs inside the matrix: plus the bias, or added to what `out` holds.
fn store_block(at: Block, acc: Tile) {
  for (var r = 0u; r < 4u; r++) {
    let i = at.i0 + r;
    for (var c = 0u; c < 4u; c++) {
      let j = at.j0 + c;
      if (i <= at.last_i && j <= at.last_j) {
        let index = params.out_offset + i * params.p + j;
        var value = acc[r][c];
        if (HAS_BIAS) {
          value += bias[params.bias_offset + j];
        }
        if (ACCUMULATE) {
          value = out[index] + value;
        }
        out[index] = value;
      }
    }
  }
}

@compute @workgroup_size(workgroup_size)
fn main_vec4(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
             @builtin(local_invocation_index) lane: u32) {
  if (!owns_block(group, groups, lane)) {
    return;
  }
  let at = block_of(group, groups, lane);
  var acc = Tile();
  let end = whole_steps_end();
  for (var k = 0u; k < end; k += 4u) {
    multiply_add(&acc, a_tile_vec4(at, k, false), b_tile_vec4(at, k, false));
  }
  if (end < params.k) {
    multiply_add(&acc, a_tile_vec4(at, end, true), b_tile_vec4(at, end, true));
  }
  store_block(at, acc);
}

@compute @workgroup_size(workgroup_size)
fn main_vec4_a(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
               @builtin(local_invocation_index) lane: u32) {
  if (!owns_block(group, groups, lane)) {
    return;
  }
  let at = block_of(group, groups, lane);
  var acc = Tile();
  let end = whole_steps_end();
  for (var k = 0u; k < end; k += 4u) {
    multiply_add(&acc, a_tile_vec4(at, k, false), b_tile_scalar(at, k, false));
  }
  if (end < params.k) {
    multiply_add(&acc, a_tile_vec4(at, end, true), b_tile_scalar(at, end, true));
  }
  store_block(at, acc);
}

@compute @workgroup_size(workgroup_size)
fn main_vec4_b(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
               @builtin(local_invocation_index) lane: u32) {
  if (!owns_block(group, groups, lane)) {
    return;
  }
  let at = block_of(group, groups, lane);
  var acc = Tile();
  let end = whole_steps_end();
  for (var k = 0u; k < end; k += 4u) {
    multiply_add(&acc, a_tile_scalar(at, k, false), b_tile_vec4(at, k, false));
  }
  if (end < params.k) {
    multiply_add(&acc, a_tile_scalar(at, end, true), b_tile_vec4(at, end, true));
  }
  store_block(at, acc);
}

@compute @workgroup_size(workgroup_size)
fn main_scalar(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
               @builtin(local_invocation_index) lane: u32) {
  if (!owns_block(group, groups, lane)) {
    return;
  }
  let at = block_of(group, groups, lane);
  var acc = Tile();
  let end = whole_steps_end();
  for (var k = 0u; k < end; k += 4u) {
    multiply_add(&acc, a_tile_scalar(at, k, false), b_tile_scalar(at, k, false));
  }
  if (end < params.k) {
    multiply_add(&acc, a_tile_scalar(at, end, true), b_tile_scalar(at, end, true));
  }
  store_block(at, acc);
}
