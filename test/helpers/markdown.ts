/**
 * Reading the repository's Markdown as a reader's tools would: the links a page makes (outside code),
 * the anchors its headings get on GitHub, and the code blocks marked runnable (a fence whose info
 * string is `js runnable-node` or `html runnable-browser`), with the lines each must print (its
 * `// prints: text` comments, in order).
 */

/** A link or image target found in a page, with its 1-based line. */
export interface MarkdownLink {
  readonly target: string;
  readonly line: number;
}

/** A code block marked runnable. */
export interface RunnableBlock {
  readonly kind: 'node' | 'browser';
  readonly code: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** What the block must print, line by line, from its `// prints:` comments. */
  readonly prints: readonly string[];
}

const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/;

/** The page's lines, each marked as inside a fenced code block or not, with the fences' info strings. */
function scanFences(text: string): { line: string; inFence: boolean; fenceInfo?: string; opens?: boolean }[] {
  const out: { line: string; inFence: boolean; fenceInfo?: string; opens?: boolean }[] = [];
  let open: string | null = null;
  for (const line of text.split('\n')) {
    const m = FENCE.exec(line);
    if (open === null && m) {
      open = m[1]!;
      out.push({ line, inFence: true, fenceInfo: m[2]!.trim(), opens: true });
    } else if (open !== null && m && m[1]!.startsWith(open[0]!) && m[1]!.length >= open.length && m[2]!.trim() === '') {
      open = null;
      out.push({ line, inFence: true, opens: false });
    } else {
      out.push({ line, inFence: open !== null });
    }
  }
  return out;
}

/** Every `[text](target)` and `![alt](target)` outside code blocks and code spans. */
export function markdownLinks(text: string): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  scanFences(text).forEach(({ line, inFence }, index) => {
    if (inFence) return;
    const withoutCode = line.replace(/`[^`]*`/g, '');
    for (const m of withoutCode.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      links.push({ target: m[1]!, line: index + 1 });
    }
  });
  return links;
}

/** GitHub's anchor for a heading's text: formatting dropped, lower case, punctuation removed, spaces to hyphens. */
export function headingSlug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[`*]/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a page's headings (outside code blocks), repeated ones numbered as GitHub numbers them. */
export function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { line, inFence } of scanFences(text)) {
    const m = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (inFence || !m) continue;
    const slug = headingSlug(m[1]!);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** The code blocks whose fence's info string names `runnable-node` or `runnable-browser`. */
export function runnableBlocks(text: string): RunnableBlock[] {
  const blocks: RunnableBlock[] = [];
  let current: { kind: 'node' | 'browser'; line: number; lines: string[] } | null = null;
  scanFences(text).forEach(({ line, fenceInfo, opens }, index) => {
    if (opens === true) {
      const words = fenceInfo!.split(/\s+/);
      const kind = words.includes('runnable-node') ? 'node' : words.includes('runnable-browser') ? 'browser' : null;
      current = kind === null ? null : { kind, line: index + 1, lines: [] };
    } else if (opens === false) {
      if (current !== null) {
        const code = current.lines.join('\n') + '\n';
        const prints = [...code.matchAll(/\/\/\s*prints:\s*(.*?)\s*$/gm)].map((m) => m[1]!);
        blocks.push({ kind: current.kind, code, line: current.line, prints });
      }
      current = null;
    } else if (current !== null) {
      current.lines.push(line);
    }
  });
  return blocks;
}
