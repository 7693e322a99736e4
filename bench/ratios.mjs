// What each benchmark figure is measured against: the runner's table, the SVG chart, the README's
// summary and the demo page's charts all read ratios from here.

/** Which roofline an implementation is measured against: copy for forward + gradient, read otherwise. */
export function rooflineOf(impl) {
  return impl.endsWith('-grad') || impl.endsWith('-copy') ? 'roofline-copy' : 'roofline-read';
}

const sameShape = (a, b) => a.length === b.length && a.every((d, i) => d === b[i]);

/** The row of one implementation at one shape, or undefined. */
export function findRow(rows, shape, impl) {
  return rows.find((r) => r.impl === impl && sameShape(r.shape, shape));
}

/** The roofline median an implementation is divided by (read when there is no copy), or null. */
export function rooflineMs(rows, shape, impl) {
  return findRow(rows, shape, rooflineOf(impl))?.median_ms ?? findRow(rows, shape, 'roofline-read')?.median_ms ?? null;
}

/** An implementation's median over its roofline's median in the same run (1 is the floor), or null. */
export function ratioToRoofline(rows, shape, impl) {
  const ms = findRow(rows, shape, impl)?.median_ms ?? null;
  const base = rooflineMs(rows, shape, impl);
  return ms !== null && base ? ms / base : null;
}

/** How many times faster `impl` is than `peer` at one shape (peer median / impl median), or null. */
export function speedUp(rows, shape, impl, peer) {
  const ms = findRow(rows, shape, impl)?.median_ms ?? null;
  const peerMs = findRow(rows, shape, peer)?.median_ms ?? null;
  return ms !== null && peerMs !== null && ms > 0 ? peerMs / ms : null;
}

/** The distinct shapes of a run's rows, in order. */
export function shapesOf(rows) {
  const seen = new Map();
  for (const r of rows) seen.set(JSON.stringify(r.shape), r.shape);
  return [...seen.values()];
}
