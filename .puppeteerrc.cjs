/**
 * Puppeteer must never download a browser: this project drives the system Chromium
 * (/usr/bin/chromium, from Debian's `chromium` package) or PUPPETEER_EXECUTABLE_PATH.
 * @type {import("puppeteer").Configuration}
 */
module.exports = {
  skipDownload: true,
  chrome: { skipDownload: true },
  'chrome-headless-shell': { skipDownload: true },
  firefox: { skipDownload: true },
};
