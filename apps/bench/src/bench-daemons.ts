import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '@presence-sync/testing';
import { sampleProcess } from './bench-stats';
import { lastLine } from './daemon-log';

/** One daemon process (`presence-sync start`) the benchmark runs. */
export interface BenchDaemon {
  /** 1-based, as in the report. */
  index: number;
  proc: ChildProcess;
  pid: number;
  url: string;
  logFile: string;
}

/**
 * Starts a daemon as its own process on a free port, its output appended to `logFile`.
 * BENCH_DAEMON_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") go to its node, to profile it under load.
 */
export async function startDaemon(root: string, index: number, env: Record<string, string>, logFile: string): Promise<BenchDaemon> {
  const port = await freePort();
  const out = openSync(logFile, 'a');
  const nodeArgs = (process.env.BENCH_DAEMON_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(
    process.execPath,
    [...nodeArgs, '-r', join(__dirname, 'exit-with-parent.preload.js'), join(root, 'bin', 'presence-sync.js'), 'start'],
    { cwd: root, env: { ...process.env, ...env, HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port) }, stdio: ['pipe', out, out] },
  );
  closeSync(out);
  if (proc.pid === undefined) throw new Error(`daemon ${index} did not start (node at ${process.execPath})`);
  return { index, proc, pid: proc.pid, url: `http://127.0.0.1:${port}`, logFile };
}

/** Waits until the daemon answers `/ready` 200; fails with one line when it exits first or takes too long. */
export async function whenReady(daemon: BenchDaemon, timeoutMs: number, logShown: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (daemon.proc.exitCode !== null || daemon.proc.signalCode !== null) {
      throw new Error(`daemon ${daemon.index} exited (${daemon.proc.exitCode ?? daemon.proc.signalCode}) before it was ready${lastLine(daemon.logFile)}: see ${logShown}`);
    }
    const res = await fetch(`${daemon.url}/ready`).catch(() => undefined);
    if (res?.status === 200) return;
    if (Date.now() > deadline) throw new Error(`daemon ${daemon.index} was not ready after ${timeoutMs / 1000} s: see ${logShown}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The daemon that has exited, if one has. */
export function exitedDaemon(daemons: readonly BenchDaemon[]): BenchDaemon | undefined {
  return daemons.find((d) => d.proc.exitCode !== null || d.proc.signalCode !== null);
}

/** CPU (user + system, ms) each daemon has used so far; 0 for one that is gone. */
export function daemonCpuMs(daemons: readonly BenchDaemon[]): number[] {
  return daemons.map((d) => sampleProcess(d.pid)?.cpuMs ?? 0);
}

/** SIGTERM, then SIGKILL after `timeoutMs`; all at once, safe to call twice. */
export async function stopDaemons(daemons: readonly BenchDaemon[], timeoutMs = 15_000): Promise<void> {
  await Promise.all(daemons.map(async ({ proc }) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }));
}
