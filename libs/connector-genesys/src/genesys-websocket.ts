import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import * as http from 'node:http';
import * as https from 'node:https';
import type { Duplex } from 'node:stream';

/**
 * A minimal RFC 6455 WebSocket (text frames, ping/pong, close), enough for Genesys Cloud's notification channels.
 * The project has no direct WebSocket dependency (`ws` is not installed) and adds none; Node 20 has no stable
 * WebSocket client. The emulator reuses the frame codec for its server side.
 */

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key`. */
export function websocketAccept(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

export const WS_OPCODE = { text: 0x1, close: 0x8, ping: 0x9, pong: 0xa } as const;

/** One frame; clients mask, servers do not. */
export function encodeFrame(opcode: number, payload: Buffer, mask: boolean): Buffer {
  const len = payload.length;
  const header: number[] = [0x80 | opcode];
  const maskBit = mask ? 0x80 : 0;
  if (len < 126) header.push(maskBit | len);
  else if (len < 65536) header.push(maskBit | 126, (len >> 8) & 0xff, len & 0xff);
  else {
    header.push(maskBit | 127, 0, 0, 0, 0);
    header.push((len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff);
  }
  if (!mask) return Buffer.concat([Buffer.from(header), payload]);
  const key = randomBytes(4);
  const masked = Buffer.alloc(len);
  for (let i = 0; i < len; i++) masked[i] = payload[i] ^ key[i % 4];
  return Buffer.concat([Buffer.from(header), key, masked]);
}

/** Reads whole frames from a byte stream (fragmented messages are joined). */
export class FrameReader {
  private buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private fragmentOpcode = 0;

  /** Feeds bytes; returns the complete messages (opcode + payload) they finish. */
  push(chunk: Buffer): { opcode: number; payload: Buffer }[] {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const out: { opcode: number; payload: Buffer }[] = [];
    for (;;) {
      if (this.buffer.length < 2) return out;
      const fin = (this.buffer[0] & 0x80) !== 0;
      const opcode = this.buffer[0] & 0x0f;
      const masked = (this.buffer[1] & 0x80) !== 0;
      let len = this.buffer[1] & 0x7f;
      let offset = 2;
      if (len === 126) {
        if (this.buffer.length < 4) return out;
        len = this.buffer.readUInt16BE(2);
        offset = 4;
      } else if (len === 127) {
        if (this.buffer.length < 10) return out;
        len = Number(this.buffer.readBigUInt64BE(2));
        offset = 10;
      }
      const maskLen = masked ? 4 : 0;
      if (this.buffer.length < offset + maskLen + len) return out;
      const key = masked ? this.buffer.subarray(offset, offset + 4) : undefined;
      const payload = Buffer.from(this.buffer.subarray(offset + maskLen, offset + maskLen + len));
      if (key) for (let i = 0; i < payload.length; i++) payload[i] ^= key[i % 4];
      this.buffer = this.buffer.subarray(offset + maskLen + len);
      if (opcode === 0) {
        this.fragments.push(payload);
        if (fin) {
          out.push({ opcode: this.fragmentOpcode, payload: Buffer.concat(this.fragments) });
          this.fragments = [];
        }
      } else if (!fin && opcode < 0x8) {
        this.fragmentOpcode = opcode;
        this.fragments = [payload];
      } else out.push({ opcode, payload });
    }
  }
}

/**
 * A WebSocket client connection. Events: `message` (text), `close` (code). Opened with {@link connectWebSocket}.
 */
export class GenesysWebSocket extends EventEmitter {
  private closed = false;

  constructor(private readonly socket: Duplex) {
    super();
    const reader = new FrameReader();
    socket.on('data', (chunk: Buffer) => {
      for (const frame of reader.push(chunk)) {
        if (frame.opcode === WS_OPCODE.text) this.emit('message', frame.payload.toString('utf8'));
        else if (frame.opcode === WS_OPCODE.ping) this.write(WS_OPCODE.pong, frame.payload);
        else if (frame.opcode === WS_OPCODE.close) {
          const code = frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005;
          this.write(WS_OPCODE.close, frame.payload.subarray(0, 2));
          this.finish(code);
        }
      }
    });
    socket.on('close', () => this.finish(1006));
    socket.on('error', () => this.finish(1006));
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  close(code = 1000): void {
    if (this.closed) return;
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(code, 0);
    this.write(WS_OPCODE.close, payload);
    this.finish(code);
  }

  private write(opcode: number, payload: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(encodeFrame(opcode, payload, true));
  }

  private finish(code: number): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end();
    this.socket.destroy();
    this.emit('close', code);
  }
}

/** Opens a WebSocket to a `ws://` or `wss://` URL; rejects when the upgrade is refused or takes longer than `timeoutMs`. */
export function connectWebSocket(url: string, timeoutMs = 10_000): Promise<GenesysWebSocket> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const secure = target.protocol === 'wss:';
    const key = randomBytes(16).toString('base64');
    const request = (secure ? https : http).request({
      host: target.hostname, port: target.port || (secure ? 443 : 80), path: `${target.pathname}${target.search}`, method: 'GET',
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': key },
      timeout: timeoutMs,
    });
    request.on('upgrade', (response, socket, head) => {
      if (response.headers['sec-websocket-accept'] !== websocketAccept(key)) {
        socket.destroy();
        reject(new Error('WebSocket upgrade: wrong Sec-WebSocket-Accept'));
        return;
      }
      const ws = new GenesysWebSocket(socket);
      if (head.length) socket.unshift(head);
      resolve(ws);
    });
    request.on('response', (response) => {
      response.resume();
      reject(new Error(`WebSocket upgrade refused: HTTP ${response.statusCode}`));
    });
    request.on('timeout', () => request.destroy(new Error('WebSocket upgrade timed out')));
    request.on('error', reject);
    request.end();
  });
}
