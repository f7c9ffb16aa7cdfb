import { randomUUID } from 'node:crypto';
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { RetryableWriteError } from '@presence-sync/domain';
import { JsforceSalesforceAdapter, type BayeuxMessage } from '@presence-sync/salesforce';
import {
  AGENTS, CLIENT_SECRET, INTEGRATION, MemoryCheckpoints, PUSH_TOPIC, RecordingSink, SalesforceEmulator, settingsFor, startEmulator, until,
} from './salesforce-test-kit';

/** One HTTP request the proxy carried: inside a `CONNECT` tunnel (plain HTTP target, read as it passes) or absolute-URI. */
interface CarriedRequest {
  via: 'tunnel' | 'absolute-uri';
  /** `host:port` the proxy connected to. */
  authority: string;
  method: string;
  path: string;
  /** Absolute-URI requests only: the request and response bodies. */
  body?: string;
  response?: string;
}

/**
 * A forward proxy on 127.0.0.1: `CONNECT host:port` tunnels (what https-proxy-agent, jsforce's REST transport,
 * sends even for an http:// target) and absolute-URI requests (what faye's long-polling transport sends for an
 * http:// endpoint). It records what it carried and closes every socket it saw on `close()`.
 */
class ForwardProxy {
  /** Authorities of the `CONNECT` tunnels opened. */
  readonly tunnels: string[] = [];
  private readonly tunnelTraffic: { authority: string; sent: string[] }[] = [];
  private readonly forwarded: CarriedRequest[] = [];
  private readonly sockets = new Set<Duplex>();
  private readonly agent = new Agent({ keepAlive: false });
  private readonly server = createServer((req, res) => this.forward(req, res));
  private port?: number;

  constructor() {
    this.server.on('connection', (socket: Socket) => this.track(socket));
    this.server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.tunnel(req, socket, head));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    if (this.port === undefined) throw new Error('ForwardProxy: not started');
    return `http://127.0.0.1:${this.port}`;
  }

  /** Every request carried so far, tunnelled ones first (their request lines read from the client's bytes). */
  requests(): CarriedRequest[] {
    const tunnelled = this.tunnelTraffic.flatMap(({ authority, sent }) =>
      [...sent.join('').matchAll(/(?:^|\r\n)(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (\S+) HTTP\/1\.[01]\r\n/g)]
        .map((m): CarriedRequest => ({ via: 'tunnel', authority, method: m[1], path: m[2] })));
    return [...tunnelled, ...this.forwarded];
  }

  rest(): CarriedRequest[] {
    return this.requests().filter((r) => r.path.startsWith('/services/'));
  }

  cometd(): CarriedRequest[] {
    return this.requests().filter((r) => r.path.startsWith('/cometd/'));
  }

  /** Stops listening and destroys every client and upstream socket (no open handles). */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    this.server.closeAllConnections();
    this.agent.destroy();
    await closed;
  }

  private track<T extends Duplex>(socket: T): T {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    return socket;
  }

  private tunnel(req: IncomingMessage, client: Duplex, head: Buffer): void {
    const authority = req.url ?? '';
    this.tunnels.push(authority);
    const traffic = { authority, sent: [] as string[] };
    this.tunnelTraffic.push(traffic);
    const target = /^([^:]+):(\d+)$/.exec(authority);
    if (!target) {
      client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    const upstream = this.track(connect(Number(target[2]), target[1]));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) {
        traffic.sent.push(head.toString('latin1'));
        upstream.write(head);
      }
      // The target is plain HTTP, so the request lines can be read as they pass.
      client.on('data', (chunk: Buffer) => traffic.sent.push(chunk.toString('latin1')));
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end('absolute URI expected');
      return;
    }
    const carried: CarriedRequest = { via: 'absolute-uri', authority: target.host, method: req.method ?? 'GET', path: target.pathname + target.search, body: '', response: '' };
    this.forwarded.push(carried);
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = httpRequest({
      host: target.hostname, port: Number(target.port || 80), method: req.method, path: carried.path, headers, agent: this.agent,
    }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.on('data', (chunk: Buffer) => {
        carried.response += chunk.toString('utf8');
      });
      answer.pipe(res);
    });
    upstream.on('socket', (socket) => this.track(socket));
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.on('data', (chunk: Buffer) => {
      carried.body += chunk.toString('utf8');
    });
    req.pipe(upstream);
  }
}

/** A local port nothing listens on: connecting to it is refused. */
async function refusingPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The Bayeux messages of a carried request or response body. */
function bayeux(text: string | undefined): BayeuxMessage[] {
  if (!text) return [];
  try {
    const parsed: unknown = JSON.parse(text);
    return (Array.isArray(parsed) ? parsed : [parsed]) as BayeuxMessage[];
  } catch {
    return [];
  }
}

let emulator: SalesforceEmulator;
let proxy: ForwardProxy;
let adapter: JsforceSalesforceAdapter | undefined;

