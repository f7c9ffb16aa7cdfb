/**
 * Issue 5, fuzzed webhook bodies: >= 1,000 seeded, reproducible mutations of valid events and batches, all
 * correctly signed, sent to one real daemon. Every answer is 202 or a clear 400 (never 5xx, never a hang), a
 * 400 names each problem as { index, path, message }, and a rejected batch queues nothing.
 * Issue 9 adds field cases: ids, codes and requestId over their 256-character cap, lone surrogates (refused,
 * naming the field) next to real surrogate pairs (taken), occurredAt ahead of the receive time, and bodies
 * sent with a Content-Encoding (415: the signature covers the bytes on the wire).
 *
 * Reproduce a failure: `FUZZ_SEED=<seed> [FUZZ_CASE=<n>] npx jest test/integration/resilience/fuzz-webhook --selectProjects integration`.
 * Every case draws from its own generator (seed, case number), so one case replays alone.
 */
import { gzipSync } from 'node:zlib';
import { GENERIC_MAX_BODY_BYTES, parseGenericEvents, signGenericWebhook } from '@presence-sync/contact-center';
import type { InboundChange } from '@presence-sync/domain';
import { agentInbox, RedisKeys } from '@presence-sync/redis';
import { DaemonHarness, SECRET } from '../../support/daemon-harness';
import { caseRng, chance, int, pick, type Json, type Obj, type Rng } from '../../support/seeded-random';

const SEED = Number.parseInt(process.env.FUZZ_SEED ?? '20261121', 10) >>> 0;
const CASES = Number.parseInt(process.env.FUZZ_CASES ?? '1200', 10);
const ONLY_CASE = process.env.FUZZ_CASE === undefined ? undefined : Number.parseInt(process.env.FUZZ_CASE, 10);

const STATES = ['Available', 'Unavailable', 'Busy', 'AfterWork', 'Offline'] as const;
const CODES = ['Lunch', 'Break', 'Training', 'System', 'Coaching'];
const BASE_MS = Date.parse('2026-11-21T10:15:02.120Z');

function validState(r: Rng): Obj {
  const state = pick(r, STATES);
  return state === 'Unavailable' && chance(r, 0.7) ? { state, code: pick(r, CODES) } : { state };
}

function validEvent(r: Rng, id: string): Obj {
  const e: Obj = {
    eventId: id,
    occurredAt: new Date(BASE_MS + int(r, 3_600_000)).toISOString(),
    agentId: `a-${1001 + int(r, 20)}`,
    state: validState(r),
  };
  if (chance(r, 0.3)) e.previous = validState(r);
  if (chance(r, 0.3)) e.sequence = int(r, 1_000_000);
  if (chance(r, 0.2)) e.requestId = `w-${int(r, 1e9).toString(36)}`;
  return e;
}

function junk(r: Rng, depth = 0): Json {
  switch (int(r, depth > 3 ? 6 : 9)) {
    case 0: return null;
    case 1: return chance(r, 0.5);
    case 2: return pick(r, [0, -1, 1.5, 1e308, -0, 2 ** 53 + 2]);
    case 3: return pick(r, ['', ' ', 'x'.repeat(int(r, 400)), '\u0000', '💥', '<script>', '{"a":1}', 'null']);
    case 4: return pick(r, ['Available', 'available', 'Sleeping', 'AVAILABLE', 'Offline ']);
    case 5: return '2026-11-21T10:15:02Z';
    case 6: return Array.from({ length: int(r, 4) }, () => junk(r, depth + 1));
    case 7: return { state: junk(r, depth + 1), code: junk(r, depth + 1) };
    default: {
      const o: Obj = {};
      for (let i = int(r, 4); i > 0; i--) o[pick(r, ['a', 'state', 'events', '__proto__', 'constructor', 'eventId'])] = junk(r, depth + 1);
      return o;
    }
  }
}

const FIELDS = ['eventId', 'occurredAt', 'agentId', 'state', 'previous', 'sequence', 'requestId'];
/** Free-text fields of contract v1 (capped at 256 characters, well-formed UTF-16), as paths into one event. */
const TEXT_FIELDS = ['eventId', 'agentId', 'requestId', 'state.code', 'previous.code'] as const;
/** Lone surrogates (refused) and real pairs (taken), as they arrive: JSON.stringify writes a lone one as \udXXX. */
const SURROGATES = ['\ud800', '\udfff', '\ude00\ud83d', 'x\udbff', '😀', '\ud834\udd1e'];

