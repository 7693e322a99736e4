// Gradient of the loss written as 16-bit values (the input's format, float16 or bfloat16), from the
// row summaries row-loss wrote. (lib/input-half.wgsl reads and rounds the 16-bit values;
// lib/row-gradient.wgsl holds the formulas; src/gpu/shader-modules.ts lists the files joined
// before it.)
//
// Two values share a 32-bit word, and neighbouring elements in memory may belong to different rows
// (a row of odd length shares a word with the next; in a K-dimensional layout neighbouring
// elements are neighbouring rows). So every invocation owns whole groups of four elements (two
// words), which it reads, computes in f32 as row-grad does, rounds to nearest even and writes: no
// word has two writers, and when the gradient overwrites the input each word is read before it
// is written, by its owner. A group is one vector step: four classes of one row, or one class of
// four neighbouring rows.
// Entry points, each a layout:
//   main_rows  : contiguous rows ([N, C], C >= 4), one invocation per (chunk, row) as row-grad. It
//                owns the groups whose first element is one of its classes; the last may reach
//                into the next rows, whose statistics serve those lanes. It leaves the tensor's
//                last group to main_tail when that group is partial (an element count that is not
//                a multiple of 4).
//   main_lanes : K-dimensional rows one chunk long with positions a multiple of 4: one invocation
//                per four neighbouring rows, one group per class (as row-loss-grad's main_lanes).
//   main       : any layout: one invocation per run of RUN_GROUPS groups in memory order, each
//                lane's row found from its position.
//   main_tail  : the tensor's last group, partial, after main_rows: one invocation.
// main_rows and main_lanes load and store a group's two words at once (`logits_pairs`,
// `grad_pairs`); main and main_tail, which may meet a group of which only one word exists, one
// word at a time.
// Dispatch: by entry point as above, 2-D folded.
//
// Bindings:
//   params             : (row-common) shapes and options of this call
//   logits             : (input-half) the input (not read when GRAD_IN_PLACE: `grad_words` holds it)
//   class_target       : class indices (read when TARGET_KIND == 0)
//   target_probability : class probabilities (read when TARGET_KIND == 1)
//   weight             : (class-weight) per-class weight [C] (read when HAS_WEIGHT)
//   row_summary        : each row's merged statistics, from row-loss
//   grad_words         : out, the gradient, two 16-bit values per word; the input when in place
//   grad_pairs         : the same, two words at a time
//   scale_input        : (row-gradient) the 'mean' denominator, or grad_output per row

@group(0) @binding(2) var<storage, read> class_target: array<i32>;
@group(0) @binding(3) var<storage, read> target_probability: array<f32>;
@group(0) @binding(8) var<storage, read> row_summary: array<RowSummary>;
@group(0) @binding(10) var<storage, read_write> grad_words: array<u32>;
@group(0) @binding(10) var<storage, read_write> grad_pairs: array<vec2<u32>>;

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

