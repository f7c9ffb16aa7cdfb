import type { IncomingMessage } from 'node:http';

/** A request body over the reader's limit. */
export class BodyTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`body over ${limitBytes} bytes`);
  }
}

/**
 * Reads a request body as UTF-8, up to `maxBytes`: past that it stops collecting, drains the rest (so the
 * socket can still carry the answer) and rejects with `BodyTooLargeError`.
 */
export function readBoundedBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLargeError(maxBytes));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