/** Sets a text field, creating the Unavailable state its code needs. */
function setText(e: Obj, field: (typeof TEXT_FIELDS)[number], value: string): void {
  if (field === 'state.code' || field === 'previous.code') {
    e[field.split('.')[0]] = { state: 'Unavailable', code: value };
  } else {
    e[field] = value;
  }
}
const BAD_DATES = ['yesterday', '', '2026-13-45T00:00:00Z', '2026-11-21T10:00:00', '2026-11-21', '21/11/2026 10:00', '2026-11-21T25:61:61Z', '2026-02-30T10:00:00Z', 'Sat Nov 21 2026', '+275760-09-13T00:00:00.001Z'];
const BAD_SEQUENCES: Json[] = [-1, 1.5, -0.5, 2 ** 53, 1e21, '5', true, null, [], {}];

/** One event-level mutation; returns its name for the failure message. */
function mutateEvent(r: Rng, e: Obj): string {
  const field = pick(r, FIELDS);
  switch (int(r, 16)) {
    case 0: delete e[field]; return `drop ${field}`;
    case 1: {
      const to = pick(r, [field.toUpperCase(), `${field}_`, field.slice(1), 'event_id', 'agentID']);
      e[to] = e[field] ?? null; delete e[field]; return `rename ${field}->${to}`;
    }
    case 2: e[field] = junk(r); return `retype ${field}`;
    case 3: {
      const s = (e.state && typeof e.state === 'object' && !Array.isArray(e.state) ? e.state : (e.state = {})) as Obj;
      s.state = pick(r, ['Sleeping', 'available', '', 'OFFLINE', 'Busy ', 'AfterCallWork', 0, null]);
      return 'bad state enum';
    }
    case 4: e.state = { state: 'Unavailable', code: pick(r, ['', 7, null, [], {}, false]) }; return 'bad code';
    case 5: {
      const len = pick(r, [0, 256, 257, 5_000, 100_000]);
      const f = pick(r, ['eventId', 'agentId', 'occurredAt']);
      e[f] = 'x'.repeat(len); return `string ${f} len ${len}`;
    }
    case 6: e.occurredAt = pick(r, BAD_DATES); return `bad date ${String(e.occurredAt)}`;
    case 7: e.sequence = pick(r, BAD_SEQUENCES); return `bad sequence ${JSON.stringify(e.sequence)}`;
    case 8: {
      let deep: Json = { state: 'Available' };
      for (let i = int(r, 200) + 1; i > 0; i--) deep = { state: deep };
      e[pick(r, ['state', 'previous'])] = deep; return 'deep nesting';
    }
    case 9: e[pick(r, ['extra', 'meta', 'x-vendor'])] = junk(r); return 'unknown field (valid)';
    case 10: e.previous = junk(r); return 'junk previous';
    case 11: {
      const field = pick(r, TEXT_FIELDS);
      const len = pick(r, [255, 256, 257, 1_000, 100_000, 700_000]);
      setText(e, field, 'L'.repeat(len));
      return `long ${field} len ${len}`;
    }
    case 12: {
      const field = pick(r, TEXT_FIELDS);
      const s = pick(r, SURROGATES);
      setText(e, field, `s-${int(r, 1e6)}${s}`);
      return `surrogate ${field} ${JSON.stringify(s)}`;
    }
    case 13: {
      // Relative to the wall clock, away from the 300 s edge, so the verdict does not depend on when it runs.
      const aheadMs = pick(r, [-86_400_000, 0, 60_000, 1_800_000, 400 * 86_400_000]);
      e.occurredAt = new Date(Date.now() + aheadMs).toISOString();
      return `future occurredAt +${aheadMs / 1000} s`;
    }
    case 14: e.requestId = pick(r, ['', 7, null, [], 'w-ok', ' ']); return `requestId ${JSON.stringify(e.requestId)}`;
    default: return 'none';
  }
}

interface Case {
  desc: string;
  body: Buffer;
  /** Sent as `Content-Encoding`; the daemon must answer 415 whatever the body. */
  encoding?: string;
}

const enc = (v: unknown) => Buffer.from(JSON.stringify(v), 'utf8');

