import { createHmac } from 'node:crypto';
import {
  checkGenericHeaders,
  GENERIC_MAX_REPORTED_ERRORS,
  parseGenericEvents,
  signGenericWebhook,
  verifyGenericSignature,
  type VerifyGenericSignatureInput,
} from './generic-webhook';

const SECRET = 'whsec-test-0123456789';
const NOW_MS = Date.UTC(2026, 10, 21, 10, 15, 2, 500);
const NOW_SEC = Math.floor(NOW_MS / 1000);
const BODY = Buffer.from('{"eventId":"e-1","agentId":"a-1001"}');

describe(verifyGenericSignature.name, () => {
  const good = (): VerifyGenericSignatureInput => ({
    timestamp: String(NOW_SEC),
    signature: signGenericWebhook(SECRET, NOW_SEC, BODY),
    rawBody: BODY,
    secret: SECRET,
    nowMs: NOW_MS,
  });

  it('signs as HMAC-SHA256 over "<timestamp>.<raw body>", written independently of the implementation', () => {
    const expected = createHmac('sha256', SECRET).update(`${NOW_SEC}.${BODY.toString()}`).digest('hex');
    expect(signGenericWebhook(SECRET, NOW_SEC, BODY)).toBe(`sha256=${expected}`);
    expect(signGenericWebhook(SECRET, NOW_SEC, BODY.toString())).toBe(`sha256=${expected}`);
  });

  const cases: Array<[string, Partial<VerifyGenericSignatureInput>, RegExp | null]> = [
    ['a good signature', {}, null],
    ['upper-case hex', { signature: `sha256=${signGenericWebhook(SECRET, NOW_SEC, BODY).slice(7).toUpperCase()}` }, null],
    ['a timestamp exactly at the limit', { timestamp: String(NOW_SEC - 300), signature: signGenericWebhook(SECRET, NOW_SEC - 300, BODY) }, null],
    ['a missing signature header', { signature: undefined }, /^missing X-Presence-Signature header$/],
    ['an empty signature header', { signature: '' }, /^missing X-Presence-Signature header$/],
    ['a missing timestamp header', { timestamp: undefined }, /^missing X-Presence-Timestamp header$/],
    ['a wrong secret', { secret: 'another-secret' }, /^signature does not match$/],
    ['a tampered body', { rawBody: Buffer.from('{"eventId":"e-2","agentId":"a-1001"}') }, /^signature does not match$/],
    ['a signature of another timestamp', { timestamp: String(NOW_SEC - 1) }, /^signature does not match$/],
    [
      'an old timestamp',
      { timestamp: String(NOW_SEC - 412), signature: signGenericWebhook(SECRET, NOW_SEC - 412, BODY) },
      /^timestamp is 412 s away from server time \(limit 300 s\)$/,
    ],
    [
      'a future timestamp',
      { timestamp: String(NOW_SEC + 301), signature: signGenericWebhook(SECRET, NOW_SEC + 301, BODY) },
      /^timestamp is 301 s away from server time \(limit 300 s\)$/,
    ],
    [
      'a timestamp in milliseconds',
      { timestamp: String(NOW_MS), signature: signGenericWebhook(SECRET, NOW_MS, BODY) },
      /looks like milliseconds/,
    ],
    ['a non-numeric timestamp', { timestamp: '2026-11-21T10:15:02Z' }, /must be unix seconds/],
    ['a signature without the sha256= prefix', { signature: signGenericWebhook(SECRET, NOW_SEC, BODY).slice(7) }, /must look like sha256=/],
    ['another algorithm', { signature: `sha1=${'a'.repeat(40)}` }, /must look like sha256=/],
    ['a truncated signature', { signature: signGenericWebhook(SECRET, NOW_SEC, BODY).slice(0, 40) }, /must look like sha256=/],
    ['no secret configured', { secret: '' }, /no webhook secret is configured/],
  ];

  it.each(cases)('%s', (_label, change, reason) => {
    const input = { ...good(), ...change };
    const result = verifyGenericSignature(input);
    if (reason === null) {
      expect(result).toEqual({ ok: true });
      return;
    }
    expect(result.ok).toBe(false);
    const text = result.ok ? '' : result.reason;
    expect(text).toMatch(reason);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(signGenericWebhook(SECRET, Number(input.timestamp ?? NOW_SEC), input.rawBody).slice(7, 20));
  });

  it('honours a custom tolerance', () => {
    const ts = NOW_SEC - 30;
    const input = { ...good(), timestamp: String(ts), signature: signGenericWebhook(SECRET, ts, BODY) };
    expect(verifyGenericSignature({ ...input, toleranceSec: 60 })).toEqual({ ok: true });
    expect(verifyGenericSignature({ ...input, toleranceSec: 10 })).toEqual({
      ok: false,
      reason: 'timestamp is 30 s away from server time (limit 10 s)',
    });
  });
});

