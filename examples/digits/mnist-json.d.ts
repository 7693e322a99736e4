/** The `mnist` package's per-class files, as examples/digits/mnist.js imports them. */
declare module 'mnist/src/digits/*.json' {
  /** The class's 28 × 28 images one after another, pixels in [0, 1]. */
  const digits: { readonly data: readonly number[] };
  export default digits;
}
