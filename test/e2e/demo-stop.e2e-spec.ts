import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { freePort } from '@presence-sync/testing';
import { DEMO_SETTINGS_FILE } from '../../apps/sandbox/src/cli-settings.file';
import { portIsFree } from '../../apps/sandbox/src/port-holder';
import { waitFor } from '../support/daemon-harness';
import { ROOT, runProcess } from '../support/run-process';

/*
 * `npm run demo` as a person (or an IDE's stop button, or `timeout`) runs and stops it: through npm and its
 * `sh -c`, with a throw-away redis-server of its own, on ports of its own.
 */

interface Proc {
  pid: number;
  ppid: number;
  state: string;
  command: string;
}

/** Every process now, from /proc (`pid (comm) state ppid …`; comm may hold spaces and parentheses). */
function processes(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const command = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      out.push({ pid: Number(name), state: rest[0], ppid: Number(rest[1]), command });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** The process and everything it started, transitively. */
function tree(root: number): Proc[] {
  const all = processes();
  const found = all.filter((p) => p.pid === root);
  for (let i = 0; i < found.length; i++) found.push(...all.filter((p) => p.ppid === found[i].pid));
  return found;
}

/** Running: exists and is not a zombie (an orphan's zombie may wait for a reaper that never comes in a container). */
function alive(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
  } catch {
    return false;
  }
}

interface Demo {
  npm: ChildProcess;
  output: () => string;
  ports: { page: number; daemon: number };
}

/** The environment of a person's shell: no REDIS_URL (so the demo starts its own Redis), fresh ports. */
async function demoEnv(): Promise<{ env: NodeJS.ProcessEnv; ports: { page: number; daemon: number } }> {
  const ports = { page: await freePort(), daemon: await freePort() };
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH, HOME: process.env.HOME, SANDBOX_PORT: String(ports.page), HTTP_PORT: String(ports.daemon),
    REDIS_PREFIX: `demo${randomUUID().slice(0, 8)}`, ADMIN_DASHBOARD: 'off',
  };
  return { env, ports };
}

async function startDemo(): Promise<Demo> {
  const { env, ports } = await demoEnv();
  // Its own process group, so a failing test can still clean up everything it started.
  const npm = spawn('npm', ['run', 'demo'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  npm.stdout?.setEncoding('utf8').on('data', (s: string) => { output += s; });
  npm.stderr?.setEncoding('utf8').on('data', (s: string) => { output += s; });
  await waitFor(() => output.includes('presence-sync sandbox is running') || npm.exitCode !== null, 'the demo banner', 90_000);
  if (!output.includes('presence-sync sandbox is running')) throw new Error(`the demo did not start:\n${output}`);
  return { npm, output: () => output, ports };
}

describe('npm run demo: stopping it stops everything it started', () => {
  const started: Proc[] = [];
  const groups: number[] = [];

  beforeAll(async () => {
    // The demo runs the built code (dist/).
    const build = await runProcess('npm', ['run', '--silent', 'build'], { ...process.env }, 180_000);
    if (build.code !== 0) throw new Error(`npm run build failed (${build.code}):\n${build.stdout}\n${build.stderr}`);
  }, 200_000);

  afterAll(() => {
    // Only after a failure is anything left: end it so no later test meets these ports or processes.
    for (const group of groups) try { process.kill(-group, 'SIGKILL'); } catch { /* gone */ }
    for (const p of started) if (alive(p.pid)) try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
  });

  it('SIGTERM to the npm process: the node process and its redis-server exit, and both ports are free', async () => {
    const demo = await startDemo();
    groups.push(demo.npm.pid as number);
    const before = tree(demo.npm.pid as number);
    started.push(...before);
    const node = before.find((p) => /scripts\/demo\.mjs/.test(p.command) && !p.command.startsWith('sh '));
    const redis = before.find((p) => p.command.startsWith('redis-server'));
    expect(node).toBeDefined();
    expect(redis).toBeDefined();
    expect(await portIsFree(demo.ports.daemon)).toBe(false);
    expect(await portIsFree(demo.ports.page)).toBe(false);
    // The CLI's settings file is there while the demo runs, and goes with it.
    const settingsFile = join(ROOT, DEMO_SETTINGS_FILE);
    expect(existsSync(settingsFile)).toBe(true);

    process.kill(demo.npm.pid as number, 'SIGTERM');

    await waitFor(() => before.every((p) => !alive(p.pid)), `every process of the demo to exit (${before.map((p) => `${p.pid} ${p.command}`).join('; ')})`, 20_000);
    expect(await portIsFree(demo.ports.daemon)).toBe(true);
    expect(await portIsFree(demo.ports.page)).toBe(true);
    expect(demo.output()).toMatch(/stopping page, daemon, emulators, redis/);
    expect(existsSync(settingsFile)).toBe(false);
  }, 120_000);

  it('SIGHUP (the terminal closed) stops the demo and its redis-server as well', async () => {
    const demo = await startDemo();
    groups.push(demo.npm.pid as number);
    const before = tree(demo.npm.pid as number);
    started.push(...before);
    const node = before.find((p) => /scripts\/demo\.mjs/.test(p.command) && !p.command.startsWith('sh '));
    expect(node).toBeDefined();

    process.kill((node as Proc).pid, 'SIGHUP');

    await waitFor(() => before.every((p) => !alive(p.pid)), 'every process of the demo to exit', 20_000);
    expect(demo.output()).toMatch(/SIGHUP: stopping page, daemon, emulators, redis/);
    expect(await portIsFree(demo.ports.daemon)).toBe(true);
  }, 120_000);

  it('a port already taken at start: one line names the port, its setting and the process holding it', async () => {
    const { env, ports } = await demoEnv();
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(ports.daemon, '127.0.0.1', () => resolve()));
    try {
      const r = await runProcess(process.execPath, [join(ROOT, 'scripts', 'demo.mjs')], env, 60_000);
      expect(r.code).toBe(1);
      const lines = r.stderr.split('\n').filter((l) => l.length > 0);
      expect(lines).toHaveLength(1);
      // This test's own process holds it: its pid and command line are named.
      expect(lines[0]).toContain(`presence-sync demo: cannot start: port ${ports.daemon} (HTTP_PORT, the daemon) is in use by pid ${process.pid} (`);
      expect(lines[0]).toMatch(new RegExp(`stop it with \`kill ${process.pid}\`, or set HTTP_PORT to another port$`));
      // Nothing was started: the check comes first.
      expect(r.stdout).not.toMatch(/sandbox is running/);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  }, 90_000);
});
