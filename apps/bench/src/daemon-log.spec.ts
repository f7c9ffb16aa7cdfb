import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastLine } from './daemon-log';

describe('lastLine', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-daemons-spec-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const log = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  it('names the error of a crash, not the stack or the Node version under it', () => {
    const file = log('crash.log', [
      'node:internal/modules/cjs/loader:1210', '  throw err;', '  ^', '',
      "Error: Cannot find module '@nestjs/bullmq'", 'Require stack:', '- /x/daemon.module.js',
      '    at Module._resolveFilename (node:internal/modules/cjs/loader:1207:15)', '', 'Node.js v20.20.2', '',
    ].join('\n'));
    expect(lastLine(file)).toBe(` ("Error: Cannot find module '@nestjs/bullmq'")`);
  });

  it('gives the daemon\'s own refusal line', () => {
    expect(lastLine(log('refused.log', 'presence-sync: listening on http://127.0.0.1:1\npresence-sync: cannot start: Invalid URL\n'))).toBe(' ("presence-sync: cannot start: Invalid URL")');
  });

  it('falls back to the last line, and to nothing for an empty or missing log', () => {
    expect(lastLine(log('plain.log', 'one\ntwo\n'))).toBe(' ("two")');
    expect(lastLine(log('empty.log', ''))).toBe('');
    expect(lastLine(join(dir, 'missing.log'))).toBe('');
  });
});
