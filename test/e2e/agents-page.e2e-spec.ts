/// <reference lib="dom" />
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Sandbox } from '../../apps/sandbox/src/sandbox';

/** Debian's chromium (`.ci/run` installs it when test/e2e/needs-chromium exists); playwright downloads no browser. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ADMIN = { ADMIN_DASHBOARD: 'on', ADMIN_USER: 'ops', ADMIN_PASSWORD: 'page-test-password' };

/** The sandbox's agents page in a real headless Chromium: the two controls act like the agent in each app. */
describe('agents page in headless Chromium', () => {
  let sandbox: Sandbox;
  let browser: Browser;
  let page: Page;
  let daemon: string;
  const prefix = `t${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install it with \`sudo apt-get install -y chromium\` (or set CHROMIUM_PATH)`);
    sandbox = new Sandbox({
      redisUrl: process.env.REDIS_URL, redisPrefix: prefix, rulesDir: join(__dirname, '..', '..', 'rules'), rulesWatch: false, logLevel: 'silent',
      daemonEnv: { ...ADMIN, DIRECTORY_REFRESH_INTERVAL_MS: '0', RECONCILE_INTERVAL_MS: '0', SALESFORCE_OFFLINE_HOLD_MS: '300' },
    });
    const urls = await sandbox.start();
    daemon = urls.daemon;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage();
    await page.goto(urls.page);
    await page.waitForSelector('#sf-a-1001');
  });

  afterAll(async () => {
    await browser?.close();
    await sandbox?.stop();
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
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

  it('the queue dashboard asks for credentials, and opens with them', async () => {
    // Chromium answers a Basic challenge it has no credentials for by failing the navigation with this code.
    await expect(page.goto(`${daemon}/admin/queues`)).rejects.toThrow(/ERR_INVALID_AUTH_CREDENTIALS/);
    const context = await browser.newContext({ httpCredentials: { username: ADMIN.ADMIN_USER, password: ADMIN.ADMIN_PASSWORD } });
    const admin = await context.newPage();
    const response = await admin.goto(`${daemon}/admin/queues`);
    expect(response?.status()).toBe(200);
    await context.close();
  });
});
