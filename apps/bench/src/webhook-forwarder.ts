import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The largest request body forwarded (a contact center's webhook batch is far smaller). */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

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
 * in turn (body, path and answer untouched) on kept-alive connections. Only what a local benchmark
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
    // Read whole (a webhook is small; bounded all the same) so that it can be sent again, see below.
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) {
        res.writeHead(413, { 'content-type': 'text/plain' }).end(`body over ${MAX_BODY_BYTES} bytes`);
        return;
      }
      this.send(target, req, Buffer.concat(chunks), res, true);
    });
  }

  private send(target: ForwarderTargetStats, req: IncomingMessage, body: Buffer, res: ServerResponse, mayRetry: boolean): void {
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
    upstream.on('error', (e: NodeJS.ErrnoException) => {
      // A kept-alive connection the target closed as idle just as it was reused: nothing reached the target, so
      // send once more on a fresh one (what Node's documentation advises) rather than refuse the webhook.
      if (mayRetry && upstream.reusedSocket && e.code === 'ECONNRESET') {
        this.send(target, req, body, res, false);
        return;
      }
      target.refused++;
      target.lastRefusal = `${url.origin}: ${e.message}`;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end();
    });
    upstream.end(body);
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
