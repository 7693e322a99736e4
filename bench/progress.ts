// Echoes a bench page's progress lines (console messages starting with PROGRESS) with the seconds
// since `started`: on one line rewritten in place on a terminal, one line each otherwise.
import type { BrowserSession } from '../scripts/browser.js';

/** Starts echoing `session`'s progress; returns whether stdout is a terminal. */
export function echoProgress(session: BrowserSession, started: number): boolean {
  const tty = process.stdout.isTTY;
  session.page.on('console', (message) => {
    const text = message.text();
    if (!text.startsWith('PROGRESS ')) return;
    const line = `bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s  ${text.slice(9)}`;
    if (tty) process.stdout.write(`\r\x1b[K${line}`);
    else console.log(line);
  });
  return tty;
}
