import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';

/** The TCP state `/proc/net/tcp` writes for a listening socket. */
const TCP_LISTEN = '0A';
/** Longest command line shown for a holder. */
const MAX_COMMAND_CHARS = 120;

/** A process holding a port: its id and command line. */
export interface PortHolder {
  pid: number;
  command: string;
}

/**
 * The socket inodes listening on `port` in a `/proc/net/tcp` or `/proc/net/tcp6` text (Linux): lines of
 * `sl local_address rem_address st … inode`, the address as hex `IP:PORT`.
 */
export function listeningInodes(procNetTcp: string, port: number): string[] {
  const inodes: string[] = [];
  for (const line of procNetTcp.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const [, local, , state] = fields;
    const hexPort = local.split(':').pop() ?? '';
    if (state === TCP_LISTEN && Number.parseInt(hexPort, 16) === port && fields[9] !== '0') inodes.push(fields[9]);
  }
  return inodes;
}

/**
 * The processes listening on `port`, from /proc (Linux; only the processes this user may inspect). Empty where
 * /proc cannot tell (another OS, another user's process).
 */
export function findPortHolders(port: number, proc = '/proc'): PortHolder[] {
  const inodes = new Set<string>();
  for (const table of ['net/tcp', 'net/tcp6']) {
    try {
      for (const inode of listeningInodes(readFileSync(`${proc}/${table}`, 'utf8'), port)) inodes.add(inode);
    } catch {
      // no such table here (no IPv6, no /proc)
    }
  }
  if (inodes.size === 0) return [];
  const holders: PortHolder[] = [];
  let pids: string[];
  try {
    pids = readdirSync(proc).filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`${proc}/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to inspect
    }
    const holds = fds.some((fd) => {
      try {
        const target = readlinkSync(`${proc}/${pid}/fd/${fd}`);
        return target.startsWith('socket:[') && inodes.has(target.slice(8, -1));
      } catch {
        return false;
      }
    });
    if (!holds) continue;
    let command = '';
    try {
      command = readFileSync(`${proc}/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    } catch {
      // exited meanwhile
    }
    holders.push({ pid: Number(pid), command: command.length > MAX_COMMAND_CHARS ? `${command.slice(0, MAX_COMMAND_CHARS - 1)}…` : command });
  }
  return holders;
}

/** Whether `host:port` can be listened on now (the listener is closed again at once). */
export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? resolve(false) : reject(error)));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * One line saying which port is taken (`what`: the setting and its use) and by whom, or how to find out, e.g.
 * `port 3000 (HTTP_PORT, the daemon) is in use by pid 4242 (node scripts/demo.mjs): a demo still running? …`.
 */
export function portInUseMessage(port: number, what: string, holders: readonly PortHolder[]): string {
  const setting = what.split(',')[0];
  if (holders.length === 0) {
    return `port ${port} (${what}) is already in use; find what holds it with \`ss -ltnp 'sport = :${port}'\` (or \`lsof -nP -iTCP:${port} -sTCP:LISTEN\`), stop it, or set ${setting} to another port`;
  }
  const who = holders.map((h) => `pid ${h.pid}${h.command ? ` (${h.command})` : ''}`).join(', ');
  const demo = holders.some((h) => /demo|sandbox/.test(h.command)) ? ' (an earlier demo still running?)' : '';
  return `port ${port} (${what}) is in use by ${who}${demo}; stop it with \`kill ${holders.map((h) => h.pid).join(' ')}\`, or set ${setting} to another port`;
}
