/** How the page writes numbers: enough digits to compare, never a wall of them. */

/** A value with `digits` significant digits, exponent form outside [1e-3, 1e6); ∞, NaN spelled out. */
export function formatNumber(value: number, digits = 6): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  const text = magnitude >= 1e-3 && magnitude < 1e6 ? String(Number(value.toPrecision(digits))) : value.toExponential(digits - 1);
  return text.replace(/-/g, '−');
}

/** An error or tolerance: two significant digits in exponent form (0 stays 0). */
export function formatError(value: number): string {
  return value === 0 ? '0' : value.toExponential(1).replace(/-/g, '−');
}

/** Milliseconds with a precision that suits their size. */
export function formatMs(ms: number): string {
  return ms >= 100 ? `${ms.toFixed(0)} ms` : ms >= 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(2)} ms`;
}

/** A byte count in MiB or KiB. */
export function formatBytes(bytes: number): string {
  const MIB = 1024 * 1024;
  return bytes >= MIB ? `${(bytes / MIB).toFixed(bytes >= 100 * MIB ? 0 : 1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/** A count with thin-space thousands separators (262 144). */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US').replace(/,/g, '\u2009');
}

/** A shape as PyTorch prints it: [64, 1000]. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

const SUPERSCRIPT: Record<string, string> = { '-': '⁻', 0: '⁰', 1: '¹', 2: '²', 3: '³', 4: '⁴', 5: '⁵', 6: '⁶', 7: '⁷', 8: '⁸', 9: '⁹' };

/** An integer in superscript digits (⁻¹¹), for exponents. */
function superscript(n: number): string {
  return [...String(n)].map((ch) => SUPERSCRIPT[ch]).join('');
}

/** A power of two as 2⁻¹¹. */
export function formatPowerOfTwo(exponent: number): string {
  return `2${superscript(exponent)}`;
}

/** A tolerance: an exact power of ten as 10⁻⁶, anything else as an error. */
export function formatTolerance(value: number): string {
  const exponent = Math.round(Math.log10(value));
  if (value > 0 && Math.abs(value - 10 ** exponent) <= Number.EPSILON * value) {
    return `10${superscript(exponent)}`;
  }
  return formatError(value);
}

/** A ratio such as 1.19× or 56×. */
export function formatRatio(ratio: number | null): string {
  if (ratio === null) return '—';
  return `${ratio.toFixed(ratio < 10 ? 2 : ratio < 100 ? 1 : 0)}×`;
}

/**
 * A ratio on a chart's axis, as written (100×, 0.01×, 2.5×): no digits padded on, none cut from an
 * integer. Three significant digits absorb the floating-point noise of generated ticks (0.30000000000000004).
 */
export function formatAxisRatio(value: number): string {
  return `${formatNumber(value, 3)}×`;
}

/** Whether a log axis labels a tick: 1, 2 and 5 times a power of ten (more would crowd it). */
function isRoundTick(value: number): boolean {
  if (!(value > 0)) return false;
  const mantissa = value / 10 ** Math.floor(Math.log10(value) + 1e-9);
  return [1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-6);
}

/** A log axis's tick label: the ratio for 1, 2 and 5 times a power of ten, '' (no label) for the others. */
export function logTickLabel(value: number): string {
  return isRoundTick(value) ? formatAxisRatio(value) : '';
}
