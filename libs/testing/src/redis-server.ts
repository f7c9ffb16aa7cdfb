import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throw-away redis-server for tests, the demo and the benchmark. */
export interface RedisServerHandle {
  url: string;
  port: number;
  /**
   * Stops the server; safe to call twice. `SIGKILL` kills it without a shutdown (what survives is what the AOF
   * already holds: with `appendonly`, every acknowledged write). Default `SIGTERM`.
   */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
}

export const REDIS_INSTALL_HINT =
  'redis-server was not found on PATH: install it with `sudo apt-get install -y redis-server` ' +
  '(macOS: `brew install redis`), or set REDIS_URL to a Redis you already run';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let buffer = '';
    socket.setTimeout(500);
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => { socket.destroy(); resolve(false); });
    socket.on('data', (chunk) => {
      buffer += chunk.toString();
      // A server with a password answers -NOAUTH: it is up all the same.
      if (buffer.includes('\r\n')) { socket.destroy(); resolve(buffer.startsWith('+PONG') || buffer.startsWith('-NOAUTH')); }
    });
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
  });
}

export function hasRedisServerBinary(): boolean {
  const probe = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  return !probe.error && probe.status === 0;
}

export interface RedisServerOptions {
  /** A fixed port (default: a free one). */
  port?: number;
  timeoutMs?: number;
  /**
   * The data directory. Given: it is the caller's (kept on stop, so a server started again on it finds its
   * data). Default: a fresh temporary directory removed on stop.
   */
  dir?: string;
  /** AOF persistence with `appendfsync always` (every acknowledged write is on disk). Default: no persistence. */
  appendonly?: boolean;
  /** More `redis-server` arguments, after the defaults (e.g. `['--requirepass', pw]`, cluster settings). */
  args?: string[];
}

/**
 * Starts `redis-server` on a free loopback port (or `options.port`) and waits until it answers PING. By default
 * with no persistence in a throw-away directory; `appendonly` and `dir` make it survive a restart.
 * Fails with the install command when the binary is missing.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServerHandle> {
  if (!hasRedisServerBinary()) throw new Error(REDIS_INSTALL_HINT);
  const port = options.port ?? (await freePort());
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'presence-sync-redis-'));
  const persistence = options.appendonly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  return launchRedisProcess(
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', dir,
      '--maxmemory-policy', 'noeviction', '--loglevel', 'warning', ...(options.args ?? [])],
    { port, dir, ownDir, timeoutMs: options.timeoutMs },
  );
}

/**
 * Runs `redis-server` with these arguments (a plain server, a cluster node or a Sentinel) until it answers on
 * `where.port`. `ownDir`: the directory is removed on stop. Shared by the cluster and Sentinel starters.
 */
export async function launchRedisProcess(args: string[], where: { port: number; dir: string; ownDir: boolean; timeoutMs?: number }): Promise<RedisServerHandle> {
  const { port, dir, ownDir } = where;
  const child: ChildProcess = spawn(
    'redis-server',
    args,
    // Its own process group: a Ctrl-C in the terminal reaches only our process, which stops Redis last, after
    // the daemon and the emulators (in the terminal's group Redis died first and the daemon's shutdown spewed
    // connection errors).
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  let exited = false;
  // Not left behind when our process ends without calling stop().
  const killOnExit = () => { if (!exited) child.kill('SIGKILL'); };
  process.once('exit', killOnExit);
  let stderr = '';
  child.stderr?.on('data', (c) => { stderr += c.toString(); });
  child.once('exit', () => { exited = true; process.removeListener('exit', killOnExit); });
  const deadline = Date.now() + (where.timeoutMs ?? 10_000);
  while (!(await ping(port))) {
    if (exited) throw new Error(`redis-server exited at start on port ${port}: ${stderr.trim() || 'no output'}`);
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`redis-server did not answer on port ${port}`); }
    await new Promise((r) => setTimeout(r, 20));
  }
  let stopping: Promise<void> | undefined;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop(signal = 'SIGTERM') {
      stopping ??= new Promise<void>((resolve) => {
        const done = () => { if (ownDir) rmSync(dir, { recursive: true, force: true }); resolve(); };
        if (exited) return done();
        child.once('exit', done);
        child.kill(signal);
        setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 3000).unref();
      });
      return stopping;
    },
  };
}
