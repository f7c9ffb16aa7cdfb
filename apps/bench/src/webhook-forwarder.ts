import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What one target answered, for the report. */
export interface ForwarderTargetStats {
  url: string;
  forwarded: number;
  /** Answers other than 2xx, and requests that never got an answer (502 to the sender). */
  refused: number;
  /** The first line of the last refusal's body, to tell a daemon problem from a load problem. */
  lastRefusal?: string;
}

/**
 * The one webhook address in front of the daemons, as a load balancer is: each request goes to the next target
 * in turn, streamed through (body and answer untouched), on kept-alive connections. Only what a local benchmark
 * needs: no health checks, no retries (the sender retries what is refused).
 */
export class WebhookForwarder {
  private server?: Server;
  private readonly targets: ForwarderTargetStats[];
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 128 });
  private turn = 0;

  constructor(urls: string[], private readonly timeoutMs = 30_000) {
    if (urls.length === 0) throw new Error('webhook forwarder: no target');
    this.targets = urls.map((url) => ({ url, forwarded: 0, refused: 0 }));
  }

  /** Listens on a free loopback port; resolves to its base URL. */
  async start(): Promise<string> {
    const server = createServer((req, res) => this.forward(req, res));
    server.keepAliveTimeout = 60_000;
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  stats(): ForwarderTargetStats[] {
    return this.targets.map((t) => ({ ...t }));
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const target = this.targets[this.turn++ % this.targets.length];
    target.forwarded++;
    const url = new URL(req.url ?? '/', target.url);
    const headers = { ...req.headers };
    delete headers.host;
    delete headers.connection;
    const upstream = request(url, { method: req.method, headers, agent: this.agent, timeout: this.timeoutMs }, (answer) => {
      const status = answer.statusCode ?? 502;
      if (status >= 300) this.noteRefusal(target, answer);
      res.writeHead(status, answer.headers);
      answer.pipe(res);
    });
    upstream.on('timeout', () => upstream.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
    upstream.on('error', (e) => {
      target.refused++;
      target.lastRefusal = `${url.origin}: ${e.message}`;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end();
    });
    req.pipe(upstream);
  }

  private noteRefusal(target: ForwarderTargetStats, answer: IncomingMessage): void {
    target.refused++;
    let head = '';
    answer.on('data', (chunk: Buffer) => {
      if (head.length < 300) head += chunk.toString('utf8');
    });
    answer.on('end', () => {
      target.lastRefusal = `${answer.statusCode} ${head.split('\n')[0].slice(0, 300)}`;
    });
  }
}
