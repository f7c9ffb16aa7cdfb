import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { ConfigError } from '@presence-sync/domain';
import { z } from 'zod';
import { readSettings } from './secrets';

/** One Redis address of a REDIS_CLUSTER_NODES or REDIS_SENTINELS list. */
export interface RedisAddress { host: string; port: number }

/**
 * Where Redis is and how to reach it (the secrets in plain text: show it through `redactRedisSettings` and
 * `describeRedis` only). One of three topologies:
 * - `single`: one server, REDIS_URL (user, password, db and TLS may be in the URL);
 * - `cluster`: a Redis Cluster discovered from REDIS_CLUSTER_NODES;
 * - `sentinel`: the master that the sentinels of REDIS_SENTINELS know as REDIS_SENTINEL_MASTER.
 */
export interface RedisSettings {
  /**
   * `single`: the REDIS_URL (it may hold the password). `cluster` / `sentinel`: a description for messages only
   * (`redis-cluster://host:port,…`, `redis-sentinel://host:port,…/master`), not a URL any client can connect to.
   */
  url: string;
  /** REDIS_PREFIX: the first part of every key. */
  prefix: string;
  topology: 'single' | 'cluster' | 'sentinel';
  /** `cluster`: the nodes the cluster is discovered from; `sentinel`: the sentinels. Empty for `single`. */
  nodes: RedisAddress[];
  /** `sentinel` only: the monitored master's name, and the sentinels' own credentials (not the data nodes'). */
  sentinel?: { masterName: string; username?: string; password?: string };
  /** REDIS_USERNAME / REDIS_PASSWORD: the data nodes' credentials (with REDIS_URL they may be in the URL instead). */
  username?: string;
  password?: string;
  /** TLS to every Redis connection (`rediss://`, or REDIS_TLS=true), with the CA of REDIS_TLS_CA_FILE if set. */
  tls?: { ca?: string; caFile?: string };
}

/** Settings whose values are secrets: never logged, never echoed in errors; each may be `enc:v1:…`. */
export const REDIS_SECRET_SETTINGS = ['REDIS_PASSWORD', 'REDIS_SENTINEL_PASSWORD'] as const;

/** At most this many addresses in one list (a cluster is found from any one of its nodes). */
const MAX_ADDRESSES = 64;
/** A CA bundle larger than this is not a CA bundle. */
const MAX_CA_FILE_BYTES = 1024 * 1024;
const DEFAULT_PORT = 6379;
const DEFAULT_SENTINEL_PORT = 26379;

const text = z.string().trim().min(1);
const addressList = z.string().trim().min(1, 'must not be empty');

const schema = z.object({
  REDIS_CLUSTER_NODES: addressList.optional(),
  REDIS_SENTINELS: addressList.optional(),
  REDIS_SENTINEL_MASTER: z.string().trim().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must be the master name the sentinels monitor (letters, digits, _ . : -)').optional(),
  REDIS_SENTINEL_USERNAME: text.optional(),
  REDIS_SENTINEL_PASSWORD: text.optional(),
  REDIS_USERNAME: text.optional(),
  REDIS_PASSWORD: text.optional(),
  REDIS_TLS: z.string().trim().toLowerCase().pipe(z.enum(['true', 'false'], { message: 'must be true or false' })).transform((v) => v === 'true').optional(),
  REDIS_TLS_CA_FILE: text.optional(),
});

type Key = keyof z.infer<typeof schema> & string;

/** The names of the Redis topology, credential and TLS settings (REDIS_URL and REDIS_PREFIX are in app-config). */
export const REDIS_SETTING_NAMES = Object.keys(schema.shape) as Key[];

const fail = (key: string, message: string): never => { throw new ConfigError(`invalid setting ${key}: ${message}`); };

/** `host:port,host:port` (IPv6 as `[::1]:6379`; a missing port is `defaultPort`), duplicates refused. */
export function parseRedisAddresses(key: string, value: string, defaultPort: number): RedisAddress[] {
  const example = `e.g. redis-1.internal:${defaultPort},redis-2.internal:${defaultPort}`;
  const parts = value.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  if (parts.length === 0) fail(key, `must list host:port pairs separated by commas, ${example}; got "${value}"`);
  if (parts.length > MAX_ADDRESSES) fail(key, `lists ${parts.length} addresses; at most ${MAX_ADDRESSES} (any few of them are enough to find the rest)`);
  const seen = new Set<string>();
  return parts.map((part) => {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(part)) fail(key, `must list host:port pairs, not URLs (credentials go in REDIS_USERNAME / REDIS_PASSWORD, TLS in REDIS_TLS), ${example}; got "${part.replace(/\/\/[^@/]*@/, '//***@')}"`);
    const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9_.-]+))(?::(\d{1,5}))?$/.exec(part);
    const port = m?.[3] === undefined ? defaultPort : Number(m[3]);
    if (!m || port < 1 || port > 65535) fail(key, `"${part}" is not a host:port pair, ${example}`);
    const host = (m as RegExpExecArray)[1] ?? (m as RegExpExecArray)[2];
    const id = `${host.toLowerCase()}:${port}`;
    if (seen.has(id)) fail(key, `lists ${host}:${port} twice`);
    seen.add(id);
    return { host, port };
  });
}

