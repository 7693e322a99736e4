import type { Page } from 'puppeteer';

export declare const CHROMIUM_ARGS: readonly string[];
export declare function chromiumPath(): string | undefined;
export interface BrowserSession {
  readonly page: Page;
  readonly url: (path: string) => string;
  close(): Promise<void>;
}
export declare function openBrowser(): Promise<BrowserSession>;