describe(checkGenericHeaders.name, () => {
  const headers = { timestamp: String(NOW_SEC), signature: `sha256=${'ab'.repeat(32)}`, secret: SECRET, nowMs: NOW_MS };

  it('passes well-formed headers with a current timestamp without looking at any body', () => {
    expect(checkGenericHeaders(headers)).toEqual({ ok: true });
  });

  it.each<[string, Partial<typeof headers>, RegExp]>([
    ['a missing timestamp', { timestamp: undefined }, /^missing X-Presence-Timestamp header$/],
    ['a malformed signature', { signature: 'sha256=xyz' }, /must look like sha256=/],
    ['a stale timestamp, whatever the signature', { timestamp: String(NOW_SEC - 301) }, /^timestamp is 301 s away from server time \(limit 300 s\)$/],
    ['no secret configured', { secret: '' }, /no webhook secret is configured/],
  ])('refuses %s before a body is read', (_label, change, reason) => {
    const result = checkGenericHeaders({ ...headers, ...change });
    expect(result.ok ? '' : result.reason).toMatch(reason);
  });
});

describe(parseGenericEvents.name, () => {
  const RECEIVED = 1_800_000_000_000;
  const event = (over: Record<string, unknown> = {}) => ({
    eventId: 'e-1',
    occurredAt: '2026-11-21T10:15:02.120Z',
    agentId: 'a-1001',
    state: { state: 'Unavailable', code: 'Lunch' },
    previous: { state: 'Available' },
    sequence: 1042,
    ...over,
  });
  const parse = (body: unknown) => parseGenericEvents(Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), RECEIVED);
  const errorsOf = (body: unknown) => {
    const result = parse(body);
    if (result.ok) throw new Error('expected a failure');
    return result.errors;
  };

  it('parses a single event into an AcdChange', () => {
    expect(parse(event())).toEqual({
      ok: true,
      changes: [
        {
          side: 'acd',
          eventId: 'e-1',
          agentId: 'a-1001',
          occurredAt: Date.UTC(2026, 10, 21, 10, 15, 2, 120),
          state: { state: 'Unavailable', code: 'Lunch' },
          previous: { state: 'Available' },
          sequence: 1042,
          receivedAt: RECEIVED,
        },
      ],
    });
  });

  it('leaves optional fields out rather than undefined, and ignores unknown fields', () => {
    const result = parse({ eventId: 'e', occurredAt: '2026-11-21T11:15:02+01:00', agentId: 'a', state: { state: 'Busy', extra: 1 }, vendor: { x: 1 } });
    expect(result.ok && result.changes[0]).toStrictEqual({
      side: 'acd',
      eventId: 'e',
      agentId: 'a',
      occurredAt: Date.UTC(2026, 10, 21, 10, 15, 2),
      state: { state: 'Busy' },
      receivedAt: RECEIVED,
    });
  });

  it('parses a batch in order', () => {
    const result = parse({ events: [event({ eventId: 'e-1' }), event({ eventId: 'e-2', sequence: 0 })] });
    expect(result.ok && result.changes.map((c) => [c.eventId, c.sequence])).toEqual([['e-1', 1042], ['e-2', 0]]);
  });

  it('takes 500 events and refuses 501 with one error naming the limit', () => {
    const batch = (n: number) => ({ events: Array.from({ length: n }, (_, i) => event({ eventId: `e-${i}` })) });
    expect(parse(batch(500)).ok).toBe(true);
    expect(errorsOf(batch(501))).toEqual([
      { index: null, path: 'events', message: 'holds 501 events; at most 500 are allowed per request' },
    ]);
  });

  it.each([
    ['an empty batch', { events: [] }, { index: null, path: 'events', message: 'must hold at least 1 event' }],
    ['events not an array', { events: {} }, { index: null, path: 'events', message: 'must be an array of events' }],
    ['a top-level array', [event()], { index: null, path: '', message: 'body must be one event object or { "events": [...] }' }],
    ['an empty body', '  ', { index: null, path: '', message: 'body is empty; expected one event or { "events": [...] }' }],
  ])('refuses %s as a whole', (_label, body, error) => {
    expect(errorsOf(body)).toEqual([error]);
  });

  it.each([
    ['{"eventId":"e-1",}', 'line 1, column 18 (position 17)', "unexpected '}', expected a property name in double quotes"],
    ['{"eventId":"e-1"', 'line 1, column 17 (position 16)', "unexpected end of input, expected ',' or '}'"],
    ['{\n  "eventId": e-1\n}', 'line 2, column 14 (position 15)', "unexpected 'e', expected a value"],
    ['{"a":"x\ty"}', 'line 1, column 8 (position 7)', 'control character U+0009 inside a string (escape it)'],
    ['{"a":1} {}', 'line 1, column 9 (position 8)', "unexpected '{' after the end of the JSON value"],
    ['{"a":[1,]}', 'line 1, column 9 (position 8)', "unexpected ']', expected a value"],
    ['{"a":"\\x"}', 'line 1, column 7 (position 6)', "invalid escape '\\x'"],
    ['[[[[[[[[[[', 'line 1, column 11 (position 10)', 'unexpected end of input, expected a value'],
  ])('reports malformed JSON %j with its position', (text, where, problem) => {
    expect(errorsOf(text)).toEqual([{ index: null, path: '', message: `malformed JSON at ${where}: ${problem}` }]);
  });

  it('refuses a body that is not UTF-8', () => {
    const result = parseGenericEvents(Buffer.from([0x7b, 0xff, 0x7d]), RECEIVED);
    expect(result).toEqual({ ok: false, errors: [{ index: null, path: '', message: 'body is not valid UTF-8' }] });
  });

  it('does not overflow on deeply nested JSON', () => {
    expect(errorsOf('['.repeat(200_000))[0].message).toMatch(/^malformed JSON at line 1, column 200001/);
  });

  const STATES = 'must be one of Available, Unavailable, Busy, AfterWork, Offline';
  it.each<[string, Record<string, unknown>, string, string]>([
    ['eventId missing', { eventId: undefined }, 'eventId', 'is required'],
    ['eventId empty', { eventId: '' }, 'eventId', 'must not be empty'],
    ['eventId too long', { eventId: 'x'.repeat(257) }, 'eventId', 'must be at most 256 characters'],
    ['eventId a number', { eventId: 7 }, 'eventId', 'must be a non-empty string'],
    ['occurredAt missing', { occurredAt: undefined }, 'occurredAt', 'is required'],
    ['occurredAt without offset', { occurredAt: '2026-11-21T10:15:02' }, 'occurredAt', 'must be an ISO-8601 date-time'],
    ['occurredAt a date only', { occurredAt: '2026-11-21' }, 'occurredAt', 'must be an ISO-8601 date-time'],
    ['occurredAt an impossible date', { occurredAt: '2026-02-30T10:15:02Z' }, 'occurredAt', 'must be an ISO-8601 date-time'],
    ['occurredAt epoch ms', { occurredAt: 1795256102120 }, 'occurredAt', 'must be an ISO-8601 date-time'],
    ['agentId missing', { agentId: undefined }, 'agentId', 'is required'],
    ['agentId empty', { agentId: '' }, 'agentId', 'must not be empty'],
    ['state missing', { state: undefined }, 'state', 'is required'],
    ['state a string', { state: 'Available' }, 'state', 'must be an object'],
    ['state name unknown', { state: { state: 'Lunch' } }, 'state.state', STATES],
    ['state name in lower case', { state: { state: 'available' } }, 'state.state', STATES],
    ['state code empty', { state: { state: 'Unavailable', code: '' } }, 'state.code', 'must not be empty'],
    ['state code a number', { state: { state: 'Unavailable', code: 3 } }, 'state.code', 'must be a non-empty string'],
    ['previous state name unknown', { previous: { state: 'Gone' } }, 'previous.state', STATES],
    ['previous null', { previous: null }, 'previous', 'must be an object'],
    ['sequence negative', { sequence: -1 }, 'sequence', 'must be a non-negative safe integer'],
    ['sequence fractional', { sequence: 1.5 }, 'sequence', 'must be a non-negative safe integer'],
    ['sequence unsafe', { sequence: 2 ** 53 }, 'sequence', 'must be a non-negative safe integer'],
    ['sequence a string', { sequence: '7' }, 'sequence', 'must be a non-negative safe integer'],
  ])('refuses %s, single and in a batch', (_label, over, path, message) => {
    const bad = event(over);
    const single = errorsOf(bad);
    expect(single).toHaveLength(1);
    expect(single[0]).toMatchObject({ index: 0, path });
    expect(single[0].message).toContain(message);

    const batch = errorsOf({ events: [event({ eventId: 'ok-0' }), event({ eventId: 'ok-1' }), bad] });
    expect(batch).toHaveLength(1);
    expect(batch[0]).toMatchObject({ index: 2, path: `events[2].${path}` });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['agentId', { agentId: 'a'.repeat(257) }, 'agentId'],
    ['state.code', { state: { state: 'Unavailable', code: 'c'.repeat(257) } }, 'state.code'],
    ['previous.code', { previous: { state: 'Unavailable', code: 'c'.repeat(257) } }, 'previous.code'],
    ['requestId', { requestId: 'r'.repeat(257) }, 'requestId'],
  ])('caps %s at 256 characters', (_label, over, path) => {
    expect(errorsOf(event(over))).toEqual([{ index: 0, path, message: 'must be at most 256 characters' }]);
    const fits = JSON.parse(JSON.stringify(over).replace(/(\w)\1{256}/, (run) => run.slice(1))) as Record<string, unknown>;
    expect(parse(event(fits)).ok).toBe(true);
  });

  it('answers a 1.9 MB field with one short problem that does not echo it', () => {
    const errors = errorsOf({ events: [event(), event({ agentId: 'A'.repeat(1_900_000) })] });
    expect(errors).toEqual([{ index: 1, path: 'events[1].agentId', message: 'must be at most 256 characters' }]);
  });

  const LONE = 'must be well-formed UTF-16 (it holds a lone surrogate, e.g. an unpaired \\ud800 escape)';
  it.each<[string, Record<string, unknown>, string]>([
    ['a high surrogate in eventId', { eventId: 'e-\ud800' }, 'eventId'],
    ['a low surrogate in eventId', { eventId: '\udfff-e' }, 'eventId'],
    ['reversed halves in agentId', { agentId: 'a-\ude00\ud83d' }, 'agentId'],
    ['a lone surrogate in a code', { state: { state: 'Unavailable', code: 'L\ud834unch' } }, 'state.code'],
    ['a lone surrogate in the previous code', { previous: { state: 'Unavailable', code: '\udc00' } }, 'previous.code'],
    ['a lone surrogate in requestId', { requestId: 'r-\udbff' }, 'requestId'],
  ])('refuses %s, naming the field', (_label, over, path) => {
    // JSON.stringify writes a lone surrogate as a \u escape: the body itself is valid UTF-8 and valid JSON.
    const body = JSON.stringify(event(over));
    expect(body).toMatch(/\\ud[89a-f][0-9a-f]{2}/);
    expect(errorsOf(body)).toEqual([{ index: 0, path, message: LONE }]);
  });

  it('keeps distinct ids distinct: two ids that differ only in a lone surrogate are both refused, a real pair is taken', () => {
    const result = errorsOf({ events: [event({ eventId: 'dup-\ud800' }), event({ eventId: 'dup-\ud801' })] });
    expect(result.map((e) => e.path)).toEqual(['events[0].eventId', 'events[1].eventId']);
    const pair = parse(event({ eventId: 'emoji-😀', agentId: 'a-\ud83d\ude00', state: { state: 'Unavailable', code: 'Pause ☕' } }));
    expect(pair.ok && pair.changes[0]).toMatchObject({ eventId: 'emoji-😀', agentId: 'a-😀', state: { code: 'Pause ☕' } });
  });

  describe('occurredAt is bounded by the receive time', () => {
    const at = (ms: number) => new Date(ms).toISOString();
    it('takes an event up to the signature tolerance (300 s) ahead, and any time in the past', () => {
      for (const occurredAt of [at(RECEIVED + 300_000), at(RECEIVED + 1), at(RECEIVED - 400 * 86_400_000)]) {
        expect(parse(event({ occurredAt })).ok).toBe(true);
      }
    });

    it('refuses an event further ahead, naming occurredAt; the whole batch is refused', () => {
      const ahead = event({ eventId: 'e-future', occurredAt: at(RECEIVED + 400 * 86_400_000) });
      expect(errorsOf(event({ occurredAt: at(RECEIVED + 300_001) }))).toEqual([
        { index: 0, path: 'occurredAt', message: 'is 301 s ahead of the time it was received (at most 300 s ahead is accepted; is the sender’s clock right?)' },
      ]);
      expect(errorsOf({ events: [event(), ahead] })).toEqual([
        { index: 1, path: 'events[1].occurredAt', message: expect.stringMatching(/^is 34560000 s ahead of the time it was received/) },
      ]);
    });

    it('uses the configured tolerance', () => {
      const body = Buffer.from(JSON.stringify(event({ occurredAt: at(RECEIVED + 60_000) })));
      expect(parseGenericEvents(body, RECEIVED, { toleranceSec: 60 }).ok).toBe(true);
      expect(parseGenericEvents(body, RECEIVED, { toleranceSec: 59 })).toEqual({
        ok: false,
        errors: [{ index: 0, path: 'occurredAt', message: expect.stringContaining('at most 59 s ahead') }],
      });
    });
  });

  it('takes the optional requestId into the change', () => {
    const result = parse({ events: [event({ eventId: 'e-1', requestId: 'w-7f3a' }), event({ eventId: 'e-2' })] });
    expect(result.ok && result.changes.map((c) => c.requestId)).toEqual(['w-7f3a', undefined]);
    expect(result.ok && 'requestId' in result.changes[1]).toBe(false);
    expect(errorsOf(event({ requestId: '' }))).toEqual([{ index: 0, path: 'requestId', message: 'must not be empty' }]);
    expect(errorsOf(event({ requestId: 7 }))).toEqual([{ index: 0, path: 'requestId', message: 'must be a non-empty string' }]);
  });

  it('bounds sequence to a non-negative safe integer', () => {
    expect(parse(event({ sequence: Number.MAX_SAFE_INTEGER })).ok).toBe(true);
    expect(errorsOf(event({ sequence: Number.MAX_SAFE_INTEGER + 1 }))).toEqual([{ index: 0, path: 'sequence', message: 'must be a non-negative safe integer' }]);
  });

  it('is all or nothing: one bad event fails the batch and lists every problem', () => {
    const result = parse({ events: [event(), event({ agentId: '', state: { state: 'Nope' } }), event(), 42] });
    expect(result).toEqual({
      ok: false,
      errors: [
        { index: 1, path: 'events[1].agentId', message: 'must not be empty' },
        { index: 1, path: 'events[1].state.state', message: expect.stringContaining('must be one of') },
        { index: 3, path: 'events[3]', message: 'must be an event object' },
      ],
    });
  });

  it(`lists at most ${GENERIC_MAX_REPORTED_ERRORS} problems and counts the rest`, () => {
    const errors = errorsOf({ events: Array.from({ length: 60 }, () => ({})) });
    expect(errors).toHaveLength(GENERIC_MAX_REPORTED_ERRORS + 1);
    expect(errors.at(-1)).toEqual({ index: null, path: '', message: `${60 * 4 - GENERIC_MAX_REPORTED_ERRORS} more problem(s) not listed` });
  });
});
