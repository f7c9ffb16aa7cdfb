import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** One HTTP request the proxy carried: inside a `CONNECT` tunnel (plain HTTP target, read as it passes) or absolute-URI. */
export interface CarriedRequest {
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
 * http:// endpoint). It records what it carried and closes every socket it saw on `close()`. `cut()` plays a
 * network outage between its clients and their targets until `restore()`.
 */
export class ForwardProxy {
  /** Authorities of the `CONNECT` tunnels opened. */
  readonly tunnels: string[] = [];
  private readonly tunnelTraffic: { authority: string; sent: string[] }[] = [];
  private readonly forwarded: CarriedRequest[] = [];
  private readonly sockets = new Set<Duplex>();
  private readonly agent = new Agent({ keepAlive: false });
  private readonly server = createServer((req, res) => this.forward(req, res));
  private port?: number;
  private isCut = false;

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

  /**
   * From now until `restore()`: every connection open through the proxy (tunnels, a held long-poll) is broken,
   * new requests are answered 502 and new tunnels refused, as a gateway whose upstream is unreachable does.
   */
  cut(): void {
    this.isCut = true;
    for (const socket of this.sockets) socket.destroy();
  }

  restore(): void {
    this.isCut = false;
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
    if (this.isCut) {
      client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      return;
    }
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
    if (this.isCut) {
      res.writeHead(502).end();
      return;
    }
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
