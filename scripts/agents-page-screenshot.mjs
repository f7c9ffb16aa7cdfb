#!/usr/bin/env node
// Retakes the README's picture of the agents page (docs/agents-page.png) from a running demo, in headless
// Chromium (Debian's `chromium`, or CHROMIUM_PATH). Start `npm run demo` first, change a few states on the page
// so the rows show decisions and the sync figures have writes, then:
//   node scripts/agents-page-screenshot.mjs [page URL, default http://127.0.0.1:8080] [output, default docs/agents-page.png]
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

const url = process.argv[2] ?? 'http://127.0.0.1:8080';
const out = process.argv[3] ?? 'docs/agents-page.png';
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(executablePath)) {
  console.error(`agents-page-screenshot: no Chromium at ${executablePath}: install it with \`sudo apt-get install -y chromium\` (or set CHROMIUM_PATH)`);
  process.exit(1);
}
const browser = await chromium.launch({ executablePath, args: ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars'] });
try {
  const page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
  try {
    await page.goto(url);
  } catch (error) {
    console.error(`agents-page-screenshot: cannot open ${url} (is \`npm run demo\` running?): ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    process.exitCode = 1;
  }
  if (!process.exitCode) {
    await page.waitForSelector('#rows tr');
    await page.screenshot({ path: out });
    console.log(`agents-page-screenshot: ${url} → ${out}`);
  }
} finally {
  await browser.close();
}
