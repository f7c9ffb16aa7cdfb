import { Readable } from 'node:stream';
import { decryptSecret } from '@presence-sync/config';
import { readAllStdin, runSecretsEncrypt, runSecretsGenerateKey, type SecretsIo } from './secrets.commands';

const KEY = 'e'.repeat(64);

function capture(stdin = ''): SecretsIo & { stdout: string[]; stderr: string[]; reads: number } {
  const io = {
    stdout: [] as string[], stderr: [] as string[], reads: 0,
    out: (line: string) => io.stdout.push(line),
    err: (line: string) => io.stderr.push(line),
    readStdin: async () => {
      io.reads += 1;
      return stdin;
    },
  };
  return io;
}

describe(runSecretsEncrypt.name, () => {
  it('encrypts the value read from stdin and prints only the enc:v1: text', async () => {
    const io = capture('s3cr3t-value\n');
    expect(await runSecretsEncrypt({}, io, { SECRETS_KEY: KEY })).toBe(0);
    expect(io.stdout).toHaveLength(1);
    expect(io.stdout[0]).toMatch(/^enc:v1:/);
    expect(decryptSecret(io.stdout[0], KEY)).toBe('s3cr3t-value');
    expect(io.stderr).toEqual([]);
    expect(io.reads).toBe(1);
  });

  it('keeps inner newlines and whitespace of a multi-line value (a PEM key)', async () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----';
    const io = capture(`${pem}\r\n`);
    await runSecretsEncrypt({}, io, { SECRETS_KEY: KEY });
    expect(decryptSecret(io.stdout[0], KEY)).toBe(pem);
  });

  it('accepts --value but warns about shell history, without reading stdin', async () => {
    const io = capture();
    expect(await runSecretsEncrypt({ value: 'given' }, io, { SECRETS_KEY: KEY })).toBe(0);
    expect(decryptSecret(io.stdout[0], KEY)).toBe('given');
    expect(io.stderr.join('\n')).toMatch(/shell history/);
    expect(io.reads).toBe(0);
  });

  it.each([
    ['no key', {}, /SECRETS_KEY is not set/],
    ['a bad key', { SECRETS_KEY: 'nope' }, /SECRETS_KEY must be 32 bytes/],
  ])('exits 2 with %s and prints nothing on stdout', async (_what, env, message) => {
    const io = capture('value');
    expect(await runSecretsEncrypt({}, io, env)).toBe(2);
    expect(io.stdout).toEqual([]);
    expect(io.stderr.join('\n')).toMatch(message);
    expect(io.stderr.join('\n')).not.toContain('value');
    expect(io.reads).toBe(0);
  });

  it('exits 2 when there is nothing to encrypt', async () => {
    const io = capture('\n');
    expect(await runSecretsEncrypt({}, io, { SECRETS_KEY: KEY })).toBe(2);
    expect(io.stdout).toEqual([]);
  });
});

describe(runSecretsGenerateKey.name, () => {
  it('prints a 64-hex-character key', () => {
    const io = capture();
    expect(runSecretsGenerateKey(io)).toBe(0);
    expect(io.stdout[0]).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe(readAllStdin.name, () => {
  it('reads a whole stream', async () => {
    const hints: string[] = [];
    expect(await readAllStdin(Readable.from([Buffer.from('ab'), 'cd']), (l) => hints.push(l))).toBe('abcd');
    expect(hints).toEqual([]);
  });
});
