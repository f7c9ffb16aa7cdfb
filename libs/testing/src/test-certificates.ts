import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throw-away certificate authority and a server certificate it signed, as PEM files. */
export interface TestCertificates {
  dir: string;
  /** The CA's certificate (what REDIS_TLS_CA_FILE points at). */
  caFile: string;
  /** The server's certificate and key, for `localhost` and `127.0.0.1`. */
  certFile: string;
  keyFile: string;
  /** A second CA that signed nothing here: a client trusting only it must refuse the server. */
  otherCaFile: string;
}

function openssl(dir: string, args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.error) throw new Error('openssl was not found on PATH: install it with `sudo apt-get install -y openssl` (tests make their TLS certificates with it)');
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${(r.stderr || r.stdout).trim().split('\n')[0]}`);
}

/**
 * Makes a CA and a server certificate for `localhost` / `127.0.0.1` with the `openssl` binary, valid for a day,
 * in a new temporary directory (the caller removes `dir`).
 */
export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'presence-sync-certs-'));
  const ca = (name: string) => openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '1', '-subj', `/CN=presence-sync test ${name}`]);
  ca('ca');
  ca('other-ca');
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'server.ext']);
  return { dir, caFile: join(dir, 'ca.pem'), certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server.key'), otherCaFile: join(dir, 'other-ca.pem') };
}
