/**
 * The loss written out in MathML with the example's own numbers: −Σ y·log p, then (for logits) the
 * same as log Σ e^z − z_y. MathML Core renders natively in current browsers; no TeX library needed.
 */
import type { Example } from './examples.js';
import { formatNumber } from './format.js';

/** Up to this many classes the sum is written term by term; beyond, the zero terms are summarised. */
const TERMS_WRITTEN_OUT = 5;
const DIGITS = 4;

const mi = (name: string) => `<mi>${name}</mi>`;
const mo = (op: string) => `<mo>${op}</mo>`;
const mn = (value: number) => `<mn>${formatNumber(value, DIGITS)}</mn>`;
const sub = (base: string, index: string) => `<msub>${base}${/^\d+$/.test(index) ? `<mn>${index}</mn>` : mi(index)}</msub>`;
// Function application (U+2061) adds no space in every engine: a thin space keeps "log 0.7" apart.
const log = (argument: string) => `<mi>log</mi><mo>&#x2061;</mo><mspace width="0.17em"></mspace>${argument}`;
const sum = (under: string) => `<munder><mo>∑</mo>${under}</munder>`;
const row = (content: string, className = '') => `<mrow${className ? ` class="${className}"` : ''}>${content}</mrow>`;

/** A number that follows a minus sign: negative ones in parentheses. */
const signed = (value: number) => (value < 0 ? `${mo('(')}${mn(value)}${mo(')')}` : mn(value));

/** One term y_c · log p_c with numbers; the true class's term highlighted. */
function term(y: number, p: number, isTarget: boolean): string {
  return row(`<mn>${y}</mn>${mo('·')}${log(mn(p))}`, isTarget ? 'target-term' : 'zero-term');
}

function filledSum(example: Example, p: readonly number[]): string {
  const name = example.classNames[example.target]!;
  if (p.length <= TERMS_WRITTEN_OUT) {
    return p.map((pc, c) => term(c === example.target ? 1 : 0, pc, c === example.target)).join(mo('+'));
  }
  const others = row(`${sum(row(`${mi('c')}${mo('≠')}${/^\d+$/.test(name) ? `<mn>${name}</mn>` : mi(name)}`))}<mn>0</mn>${mo('·')}${log(sub(mi('p'), 'c'))}`, 'zero-term');
  return `${term(1, p[example.target]!, true)}${mo('+')}${others}`;
}

/** The MathML for an example whose loss is `loss` (the value the page shows). */
export function lossFormula(example: Example, p: readonly number[], loss: number): string {
  const name = example.classNames[example.target]!;
  const definition = `${mi('L')}${mo('=')}${mo('−')}${sum(mi('c'))}${sub(mi('y'), 'c')}${mo('&#x2062;')}${log(sub(mi('p'), 'c'))}`;
  const filled = `${mo('=')}${mo('−')}${mo('(')}${filledSum(example, p)}${mo(')')}`;
  const target = `${mo('=')}${mo('−')}${log(mn(p[example.target]!))}`;
  const lines = [`${definition}`, `${filled}`];
  if (example.enteredAs === 'logits') {
    const z = example.values;
    const lse = Math.log(z.reduce((a, v) => a + Math.exp(v - Math.max(...z)), 0)) + Math.max(...z);
    lines.push(`${mo('=')}${log(`${sum(mi('c'))}<msup>${mi('e')}${sub(mi('z'), 'c')}</msup>`)}${mo('−')}${sub(mi('z'), name)}`
      + `${mo('=')}${mn(lse)}${mo('−')}${signed(z[example.target]!)}`);
  }
  lines.push(`${target}${mo('=')}<mn class="loss-number">${formatNumber(loss, 9)}</mn>`);
  // One inline <math> per line, left-aligned by CSS (MathML Core has no column alignment in tables).
  return lines.map((line, i) => `<div class="formula-line${i === 0 ? ' definition' : ''}"><math>${row(line)}</math></div>`).join('');
}
