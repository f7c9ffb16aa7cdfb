/// <reference lib="dom" />
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Sandbox } from '../../apps/sandbox/src/sandbox';

/** Debian's chromium (`.ci/run` installs it when test/e2e/needs-chromium exists); playwright downloads no browser. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ADMIN = { ADMIN_DASHBOARD: 'on', ADMIN_USER: 'ops', ADMIN_PASSWORD: 'page-test-password' };

/** The sandbox's agents page in a real headless Chromium: the controls act like the agent in each app. */
describe('agents page in headless Chromium', () => {
  let sandbox: Sandbox;
  let browser: Browser;
  let page: Page;
  let daemon: string;
  let pageUrl: string;
  let rulesDir: string;
  const prefix = `t${randomUUID().slice(0, 8)}`;
  /** What the agents page's console and network said that an ops person would see as a fault. */
  const consoleErrors: string[] = [];
  const failedRequests: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install it with \`sudo apt-get install -y chromium\` (or set CHROMIUM_PATH)`);
    // A copy of the rules the test may break; the regular status poll is made too slow to matter, so a rule
    // change can only reach the page through the sandbox's watch of the directory.
    rulesDir = join(mkdtempSync(join(tmpdir(), 'ps-page-rules-')), 'rules');
    cpSync(join(__dirname, '..', '..', 'rules'), rulesDir, { recursive: true });
    sandbox = new Sandbox({
      redisUrl: process.env.REDIS_URL, redisPrefix: prefix, rulesDir, rulesWatch: true, logLevel: 'silent', statusIntervalMs: 600_000,
      daemonEnv: { ...ADMIN, DIRECTORY_REFRESH_INTERVAL_MS: '0', RECONCILE_INTERVAL_MS: '0', SALESFORCE_OFFLINE_HOLD_MS: '300' },
    });
    const urls = await sandbox.start();
    daemon = urls.daemon;
    pageUrl = urls.page;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 600 } });
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`${m.text()} (${m.location().url})`); });
    page.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`));
    page.on('response', (r) => { if (r.status() >= 400) failedRequests.push(`${r.status()} ${r.url()}`); });
    page.on('requestfailed', (r) => { if (!r.url().endsWith('/api/events')) failedRequests.push(`${r.failure()?.errorText ?? 'failed'} ${r.url()}`); });
    await page.goto(pageUrl);
    await page.waitForSelector('#sf-a-1001');
  });

  afterAll(async () => {
    await browser?.close();
    await sandbox?.stop();
    if (rulesDir) rmSync(join(rulesDir, '..'), { recursive: true, force: true });
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('the first render already shows the rows, the rule status and the sync figures (no wait for live updates)', async () => {
    const context = await browser.newContext();
    const first = await context.newPage();
    // No live updates at all: whatever shows, the page brought with it.
    await first.route('**/api/events', (route) => route.abort());
    await first.goto(pageUrl, { waitUntil: 'domcontentloaded' });
    const rules = await first.textContent('#rules');
    expect(rules).toMatch(/^version \w+ · loaded .+ · 3 rules · agents linked 20/);
    expect(rules).toContain('no rule errors');
    expect(await first.locator('#rows tr').count()).toBe(20);
    expect(await first.textContent('#sync [data-queue="sync-salesforce"]')).toMatch(/^\d+ waiting · \d+ active · \d+ delayed · \d+ failed$/);
    await context.close();
  });

  it('a Salesforce status chosen on the page moves the contact-center column', async () => {
    await page.selectOption('#sf-a-1001', 'Lunch');
    await page.waitForFunction(() => (document.getElementById('acd-a-1001') as HTMLSelectElement | null)?.value === 'Unavailable:Lunch');
    await page.waitForFunction(() => /tier1-blended/.test(document.getElementById('row-a-1001')?.textContent ?? ''));
  });

  it('a contact-center state chosen on the page moves the Salesforce column', async () => {
    await page.selectOption('#acd-a-1002', 'Unavailable:Break');
    await page.waitForFunction(() => (document.getElementById('sf-a-1002') as HTMLSelectElement | null)?.value === 'Break');
  });

  it('shows the last minute\'s sync latency per direction and the depth of every queue', async () => {
    // The two syncs above landed: both directions have figures, which a fresh load shows.
    await page.reload();
    await page.waitForSelector('#sf-a-1001');
    for (const direction of ['acd->salesforce', 'salesforce->acd']) {
      const text = await page.textContent(`#sync [data-direction="${direction}"]`);
      const m = /^p50 (\d+) ms · p95 (\d+) ms · max (\d+) ms · (\d+) writes? in 60 s$/.exec(text ?? '');
      expect(m).not.toBeNull();
      const [p50, p95, max, count] = (m as RegExpExecArray).slice(1).map(Number);
      expect(count).toBeGreaterThanOrEqual(1);
      expect(p50).toBeLessThanOrEqual(p95);
      expect(p95).toBeLessThanOrEqual(max);
    }
    for (const queue of ['inbound', 'due', 'sync-acd', 'sync-salesforce']) {
      expect(await page.textContent(`#sync [data-queue="${queue}"]`)).toMatch(/^\d+ waiting · \d+ active · \d+ delayed · 0 failed$/);
    }
  });

  it('only the column headers stick when the table scrolls; the agents\' row headers scroll away with their rows', async () => {
    // Agent a-1008 at the top of the viewport: a-1001 to a-1007 have scrolled past.
    await page.evaluate(() => window.scrollTo(0, (document.getElementById('row-a-1008') as HTMLElement).getBoundingClientRect().top + window.scrollY));
    const geometry = await page.evaluate(() => {
      const column = document.querySelector('thead th') as HTMLElement;
      const row = document.querySelector('#row-a-1001 th') as HTMLElement;
      return {
        columnTop: column.getBoundingClientRect().top,
        rowBottom: row.getBoundingClientRect().bottom,
        rowPosition: getComputedStyle(row).position,
        scrolled: window.scrollY,
      };
    });
    expect(geometry.scrolled).toBeGreaterThan(300);
    // The column header row is pinned to the top of the viewport...
    expect(geometry.columnTop).toBe(0);
    // ...and a scrolled-past agent is above it, out of view, not piled up under it.
    expect(geometry.rowPosition).not.toBe('sticky');
    expect(geometry.rowBottom).toBeLessThan(0);
    await page.evaluate(() => window.scrollTo(0, 0));
  });

  it('"Close console" shows what it does: no status control, a notice, and the daemon\'s write held until it opens', async () => {
    await page.click('#console-a-1005');
    await page.waitForSelector('#console-closed-a-1005', { state: 'visible' });
    expect(await page.textContent('#console-closed-a-1005')).toMatch(/held/);
    expect(await page.isDisabled('#sf-a-1005')).toBe(true);
    expect(await page.isDisabled('#chat-a-1005')).toBe(true);
    expect(await page.getAttribute('#row-a-1005', 'class')).toContain('console-closed');
    // A change on the contact-center side now cannot reach the agent's Salesforce status: the row says it is held.
    await page.selectOption('#acd-a-1005', 'Unavailable:Break');
    await page.waitForFunction(() => /held/.test(document.querySelector('#row-a-1005 td:last-child')?.textContent ?? ''), undefined, { timeout: 15_000 });
    expect(await page.inputValue('#sf-a-1005')).not.toBe('Break');
    // Opened again: the controls come back and the held write lands.
    await page.click('#console-a-1005');
    await page.waitForSelector('#console-closed-a-1005', { state: 'detached' });
    expect(await page.isDisabled('#sf-a-1005')).toBe(false);
    await page.waitForFunction(() => (document.getElementById('sf-a-1005') as HTMLSelectElement | null)?.value === 'Break', undefined, { timeout: 20_000 });
  }, 45_000);

  it('a rule file change shows on the page as soon as the daemon reloaded it, not at the next poll', async () => {
    const file = join(rulesDir, 'tier1-blended.json');
    const good = readFileSync(file, 'utf8');
    const started = Date.now();
    writeFileSync(file, good.replace('"conflictPolicy": "latest"', '"conflictPolicy": "newest"'));
    // The regular poll is 10 minutes away: only the push after the reload can show this within the wait.
    await page.waitForFunction(() => /tier1-blended\.json.*conflictPolicy/.test(document.querySelector('#rules .err')?.textContent ?? ''), undefined, { timeout: 5_000 });
    const shownAfterMs = Date.now() - started;
    writeFileSync(file, good);
    await page.waitForFunction(() => /no rule errors/.test(document.getElementById('rules')?.textContent ?? ''), undefined, { timeout: 5_000 });
    expect(shownAfterMs).toBeLessThan(5_000);
  });

  it('the page loads without a console error or a failed request (no 404 for an icon or an asset)', async () => {
    await page.reload();
    await page.waitForSelector('#sf-a-1001');
    expect(failedRequests).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  it('the queue dashboard asks for credentials, and opens with them', async () => {
    const anonymous = await browser.newPage();
    // Chromium answers a Basic challenge it has no credentials for by failing the navigation with this code.
    await expect(anonymous.goto(`${daemon}/admin/queues`)).rejects.toThrow(/ERR_INVALID_AUTH_CREDENTIALS/);
    await anonymous.close();
    const context = await browser.newContext({ httpCredentials: { username: ADMIN.ADMIN_USER, password: ADMIN.ADMIN_PASSWORD } });
    const admin = await context.newPage();
    const response = await admin.goto(`${daemon}/admin/queues`);
    expect(response?.status()).toBe(200);
    await context.close();
  });
});
