// Gradient of the loss written as 16-bit values (the input's format, float16 or bfloat16), from the
// row summaries row-loss wrote. (lib/input-half.wgsl reads and rounds the 16-bit values;
// lib/row-gradient.wgsl holds the formulas; src/gpu/shader-modules.ts lists the files joined
// before it.)
//
// Two values share a 32-bit word, and neighbouring elements in memory may belong to different rows
// (a row of odd length shares a word with the next; in a K-dimensional layout each element of a
// run is another row), which row-grad's invocations would write at the same time. So here an
// invocation owns whole words: a run of RUN_GROUPS groups of four consecutive elements, in memory
// order. Each element's gradient is computed in f32 as row-grad computes it, and rounded to nearest
// even. The four elements of a group are one vector step, as in row-grad's vec4 walk: four classes
// of one row, or one class of four neighbouring rows (K-dimensional layouts). When the gradient
// overwrites the input, the invocation reads each word before writing it.
// Dispatch: one invocation per run of 4 * RUN_GROUPS elements of the piece, 2-D folded.
//
// Bindings:
//   params             : (row-common) shapes and options of this call
//   logits             : (input-half) the input (not read when GRAD_IN_PLACE: `grad_words` holds it)
//   class_target       : class indices (read when TARGET_KIND == 0)
//   target_probability : class probabilities (read when TARGET_KIND == 1)
//   weight             : (class-weight) per-class weight [C] (read when HAS_WEIGHT)
//   row_summary        : each row's merged statistics, from row-loss
//   grad_words         : out, the gradient, two 16-bit values per word; the input when in place
//   scale_input        : (row-gradient) the 'mean' denominator, or grad_output per row

@group(0) @binding(2) var<storage, read> class_target: array<i32>;
@group(0) @binding(3) var<storage, read> target_probability: array<f32>;
@group(0) @binding(8) var<storage, read> row_summary: array<RowSummary>;
@group(0) @binding(10) var<storage, read_write> grad_words: array<u32>;

override workgroup_size: u32 = 64u;

// Groups of four elements (two words) one invocation writes.
const RUN_GROUPS: u32 = 4u;

fn row_gradient(row: u32) -> RowGradient {
  var y = 0;
  if (TARGET_KIND == TARGET_CLASS_INDEX) {
    y = class_target[row];
  }
  return row_gradient_of(row_summary[row], y, row);
}

fn input_word(k: u32) -> u32 {
  if (GRAD_IN_PLACE) {
    return grad_words[k];
  }
  return logits[k];
}

// Where an element is: its class, and its row (sample * inner + position). Advanced one element
// at a time in memory order, positions fastest, then classes, then samples.
struct Cursor {
  c: u32,
  position: u32,
  sample: u32,
}

fn cursor_at(element: u32) -> Cursor {
  let per_sample = params.classes * params.inner;
  let within = element % per_sample;
  return Cursor(within / params.inner, within % params.inner, element / per_sample);
}

fn advance(cursor: Cursor) -> Cursor {
  var next = cursor;
  next.position++;
  if (next.position == params.inner) {
    next.position = 0u;
    next.c++;
    if (next.c == params.classes) {
      next.c = 0u;
      next.sample++;
    }
  }
  return next;
}

fn row_of(cursor: Cursor) -> u32 {
  return cursor.sample * params.inner + cursor.position;
}

// One word of output: the rounded gradients `g` of its two elements, where they are part of the
// tensor (`inside`); the other half keeps the bits it had (the end of an odd element count).
fn output_word(g: vec2<f32>, inside: vec2<bool>, old: u32) -> u32 {
  let low = select(old & 0xffffu, half_bits(g.x), inside.x);
  let high = select(old >> 16u, half_bits(g.y), inside.y);
  return low | (high << 16u);
}

@compute @workgroup_size(workgroup_size)
fn main(@builtin(workgroup_id) group: vec3<u32>,
        @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lane: u32) {
  let index = invocation_index(group, groups, lane, workgroup_size);
  let elements = params.rows * params.classes;
  let first = index * 4u * RUN_GROUPS;
  if (first >= elements) {
    return;
  }
  var cursor = cursor_at(first);
  // The rows of the last group's lanes: consecutive lanes of one row share its statistics, read once.
  var cached_row = row_of(cursor);
  var cached = row_gradient(cached_row);
  let lane_offsets = vec4<u32>(0u, 1u, 2u, 3u);
  for (var step = 0u; step < RUN_GROUPS; step++) {
    let element = first + 4u * step;
    if (element >= elements) {
      break;
    }
    let inside = vec4<u32>(element) + lane_offsets < vec4<u32>(elements);
    var rows: array<RowGradient, 4>;
    var classes: vec4<u32>;
    for (var k = 0u; k < 4u; k++) {
      let row = row_of(cursor);
      if (row != cached_row) {
        cached_row = row;
        cached = row_gradient(row);
      }
      rows[k] = cached;
      // A lane past the end is not used: its gradient is 0 and its half keeps its bits.
      rows[k].used = rows[k].used && inside[k];
      classes[k] = cursor.c;
      cursor = advance(cursor);
    }
    let words = vec2<u32>(input_word(element / 2u), input_word(element / 2u + 1u));
    let x = vec4<f32>(unpack_halves(words.x), unpack_halves(words.y));
    let w = vec4<f32>(class_weight(classes.x), class_weight(classes.y), class_weight(classes.z),
                      class_weight(classes.w));
    var g: vec4<f32>;
    if (FAST_CLASS_INDEX_PATH) {
      g = softmax_gradient4(&rows, lane_gradients(&rows), x, w);
      // A lane at its row's target class takes the general form.
      for (var k = 0u; k < 4u; k++) {
        if (rows[k].used && i32(classes[k]) == rows[k].y) {
          g[k] = class_gradient(rows[k], classes[k], x[k], w[k], 0.0);
        }
      }
    } else {
      for (var k = 0u; k < 4u; k++) {
        var t = 0.0;
        if (TARGET_KIND == TARGET_PROBABILITIES && inside[k]) {
          t = target_probability[element + k];
        }
        g[k] = class_gradient(rows[k], classes[k], x[k], w[k], t);
      }
    }
    grad_words[element / 2u] = output_word(g.xy, inside.xy, words.x);
    // The group's second word, unless the tensor ends in its first.
    if (inside.z) {
      grad_words[element / 2u + 1u] = output_word(g.zw, inside.zw, words.y);
    }
  }
}