function makeCase(seed: number, n: number): Case {
  const r = caseRng(seed, n);
  const id = (j: number) => `fz${seed}-${n}-${j}`;
  const kind = int(r, 100);
  if (kind < 25) {
    const e = validEvent(r, id(0));
    const muts = Array.from({ length: 1 + int(r, 3) }, () => mutateEvent(r, e));
    return { desc: `single event [${muts.join('; ')}]`, body: enc(e) };
  }
  if (kind < 55) {
    const size = 1 + int(r, 12);
    const events: Json[] = [];
    const muts: string[] = [];
    for (let j = 0; j < size; j++) {
      const e = validEvent(r, id(j));
      if (chance(r, 0.25)) muts.push(`#${j} ${mutateEvent(r, e)}`);
      events.push(chance(r, 0.03) ? junk(r) : e);
    }
    if (chance(r, 0.2) && size > 1) { events.push(events[0]); muts.push('duplicate id'); }
    return { desc: `batch of ${events.length} [${muts.join('; ') || 'valid'}]`, body: enc({ events }) };
  }
  if (kind < 63) {
    const pickKind = int(r, 8);
    const size = pick(r, [500, 501, 502, 750]);
    switch (pickKind) {
      case 0: case 1: {
        const events = Array.from({ length: size }, (_, j) => validEvent(r, id(j)));
        if (chance(r, 0.5) && size <= 500) (events[int(r, size)] as Obj).occurredAt = 'never';
        return { desc: `big batch of ${size}`, body: enc({ events }) };
      }
      case 2: return { desc: 'empty batch', body: enc({ events: [] }) };
      case 3: return { desc: 'events not an array', body: enc({ events: junk(r) }) };
      case 4: return { desc: 'top-level array', body: enc([validEvent(r, id(0))]) };
      case 5: return { desc: 'top-level primitive', body: enc(pick(r, [null, 1, 'event', true, -0.5] as Json[])) };
      case 6: {
        // Every event broken many ways: the 400 must stay bounded (at most 50 problems + a summary line).
        const events = Array.from({ length: 100 + int(r, 300) }, () => ({ eventId: 1, occurredAt: 2, agentId: 3, state: 4 }));
        return { desc: `${events.length} fully broken events`, body: enc({ events }) };
      }
      default: return { desc: 'batch plus extra top-level fields', body: enc({ events: [validEvent(r, id(0))], next: junk(r), eventId: junk(r) }) };
    }
  }
  // Byte-level mutations of a valid serialised body.
  const base = chance(r, 0.5) ? enc(validEvent(r, id(0))) : enc({ events: [validEvent(r, id(0)), validEvent(r, id(1))] });
  switch (int(r, 10)) {
    case 9: {
      // Signed over the coded or over the decoded bytes: refused either way (the body is taken as sent only).
      const encoding = pick(r, ['gzip', 'deflate', 'br', 'GZIP', 'gzip, identity', 'x-unknown']);
      return { desc: `Content-Encoding ${encoding}`, body: chance(r, 0.5) ? gzipSync(base) : base, encoding };
    }
    case 0: return { desc: 'truncated JSON', body: base.subarray(0, int(r, base.length)) };
    case 1: {
      const b = Buffer.from(base);
      const count = 1 + int(r, 4);
      for (let i = 0; i < count; i++) b[int(r, b.length)] = pick(r, [0x7b, 0x7d, 0x22, 0x2c, 0x3a, 0x5b, 0x5d, 0x20, 0x61, 0x30]);
      return { desc: `garbled x${count}`, body: b };
    }
    case 2: {
      const at = int(r, base.length);
      const bad = Buffer.from(pick(r, [[0xff], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xfe, 0xff]]));
      return { desc: 'non-UTF-8 bytes', body: Buffer.concat([base.subarray(0, at), bad, base.subarray(at)]) };
    }
    case 3: return { desc: 'empty / whitespace body', body: Buffer.from(pick(r, ['', ' ', '\n\t\r\n'])) };
    case 4: return { desc: 'trailing garbage', body: Buffer.concat([base, Buffer.from(pick(r, [',', '}', ' x', '{}', '\u0000']))]) };
    case 5: return { desc: 'BOM prefix', body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), base]) };
    case 6: return { desc: 'not JSON at all', body: Buffer.from(pick(r, ['eventId=1&state=Available', '<xml/>', 'NaN', 'undefined', "{'a':1}", '{"a":1,}', '[1,2'])) };
    case 7: {
      const at = int(r, base.length);
      return { desc: 'random bytes inserted', body: Buffer.concat([base.subarray(0, at), Buffer.from(Array.from({ length: 1 + int(r, 8) }, () => int(r, 256))), base.subarray(at)]) };
    }
    default: {
      // Deeply nested arrays: must not blow the parser's stack into a 500.
      const depth = pick(r, [100, 1000, 5000]);
      return { desc: `nested arrays depth ${depth}`, body: Buffer.from(`{"events":${'['.repeat(depth)}${']'.repeat(depth)}}`) };
    }
  }
}

interface ApiError { index: number | null; path: string; message: string }

