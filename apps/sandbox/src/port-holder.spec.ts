import { createServer, type Server } from 'node:net';
import { findPortHolders, listeningInodes, portInUseMessage, portIsFree } from './port-holder';

/** A /proc/net/tcp excerpt: 127.0.0.1:3000 (0BB8) listening, :8080 (1F90) connected, 0.0.0.0:8080 listening. */
const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 411234 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:D3C2 01 00000000:00000000 00:00000000 00000000     0        0 411240 1 0000000000000000 20 4 30 10 -1
   2: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 411299 1 0000000000000000 100 0 0 10 0
`;

describe('listeningInodes', () => {
  it('finds the listening sockets of a port, not its connections', () => {
    expect(listeningInodes(TCP, 3000)).toEqual(['411234']);
    expect(listeningInodes(TCP, 8080)).toEqual(['411299']);
    expect(listeningInodes(TCP, 9999)).toEqual([]);
  });

  it('reads IPv6 lines (the port after the last colon)', () => {
    const tcp6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:0BB8 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 52001 1 0000000000000000 100 0 0 10 0
`;
    expect(listeningInodes(tcp6, 3000)).toEqual(['52001']);
  });

  it('ignores a truncated or empty text', () => {
    expect(listeningInodes('', 3000)).toEqual([]);
    expect(listeningInodes('header\n   0: 0100007F:0BB8 00000000:0000 0A', 3000)).toEqual([]);
  });
});

describe('findPortHolders and portIsFree', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    port = (server.address() as { port: number }).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('names this very process as the holder of a port it listens on (Linux /proc)', async () => {
    expect(await portIsFree(port)).toBe(false);
    const holders = findPortHolders(port);
    if (process.platform === 'linux') {
      expect(holders.map((h) => h.pid)).toContain(process.pid);
      expect(holders.find((h) => h.pid === process.pid)?.command).toContain('node');
    } else {
      expect(holders).toEqual([]);
    }
  });

  it('finds nobody on a free port', async () => {
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', () => resolve()));
    const freed = (other.address() as { port: number }).port;
    await new Promise((resolve) => other.close(resolve));
    expect(await portIsFree(freed)).toBe(true);
    expect(findPortHolders(freed)).toEqual([]);
  });
});

describe('portInUseMessage', () => {
  it('names the port, its setting, the holder and the way out in one line', () => {
    const line = portInUseMessage(3000, 'HTTP_PORT, the daemon', [{ pid: 4242, command: 'node scripts/demo.mjs' }]);
    expect(line).toBe('port 3000 (HTTP_PORT, the daemon) is in use by pid 4242 (node scripts/demo.mjs) (an earlier demo still running?); stop it with `kill 4242`, or set HTTP_PORT to another port');
    expect(line).not.toContain('\n');
  });

  it('says how to find the holder when /proc cannot tell', () => {
    expect(portInUseMessage(8080, 'SANDBOX_PORT, the agents page', [])).toBe(
      "port 8080 (SANDBOX_PORT, the agents page) is already in use; find what holds it with `ss -ltnp 'sport = :8080'` (or `lsof -nP -iTCP:8080 -sTCP:LISTEN`), stop it, or set SANDBOX_PORT to another port",
    );
  });
});