beforeEach(async () => {
  emulator = await startEmulator();
  proxy = await new ForwardProxy().start();
});
afterEach(async () => {
  await adapter?.stop();
  adapter = undefined;
  await emulator.stop();
  await proxy.close();
});

describe('SALESFORCE_PROXY_URL', () => {
  it('carries login, queries, the push and the CometD stream through the proxy', async () => {
    const emulatorAuthority = new URL(emulator.baseUrl).host;
    adapter = new JsforceSalesforceAdapter({ settings: { ...settingsFor(emulator), proxyUrl: proxy.url }, checkpoints: new MemoryCheckpoints() });
    const sink = new RecordingSink();

    // REST: login and the status catalog.
    const identity = await adapter.connect();
    expect(identity.userId).toBe(emulator.userId(INTEGRATION.username));
    const statuses = await adapter.listStatuses();
    expect(statuses.map((s) => s.developerName)).toContain('Available_Chat');

    // Streaming: a presence change made in Salesforce reaches the sink.
    await adapter.start(sink);
    const omar = emulator.userId(AGENTS[1]);
    emulator.agentSetStatus(AGENTS[1], 'Lunch');
    await until(() => sink.statusesOf(omar).includes('Lunch'), 'the change over the stream');

    // REST: the console command push; the console applies it and the stream shows it.
    await emulator.openConsole(AGENTS[0]);
    const ana = emulator.userId(AGENTS[0]);
    await expect(adapter.sendStatus({ userId: ana, status: 'Available_Chat', commandId: randomUUID(), expiresAt: Date.now() + 30_000 }))
      .resolves.toEqual({ kind: 'confirm-pending' });
    expect(emulator.pushes.at(-1)?.userIds).toEqual([ana]);
    await until(() => sink.statusesOf(ana).includes('Available_Chat'), 'the pushed status over the stream');

    // REST went through CONNECT tunnels to the emulator — every REST call the emulator answered.
    expect(proxy.tunnels.length).toBeGreaterThan(0);
    expect(new Set(proxy.tunnels)).toEqual(new Set([emulatorAuthority]));
    const rest = proxy.rest();
    expect(rest.filter((r) => r.method === 'POST' && r.path === '/services/oauth2/token')).toHaveLength(1);
    expect(rest.some((r) => r.method === 'GET' && r.path.startsWith('/services/data/v62.0/query') && r.path.includes('ServicePresenceStatus'))).toBe(true);
    expect(rest.some((r) => r.method === 'POST' && /^\/services\/data\/v62\.0\/sobjects\/StreamingChannel\/\w+\/push$/.test(r.path))).toBe(true);
    expect(rest.filter((r) => r.path.startsWith('/services/data/'))).toHaveLength(emulator.apiCalls);

    // CometD went through the proxy as absolute-URI requests: handshake, subscribe, and the long-poll that
    // brought the events, all of the one client the emulator knows for the integration user.
    const cometd = proxy.cometd();
    expect(cometd.length).toBeGreaterThan(0);
    expect(cometd.every((r) => r.via === 'absolute-uri' && r.authority === emulatorAuthority && r.path === '/cometd/62.0')).toBe(true);
    const sent = cometd.flatMap((r) => bayeux(r.body));
    const received = cometd.flatMap((r) => bayeux(r.response));
    expect(sent.some((m) => m.channel === '/meta/handshake')).toBe(true);
    expect(sent.some((m) => m.channel === '/meta/subscribe' && m.subscription === `/topic/${PUSH_TOPIC}`)).toBe(true);
    const [client] = emulator.streamingClients(INTEGRATION.username);
    expect(client?.channels).toEqual([`/topic/${PUSH_TOPIC}`]);
    expect(sent.some((m) => m.channel === '/meta/connect' && m.clientId === client.clientId)).toBe(true);
    const events = received.filter((m) => m.channel === `/topic/${PUSH_TOPIC}`);
    const userIds = events.map((m) => (m.data as { sobject?: { UserId?: string } }).sobject?.UserId);
    expect(userIds).toEqual(expect.arrayContaining([omar, ana]));
  });

  it('fails the login with one clear line, no secret in it, when the proxy refuses connections', async () => {
    const port = await refusingPort();
    const proxyPassword = 'proxy-pass-93c1e';
    adapter = new JsforceSalesforceAdapter({
      settings: { ...settingsFor(emulator), proxyUrl: `http://relay:${proxyPassword}@127.0.0.1:${port}` }, checkpoints: new MemoryCheckpoints(),
    });
    const error = await adapter.connect().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableWriteError);
    const e = error as RetryableWriteError;
    expect(e.reason).toBe('network');
    expect(e.message.split('\n')).toHaveLength(1);
    // Names the proxy (the refusing party), its credentials redacted.
    expect(e.message).toBe(`Salesforce login (SALESFORCE_AUTH=password) could not reach ${emulator.baseUrl} through the proxy http://***@127.0.0.1:${port}: ECONNREFUSED`);
    for (const secret of [INTEGRATION.password, INTEGRATION.securityToken, CLIENT_SECRET, proxyPassword]) expect(e.message).not.toContain(secret);
  });
});