// The two words of group `group` (main_rows, main_lanes).
fn input_pair(group: u32) -> vec2<u32> {
  if (GRAD_IN_PLACE) {
    return grad_pairs[group];
  }
  return logits_pairs[group];
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


// One group's input and gradient (lane k: class classes[k] of row (*rows)[k]; a lane whose row is
// not used gets 0). For logits with class-index targets every lane takes the short form, which
// is wrong at a row's target class: the caller rewrites that lane (rewrite_targets or
// rewrite_target_half), outside the walk, where SIMD lanes are emulated (SwiftShader) a branch in
// every step would cost as much as taking it.
struct Group {
  words: vec2<u32>,
  x: vec4<f32>,
  w: vec4<f32>,
  g: vec4<f32>,
}

fn group_gradient(rows: ptr<function, array<RowGradient, 4>>, lanes: LaneGradients, classes: vec4<u32>,
                  group: u32, words: vec2<u32>) -> Group {
  let x = unpack_words(words);
  let w = vec4<f32>(class_weight(classes.x), class_weight(classes.y), class_weight(classes.z),
                    class_weight(classes.w));
  if (FAST_CLASS_INDEX_PATH) {
    return Group(words, x, w, softmax_gradient4(rows, lanes, x, w));
  }
  var t = vec4<f32>(0.0);
  if (TARGET_KIND == TARGET_PROBABILITIES) {
    let at = 4u * group;
    t = vec4<f32>(target_probability[at], target_probability[at + 1u], target_probability[at + 2u],
                  target_probability[at + 3u]);
  }
  return Group(words, x, w, vec4<f32>(class_gradient((*rows)[0], classes.x, x.x, w.x, t.x),
                                      class_gradient((*rows)[1], classes.y, x.y, w.y, t.y),
                                      class_gradient((*rows)[2], classes.z, x.z, w.z, t.z),
                                      class_gradient((*rows)[3], classes.w, x.w, w.w, t.w)));
}

// The lanes of a group at their row's target class, in the general form (the short form's fix-up
// inside a walk, for the mixed groups whose lanes are several rows').
fn rewrite_targets(rows: ptr<function, array<RowGradient, 4>>, classes: vec4<u32>, group: ptr<function, Group>) {
  if (!FAST_CLASS_INDEX_PATH) {
    return;
  }
  for (var k = 0u; k < 4u; k++) {
    let r = (*rows)[k];
    if (r.used && i32(classes[k]) == r.y) {
      (*group).g[k] = class_gradient(r, classes[k], (*group).x[k], (*group).w[k], 0.0);
    }
  }
}

// A group's rounded gradient as its two words.
fn rounded_pair(values: Group) -> vec2<u32> {
  return half_words(values.g);
}

// Writes a group's rounded gradient one word at a time (main, main_tail). Lanes past the tensor's
// end (`inside` false: an element count not a multiple of 4) keep the bits they had.
fn store_group_words(group: u32, values: Group, inside: vec4<bool>) {
  let words = values.words;
  let old = vec4<u32>(words.x & 0xffffu, words.x >> 16u, words.y & 0xffffu, words.y >> 16u);
  let halves = select(old, half_bits4(values.g), inside);
  grad_words[2u * group] = halves.x | (halves.y << 16u);
  // The group's second word, unless the tensor ends in its first.
  if (inside.z) {
    grad_words[2u * group + 1u] = halves.z | (halves.w << 16u);
  }
}

// A target class whose group the walk wrote with the short form: its input value (read before
// the walk, which may overwrite it) and where it is.
struct HalfTarget {
  inside: bool,
  at: u32,
  x: f32,
}

fn find_half_target(r: RowGradient, at: u32, owned: bool) -> HalfTarget {
  var found = HalfTarget(false, 0u, 0.0);
  if (FAST_CLASS_INDEX_PATH && r.used && owned) {
    found = HalfTarget(true, at, unpack_words(input_pair(at / 4u))[at % 4u]);
  }
  return found;
}

// Rewrites the half of a found target class with its general-form gradient (in a whole group of
// main_rows or main_lanes: its pair of words).
fn rewrite_target_half(r: RowGradient, found: HalfTarget) {
  if (found.inside) {
    let c = u32(r.y);
    let bits = half_bits4(vec4<f32>(class_gradient(r, c, found.x, class_weight(c), 0.0))).x;
    var pair = grad_pairs[found.at / 4u];
    let k = (found.at / 2u) % 2u;
    pair[k] = select((pair[k] & 0xffff0000u) | bits, (pair[k] & 0xffffu) | (bits << 16u), (found.at & 1u) == 1u);
    grad_pairs[found.at / 4u] = pair;
  }
}

// Lanes whose element (4 group + k) lies outside the tensor are not used: gradient 0, bits kept.
fn inside_of(group: u32) -> vec4<bool> {
  return vec4<u32>(4u * group) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(params.rows * params.classes);
}

// Row statistics of each lane of a group found from its elements' positions (any layout).
fn rows_of_group(group: u32, first_cursor: Cursor, cached_row: ptr<function, u32>,
                 cached: ptr<function, RowGradient>) -> array<RowGradient, 4> {
  var rows: array<RowGradient, 4>;
  var cursor = first_cursor;
  let inside = inside_of(group);
  for (var k = 0u; k < 4u; k++) {
    let row = row_of(cursor);
    if (row != *cached_row && inside[k]) {
      *cached_row = row;
      *cached = row_gradient(row);
    }
    rows[k] = *cached;
    rows[k].used = rows[k].used && inside[k];
    cursor = advance(cursor);
  }
  return rows;
}

fn classes_of_group(first_cursor: Cursor) -> vec4<u32> {
  var classes: vec4<u32>;
  var cursor = first_cursor;
  for (var k = 0u; k < 4u; k++) {
    classes[k] = cursor.c;
    cursor = advance(cursor);
  }
  return classes;
}

@compute @workgroup_size(workgroup_size)
fn main(@builtin(workgroup_id) group: vec3<u32>,
        @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lane: u32) {
  let index = invocation_index(group, groups, lane, workgroup_size);
  let first_group = index * RUN_GROUPS;
  if (4u * first_group >= params.rows * params.classes) {
    return;
  }
  var cursor = cursor_at(4u * first_group);
  var cached_row = row_of(cursor);
  var cached = row_gradient(cached_row);
  for (var g = first_group; g < first_group + RUN_GROUPS && 4u * g < params.rows * params.classes; g++) {
    write_group_words(g, cursor, &cached_row, &cached);
    for (var k = 0u; k < 4u; k++) {
      cursor = advance(cursor);
    }
  }
}

// Group `group`, whose first element is at `cursor`, one word at a time, each lane with its own
// row's statistics (through the cache of the last row read).
fn write_group_words(group: u32, cursor: Cursor, cached_row: ptr<function, u32>, cached: ptr<function, RowGradient>) {
  var rows = rows_of_group(group, cursor, cached_row, cached);
  let classes = classes_of_group(cursor);
  let words = vec2<u32>(input_word(2u * group), input_word(2u * group + 1u));
  var values = group_gradient(&rows, lane_gradients(&rows), classes, group, words);
  rewrite_targets(&rows, classes, &values);
  store_group_words(group, values, inside_of(group));
}

@compute @workgroup_size(workgroup_size)
fn main_tail(@builtin(workgroup_id) group: vec3<u32>,
             @builtin(num_workgroups) groups: vec3<u32>,
             @builtin(local_invocation_index) lane: u32) {
  let elements = params.rows * params.classes;
  if (invocation_index(group, groups, lane, workgroup_size) != 0u || elements % 4u == 0u) {
    return;
  }
  let g = elements / 4u;
  let cursor = cursor_at(4u * g);
  var cached_row = row_of(cursor);
  var cached = row_gradient(cached_row);
  write_group_words(g, cursor, &cached_row, &cached);
}

@compute @workgroup_size(workgroup_size)
fn main_rows(@builtin(workgroup_id) group: vec3<u32>,
             @builtin(num_workgroups) groups: vec3<u32>,
             @builtin(local_invocation_index) lane: u32) {
  let index = invocation_index(group, groups, lane, workgroup_size);
  if (index >= params.rows * params.chunks) {
    return;
  }
  let range = chunk_of_row(index, 1u);
  let row_start = range.row * params.classes;
  let first_group = (row_start + range.first + 3u) / 4u;
  let end_group = (row_start + range.end + 3u) / 4u;
  // Groups whose four elements are all in this row share its statistics.
  let whole_end = max(first_group, min(end_group, (row_start + params.classes) / 4u));
  let r = row_gradient(range.row);
  var rows = array<RowGradient, 4>(r, r, r, r);
  let lanes = lane_gradients(&rows);
  let target_at = row_start + u32(max(r.y, 0));
  let target_class = find_half_target(r, target_at, target_at / 4u >= first_group && target_at / 4u < whole_end);
  let lane_offsets = vec4<u32>(0u, 1u, 2u, 3u);
  for (var g = first_group; g < whole_end; g++) {
    grad_pairs[g] = rounded_pair(group_gradient(&rows, lanes, vec4<u32>(4u * g - row_start) + lane_offsets, g,
                                                input_pair(g)));
  }
  rewrite_target_half(r, target_class);
  // The last group may reach past the row's end into the next rows; a partial last group of the
  // tensor is main_tail's.
  let g = whole_end;
  if (g < end_group && 4u * g + 3u < params.rows * params.classes) {
    let cursor = cursor_at(4u * g);
    var cached_row = range.row;
    var cached = r;
    var mixed = rows_of_group(g, cursor, &cached_row, &cached);
    let classes = classes_of_group(cursor);
    var values = group_gradient(&mixed, lane_gradients(&mixed), classes, g, input_pair(g));
    rewrite_targets(&mixed, classes, &values);
    grad_pairs[g] = rounded_pair(values);
  }
}

@compute @workgroup_size(workgroup_size)
fn main_lanes(@builtin(workgroup_id) group: vec3<u32>,
              @builtin(num_workgroups) groups: vec3<u32>,
              @builtin(local_invocation_index) lane: u32) {
  let index = invocation_index(group, groups, lane, workgroup_size);
  if (4u * index >= params.rows) {
    return;
  }
  let first_row = 4u * index;
  let r = array<RowGradient, 4>(row_gradient(first_row), row_gradient(first_row + 1u),
                                row_gradient(first_row + 2u), row_gradient(first_row + 3u));
  var rows = r;
  let lanes = lane_gradients(&rows);
  let target_classes = array<HalfTarget, 4>(
    find_half_target(r[0], element_index(first_row, u32(max(r[0].y, 0))), true),
    find_half_target(r[1], element_index(first_row + 1u, u32(max(r[1].y, 0))), true),
    find_half_target(r[2], element_index(first_row + 2u, u32(max(r[2].y, 0))), true),
    find_half_target(r[3], element_index(first_row + 3u, u32(max(r[3].y, 0))), true));
  for (var c = 0u; c < params.classes; c++) {
    let g = element_index(first_row, c) / 4u;
    grad_pairs[g] = rounded_pair(group_gradient(&rows, lanes, vec4<u32>(c), g, input_pair(g)));
  }
  rewrite_target_half(r[0], target_classes[0]);
  rewrite_target_half(r[1], target_classes[1]);
  rewrite_target_half(r[2], target_classes[2]);
  rewrite_target_half(r[3], target_classes[3]);
}
