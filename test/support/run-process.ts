import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** The repository root: commands run from there, as a user runs them. */
export const ROOT = join(__dirname, '..', '..');

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end from the repository root (killed after `timeoutMs`). */
export function runProcess(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => { clearTimeout(timer); reject(e); });
    child.once('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
}

/**
 * The CLI from its TypeScript sources (what `npx presence-sync …` runs, without a build), from the repository
 * root: `args` as typed after `presence-sync`.
 */
export function runCliFromSource(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<Run> {
  const main = `require('./apps/presence-sync/src/cli.ts').main(['node', 'presence-sync', ${args.map((a) => JSON.stringify(a)).join(', ')}]).then((code) => process.exit(code));`;
  return runProcess(process.execPath, ['-r', './test/support/ts-register.js', '-e', main], env, timeoutMs);
}