/** `host:port,…` for messages (no credentials live in an address). */
export const listRedisAddresses = (addresses: RedisAddress[]): string =>
  addresses.map((a) => (a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`)).join(',');

/** The hosts a REDIS_URL names after its credentials, e.g. `a:6379,b:6379` for a multi-host URL. */
function authorityOf(url: string): string {
  const rest = url.replace(/^rediss?:\/\//, '');
  const authority = rest.split(/[/?#]/)[0];
  return authority.slice(authority.lastIndexOf('@') + 1);
}

/** A REDIS_URL that one client can connect to: one host, a numeric port, a numeric database. */
function checkSingleUrl(url: string): void {
  const hosts = authorityOf(url);
  if (hosts.includes(',')) {
    const listed = hosts.split(',').map((h) => h.trim()).filter(Boolean).map((h) => (/:\d+$/.test(h) ? h : `${h}:${DEFAULT_PORT}`)).join(',');
    fail('REDIS_URL', `names several hosts (${hosts}); a URL is one server. For a Redis Cluster set REDIS_CLUSTER_NODES=${listed} instead; ` +
      'for Sentinel set REDIS_SENTINELS=<the sentinels\' host:port list> and REDIS_SENTINEL_MASTER=<the master\'s name>');
  }
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return fail('REDIS_URL', 'is not a valid URL: expected redis[s]://[[user]:password@]host[:port][/db]; the value given is not shown');
  }
  if (!u.hostname) fail('REDIS_URL', 'names no host: expected redis[s]://[[user]:password@]host[:port][/db]; the value given is not shown');
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d{1,5}$/.test(db)) fail('REDIS_URL', `the database must be a number (redis://host:6379/0); got "/${db}"`);
}

/** The PEM certificates of REDIS_TLS_CA_FILE, read and checked now so a bad file stops the boot in one line. */
function readCaFile(file: string): string {
  let pem: string;
  try {
    if (statSync(file).size > MAX_CA_FILE_BYTES) return fail('REDIS_TLS_CA_FILE', `${file} is larger than ${MAX_CA_FILE_BYTES} bytes; expected PEM CA certificates`);
    pem = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fail('REDIS_TLS_CA_FILE', `cannot read ${file}${code ? ` (${code})` : ''}`);
  }
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) fail('REDIS_TLS_CA_FILE', `${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  blocks.forEach((block, i) => {
    try {
      new X509Certificate(block);
    } catch (e) {
      fail('REDIS_TLS_CA_FILE', `certificate ${i + 1} of ${blocks.length} in ${file} is not valid: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`);
    }
  });
  return blocks.join('\n');
}

/**
 * Reads and validates the Redis topology settings around the REDIS_URL and REDIS_PREFIX already validated by
 * `loadConfig`. `urlGiven`: REDIS_URL was set (not its default). Throws `ConfigError` with one line naming the
 * setting: contradicting settings (a cluster and a URL, a cluster and sentinels, sentinel settings without
 * sentinels, a password in two places, TLS settings without TLS) and a URL naming several hosts are refused.
 */
export function loadRedisSettings(env: Record<string, string | undefined>, url: string, prefix: string, urlGiven: boolean): RedisSettings {
  const secret = new Set<string>(REDIS_SECRET_SETTINGS);
  const input = readSettings(env, REDIS_SETTING_NAMES, REDIS_SECRET_SETTINGS);
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue.path[0] ?? 'REDIS settings');
    return fail(key, `${issue.message}; ${secret.has(key) ? 'the value given is not valid' : `got "${input[key]}"`}`);
  }
  const s = parsed.data;
  const cluster = s.REDIS_CLUSTER_NODES !== undefined;
  const sentinel = s.REDIS_SENTINELS !== undefined;
  if (cluster && sentinel) fail('REDIS_SENTINELS', 'cannot be combined with REDIS_CLUSTER_NODES (Sentinel watches one master, a cluster has many); set one of them');
  for (const [key, many] of [['REDIS_CLUSTER_NODES', cluster], ['REDIS_SENTINELS', sentinel]] as const) {
    if (many && urlGiven) fail(key, `cannot be combined with REDIS_URL (one server); set ${key} or REDIS_URL, not both (credentials go in REDIS_USERNAME / REDIS_PASSWORD, TLS in REDIS_TLS)`);
  }
  if (!sentinel) {
    for (const key of ['REDIS_SENTINEL_MASTER', 'REDIS_SENTINEL_USERNAME', 'REDIS_SENTINEL_PASSWORD'] as const) {
      if (s[key] !== undefined) fail(key, 'applies to Sentinel only, and REDIS_SENTINELS is not set; set REDIS_SENTINELS too, or remove it');
    }
  } else if (s.REDIS_SENTINEL_MASTER === undefined) {
    fail('REDIS_SENTINEL_MASTER', 'required with REDIS_SENTINELS (the name the sentinels monitor the master by, as in `sentinel monitor <name> …`); it is not set');
  }

  let tls: RedisSettings['tls'];
  const username = s.REDIS_USERNAME;
  const password = s.REDIS_PASSWORD;
  if (!cluster && !sentinel) {
    checkSingleUrl(url);
    const u = new URL(url);
    const urlTls = u.protocol === 'rediss:';
    if (s.REDIS_TLS !== undefined && s.REDIS_TLS !== urlTls) {
      fail('REDIS_TLS', `says ${s.REDIS_TLS ? 'TLS' : 'no TLS'} but REDIS_URL starts with ${u.protocol}//; for one server the URL decides (rediss:// is TLS): fix the URL or remove REDIS_TLS`);
    }
    // Set once only: in the URL (redisOptionsFromUrl reads them there) or in these settings.
    if (password !== undefined && u.password) fail('REDIS_PASSWORD', 'is set and REDIS_URL holds a password too; keep one of them');
    if (username !== undefined && u.username) fail('REDIS_USERNAME', `is set and REDIS_URL names a user too; keep one of them; got "${username}"`);
    if (urlTls) tls = {};
  } else if (s.REDIS_TLS) tls = {};
  if (s.REDIS_TLS_CA_FILE !== undefined) {
    if (!tls) fail('REDIS_TLS_CA_FILE', cluster || sentinel ? 'needs REDIS_TLS=true (the CA is for TLS connections)' : 'needs TLS: use rediss:// in REDIS_URL (the CA is for TLS connections)');
    tls = { ca: readCaFile(s.REDIS_TLS_CA_FILE), caFile: s.REDIS_TLS_CA_FILE };
  }

  if (cluster) {
    const nodes = parseRedisAddresses('REDIS_CLUSTER_NODES', s.REDIS_CLUSTER_NODES as string, DEFAULT_PORT);
    return { url: `redis-cluster://${listRedisAddresses(nodes)}`, prefix, topology: 'cluster', nodes, username, password, tls };
  }
  if (sentinel) {
    const nodes = parseRedisAddresses('REDIS_SENTINELS', s.REDIS_SENTINELS as string, DEFAULT_SENTINEL_PORT);
    const masterName = s.REDIS_SENTINEL_MASTER as string;
    return {
      url: `redis-sentinel://${listRedisAddresses(nodes)}/${masterName}`, prefix, topology: 'sentinel', nodes, username, password, tls,
      sentinel: { masterName, username: s.REDIS_SENTINEL_USERNAME, password: s.REDIS_SENTINEL_PASSWORD },
    };
  }
  return { url, prefix, topology: 'single', nodes: [], username, password, tls };
}

/** The URL without user and password. */
export function shownRedisUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}

/** Where Redis is, for messages and logs: never a credential. */
export function describeRedis(settings: Pick<RedisSettings, 'topology' | 'url' | 'nodes' | 'sentinel'>): string {
  switch (settings.topology) {
    case 'single': return shownRedisUrl(settings.url);
    case 'cluster': return `the Redis Cluster at ${listRedisAddresses(settings.nodes)}`;
    case 'sentinel': return `the Sentinel master "${settings.sentinel?.masterName}" (sentinels ${listRedisAddresses(settings.nodes)})`;
  }
}

/** The settings with secrets replaced, for logs and the status endpoint (the CA is public but long: its file is shown). */
export function redactRedisSettings(settings: RedisSettings): RedisSettings {
  return {
    ...settings,
    url: shownRedisUrl(settings.url),
    password: settings.password && '***',
    sentinel: settings.sentinel && { ...settings.sentinel, password: settings.sentinel.password && '***' },
    tls: settings.tls && { caFile: settings.tls.caFile },
  };
}