describe(`fuzzed webhook bodies (FUZZ_SEED=${SEED})`, () => {
  let h: DaemonHarness;
  beforeAll(async () => { h = await DaemonHarness.start(); });
  afterAll(async () => { await h?.stop(); });

  /**
   * Event ids of this run the webhook handed to intake. Watched at the port (not in queue internals, which
   * the engine owns): what reaches `accept` is what the daemon tried to queue.
   */
  const handedToIntake: string[] = [];
  /** The agent of each event id handed to intake (its marker is in the agent's partition). */
  const agentOfEvent = new Map<string, string>();
  /** Whether intake durably recorded the event id (its de-duplication marker). */
  const seenInRedis = async (ids: string[]): Promise<boolean[]> => {
    const keys = h.app.get(RedisKeys);
    const found = await Promise.all(ids.map((id) => h.redis.exists(keys.seen(agentInbox(agentOfEvent.get(id) ?? ''), 'acd', id))));
    return found.map((n) => n === 1);
  };

  const post = async (c: Case) => {
    const { body } = c;
    const ts = Math.floor(Date.now() / 1000);
    const res = await fetch(`${h.url}/v1/acd/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json', 'x-presence-timestamp': String(ts), 'x-presence-signature': signGenericWebhook(SECRET, ts, body),
        ...(c.encoding ? { 'content-encoding': c.encoding } : {}),
      },
      body: new Uint8Array(body),
      signal: AbortSignal.timeout(5_000),
    });
    const text = await res.text();
    let json: unknown;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, json, text };
  };

  it(`answers 202 or a clear 400 for ${ONLY_CASE === undefined ? CASES : 1} mutated bodies, queueing nothing from a rejected one`, async () => {
    const started = Date.now();
    const stats = { accepted: 0, rejected: 0, encodingRefused: 0, tooLarge: 0, events: 0 };
    /** Issue 9's field cases: per kind of mutation, how many cases were answered 202 and 400. */
    const fieldCases: Record<string, { '202': number; '400': number }> = {};
    const tally = (c: Case, status: 202 | 400) => {
      for (const kind of ['long', 'surrogate', 'future', 'requestId']) {
        if (!c.desc.includes(`[${kind} `) && !c.desc.includes(` ${kind} `)) continue;
        fieldCases[kind] ??= { '202': 0, '400': 0 };
        fieldCases[kind][status]++;
      }
    };
    const sink = h.sink;
    const original = sink.accept.bind(sink);
    const accept = jest.spyOn(sink, 'accept').mockImplementation((changes: InboundChange[]) => {
      for (const ch of changes) {
        if (!ch.eventId.startsWith(`fz${SEED}-`)) continue;
        handedToIntake.push(ch.eventId);
        if (ch.side === 'acd') agentOfEvent.set(ch.eventId, ch.agentId);
      }
      return original(changes);
    });
    const cases = ONLY_CASE === undefined ? Array.from({ length: CASES }, (_, n) => n) : [ONLY_CASE];
    const expectedIds = new Set<string>();
    const seenIds = new Set<string>();
    const rejectedCases = new Set<number>();
    for (const n of cases) {
      const c = makeCase(SEED, n);
      const where = () => `FUZZ_SEED=${SEED} FUZZ_CASE=${n} (${c.desc}); body: ${c.body.subarray(0, 300).toString('utf8')}${c.body.length > 300 ? ` … (${c.body.length} bytes)` : ''}`;
      let res: Awaited<ReturnType<typeof post>>;
      try {
        res = await post(c);
      } catch (error) {
        throw new Error(`request failed or hung: ${String(error)}; ${where()}`);
      }
      // Oracle: the pure parser decides what the daemon must answer.
      const oracle = parseGenericEvents(c.body, Date.now());
      const fail = (what: string) => new Error(`${what}; status ${res.status}, response ${res.text.slice(0, 500)}; ${where()}`);
      if (c.encoding !== undefined) {
        if (res.status !== 415 || (res.json as { error?: unknown } | undefined)?.error !== 'unsupported-encoding') throw fail('expected 415 for a coded body');
        rejectedCases.add(n);
        stats.encodingRefused++;
        continue;
      }
      if (c.body.length > GENERIC_MAX_BODY_BYTES) {
        if (res.status !== 413) throw fail(`expected 413 for a body over ${GENERIC_MAX_BODY_BYTES} bytes`);
        rejectedCases.add(n);
        stats.tooLarge++;
        continue;
      }
      if (res.status !== 202 && res.status !== 400) throw fail('expected 202 or 400');
      tally(c, res.status);
      if (res.status === 400) {
        if (oracle.ok) throw fail('400 although the parser accepts the body');
        const errors = (res.json as { errors?: ApiError[] } | undefined)?.errors;
        if (!Array.isArray(errors) || errors.length === 0) throw fail('400 without errors');
        if (errors.length > 51) throw fail(`400 lists ${errors.length} errors (cap is 50 + 1 summary)`);
        for (const e of errors) {
          const okIndex = e.index === null || (Number.isInteger(e.index) && e.index >= 0);
          if (!okIndex || typeof e.path !== 'string' || typeof e.message !== 'string' || e.message.trim() === '') {
            throw fail(`malformed error entry ${JSON.stringify(e)}`);
          }
          if (e.index !== null && e.path !== '' && !e.path.startsWith(`events[${e.index}]`) && c.body.includes('"events"')) {
            // A batch error's path must point into the event it names.
            const isBatch = (() => { try { return 'events' in (JSON.parse(c.body.toString('utf8')) as object); } catch { return false; } })();
            if (isBatch) throw fail(`error path ${e.path} does not match index ${e.index}`);
          }
        }
        rejectedCases.add(n);
        stats.rejected++;
      } else {
        if (!oracle.ok) throw fail('202 although the parser rejects the body');
        const body = res.json as { accepted: number; duplicates: number };
        if (body.accepted + body.duplicates !== oracle.changes.length) throw fail(`202 counts do not add up to ${oracle.changes.length} events`);
        // The daemon dedups on agent and event id: fresh = distinct (agent, id) pairs of this body not accepted
        // before in this run (mutations may produce ids like "" or "x".repeat(256) that repeat across cases).
        const keyOf = (ch: (typeof oracle.changes)[number]) => `${ch.side === 'acd' ? ch.agentId : ''}\n${ch.eventId}`;
        const fresh = new Set(oracle.changes.map(keyOf).filter((key) => !seenIds.has(key)));
        if (body.accepted !== fresh.size) throw fail(`accepted ${body.accepted}, expected ${fresh.size} fresh events`);
        for (const key of fresh) {
          seenIds.add(key);
          const id = key.slice(key.indexOf('\n') + 1);
          if (id.startsWith(`fz${SEED}-`)) expectedIds.add(id);
        }
        stats.accepted++;
        stats.events += body.accepted;
      }
    }
    accept.mockRestore();
    // Nothing from a rejected body reached intake; everything from an accepted one did and is recorded in Redis.
    const caseOf = (id: string) => Number(id.split('-')[1]);
    const leaked = handedToIntake.filter((id) => rejectedCases.has(caseOf(id)));
    expect({ seed: SEED, leakedFromRejectedCases: leaked.slice(0, 20) }).toEqual({ seed: SEED, leakedFromRejectedCases: [] });
    const handed = new Set(handedToIntake);
    expect({ seed: SEED, missing: [...expectedIds].filter((id) => !handed.has(id)).slice(0, 20) }).toEqual({ seed: SEED, missing: [] });
    const expected = [...expectedIds];
    const recorded = await seenInRedis(expected);
    expect({ seed: SEED, notRecorded: expected.filter((_, i) => !recorded[i]).slice(0, 20) }).toEqual({ seed: SEED, notRecorded: [] });
    const health = await fetch(`${h.url}/health`, { signal: AbortSignal.timeout(5_000) });
    expect(health.status).toBe(200);
    const fields = Object.entries(fieldCases).map(([kind, n]) => `${kind} ${n['202']}/${n['400']}`).join(', ');
    console.log(
      `fuzz-webhook FUZZ_SEED=${SEED}: ${cases.length} cases, ${stats.accepted} x 202 (${stats.events} events queued), ${stats.rejected} x 400, ` +
      `${stats.encodingRefused} x 415 (Content-Encoding), ${stats.tooLarge} x 413; field cases 202/400: ${fields || 'none'}; ${Date.now() - started} ms`,
    );
    if (ONLY_CASE === undefined) {
      // The mix must exercise both answers, or the generator has drifted.
      expect(stats.accepted).toBeGreaterThan(cases.length / 10);
      expect(stats.rejected).toBeGreaterThan(cases.length / 3);
      // Every new field case must be hit, and both ways (a cap or a pair that is fine, one that is not).
      for (const kind of ['long', 'surrogate', 'future', 'requestId']) {
        expect({ kind, ...fieldCases[kind] }).toEqual({ kind, '202': expect.any(Number), '400': expect.any(Number) });
        expect({ kind, bothWays: Math.min(fieldCases[kind]['202'], fieldCases[kind]['400']) > 0 }).toEqual({ kind, bothWays: true });
      }
      expect(stats.encodingRefused).toBeGreaterThan(0);
    }
  }, 120_000);
});
