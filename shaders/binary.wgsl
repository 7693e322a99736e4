// Binary cross-entropy, elementwise, with its gradient in the same pass: PyTorch BCEWithLogitsLoss
//   l = w * [(1 - y) x + L log(1 + e^-x)],   dl/dx = w * [L sigmoid(x) - pw y],   L = 1 + (pw - 1) y,
// evaluated without overflow or cancellation for any x (see main), or BCELoss on
// probabilities: l = -w * [y max(log p, -100) + (1 - y) max(log(1 - p), -100)],
//   dl/dp = w (p - y) / max(p (1 - p), 1e-12)  (PyTorch's backward).
// The batch reduction of the element losses is batch-reduce's. (lib/precise-math.wgsl, and for
// main_half lib/input-half.wgsl, are joined before it.)
// Dispatch: one invocation per element (per word of two elements for 16-bit inputs: main_half),
// 2-D folded.
//
// Bindings:
//   params      : count, input kind, weight / pos_weight broadcast lengths, gradient scale
//   prediction  : logits (or probabilities), any shape, flattened
//   label       : y in [0, 1], the input's shape
//   weight      : w, broadcast over the trailing `weight_len` elements (read when has_weight == 1)
//   pos_weight  : pw per class of the last dimension (read when has_pos_weight == 1)
//   grad_output : upstream gradient per element (read when has_grad_output == 1)
//   elem_loss   : out, the loss of each element
//   grad        : out, dl/d(input) (read as the input too when in_place == 1)
//   logits, grad_words : main_half's input and gradient, as 32-bit words (see main_half)

const INPUT_LOGITS: u32 = 0u;
const LOG_PROBABILITY_FLOOR: f32 = -100.0;
// PyTorch's binary_cross_entropy_backward keeps p (1 - p) at least this.
const BCE_GRAD_EPSILON: f32 = 1e-12;

struct Params {
  count: u32,
  input_kind: u32,        // 0 logits (BCEWithLogitsLoss), 1 probabilities (BCELoss)
  has_weight: u32,
  weight_len: u32,        // w[i % weight_len]
  has_pos_weight: u32,
  pos_weight_len: u32,    // pw[i % pos_weight_len]: the last dimension
  has_grad_output: u32,
  want_grad: u32,
  in_place: u32,
  grad_scale: f32,        // 1 / count for 'mean', 1 otherwise
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> prediction: array<f32>;
@group(0) @binding(2) var<storage, read> label: array<f32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read> pos_weight: array<f32>;
@group(0) @binding(5) var<storage, read> grad_output: array<f32>;
@group(0) @binding(6) var<storage, read_write> elem_loss: array<f32>;
@group(0) @binding(7) var<storage, read_write> grad: array<f32>;

override workgroup_size: u32 = 64u;

// One element's loss and gradient (0 without one), for input value x.
struct ElementResult {
  loss: f32,
  grad: f32,
}

fn binary_element(i: u32, x: f32) -> ElementResult {
  let y = label[i];
  let w = select(1.0, weight[i % max(params.weight_len, 1u)], params.has_weight == 1u);
  var loss: f32;
  var slope: f32;
  if (params.input_kind == INPUT_LOGITS) {
    let pw = select(1.0, pos_weight[i % max(params.pos_weight_len, 1u)], params.has_pos_weight == 1u);
    let log_weight = 1.0 + (pw - 1.0) * y;
    // Both forms below add non-negative terms. PyTorch's (1 - y) x + L (max(-x, 0) + log1p(e^-|x|))
    // cancels for x << 0 (-85 + 85.2), losing most digits of a small loss in f32; since
    // L - (1 - y) = pw y, for x < 0 it equals -pw y x + L log1p(e^-|x|).
    let e = exp(-abs(x));
    let tail = log_weight * log1p_unit(e);
    let sigmoid_of_minus_abs = e / (1.0 + e);
    if (x >= 0.0) {
      loss = w * ((1.0 - y) * x + tail);
      slope = w * ((1.0 - y) - log_weight * sigmoid_of_minus_abs);
    } else {
      loss = w * (-pw * y * x + tail);
      slope = w * (log_weight * sigmoid_of_minus_abs - pw * y);
    }
  } else {
    let log_p = max(log(x), LOG_PROBABILITY_FLOOR);
    let log_q = max(log(1.0 - x), LOG_PROBABILITY_FLOOR);
    loss = -w * (y * log_p + (1.0 - y) * log_q);
    slope = w * (x - y) / max(x * (1.0 - x), BCE_GRAD_EPSILON);
  }
  var g = 0.0;
  if (params.want_grad == 1u) {
    let upstream = select(1.0, grad_output[i], params.has_grad_output == 1u);
    g = params.grad_scale * upstream * slope;
  }
  return ElementResult(loss, g);
}

@compute @workgroup_size(workgroup_size)
fn main(@builtin(workgroup_id) group: vec3<u32>,
        @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lane: u32) {
  let i = (group.y * groups.x + group.x) * workgroup_size + lane;
  if (i >= params.count) {
    return;
  }
  var x: f32;
  if (params.in_place == 1u) {
    x = grad[i];
  } else {
    x = prediction[i];
  }
  let result = binary_element(i, x);
  elem_loss[i] = result.loss;
  if (params.want_grad == 1u) {
    grad[i] = result.grad;
  }
}

// 16-bit inputs (lib/input-half.wgsl's `logits`): one word, two elements, per invocation, so that
// a 16-bit gradient's words each have one writer. HALF_GRAD: the gradient is written in the
// input's format, two per word of `grad_words` (and read from there when in place); else as f32
// bits, one per word.
override HALF_GRAD: bool = true;
@group(0) @binding(7) var<storage, read_write> grad_words: array<u32>;

@compute @workgroup_size(workgroup_size)
fn main_half(@builtin(workgroup_id) group: vec3<u32>,
             @builtin(num_workgroups) groups: vec3<u32>,
             @builtin(local_invocation_index) lane: u32) {
  let k = (group.y * groups.x + group.x) * workgroup_size + lane;
  let first = 2u * k;
  if (first >= params.count) {
    return;
  }
  var word: u32;
  if (HALF_GRAD && params.in_place == 1u) {
    word = grad_words[k];
  } else {
    word = logits[k];
  }
  let x = unpack_halves(word);
  // An odd count ends in half a word: its high half is not an element.
  let pair = first + 1u < params.count;
  let a = binary_element(first, x.x);
  var b = ElementResult(0.0, 0.0);
  elem_loss[first] = a.loss;
  if (pair) {
    b = binary_element(first + 1u, x.y);
    elem_loss[first + 1u] = b.loss;
  }
  if (params.want_grad == 1u) {
    if (HALF_GRAD) {
      let halves = half_bits4(vec4<f32>(a.grad, b.grad, 0.0, 0.0));
      grad_words[k] = halves.x | (select(word >> 16u, halves.y, pair) << 16u);
    } else {
      grad_words[first] = bitcast<u32>(a.grad);
      if (pair) {
        grad_words[first + 1u] = bitcast<u32>(b.grad);
      }
    }
  }
}
