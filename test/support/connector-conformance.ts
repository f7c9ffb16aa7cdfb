import { randomUUID } from 'node:crypto';
import {
  ON_CONTACT_REASON,
  PermanentWriteError,
  RateLimitedError,
  RetryableWriteError,
  SETTABLE_ACD_STATES,
  acdStateKey,
  isSettable,
  sameAcdState,
  type AcdChange,
  type AcdState,
  type AcdWriteResult,
  type SettableAcdState,
} from '@presence-sync/domain';
import type { ConnectorHarness } from '@presence-sync/testing';

/** How long a change may take from the vendor to the sink in the suite. */
const DELIVERY_TIMEOUT_MS = 10_000;
/** How far a change's `occurredAt` may be from our clock (the vendor's clock, its delivery delay). */
const CLOCK_WINDOW_MS = 10_000;

/** Resolves with the first truthy value of `probe`, checked every 10 ms; fails with `what` after `timeoutMs`. */
async function waitFor<T>(what: string, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = DELIVERY_TIMEOUT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() >= deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The error a promise rejects with (fails the test if it resolves). */
async function failureOf(promise: Promise<unknown>, what: string): Promise<unknown> {
  try {
    const value = await promise;
    throw new Error(`${what} succeeded with ${JSON.stringify(value)}; expected it to fail`);
  } catch (error) {
    return error;
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function expectPermanent(error: unknown): asserts error is PermanentWriteError {
  if (!(error instanceof PermanentWriteError)) throw new Error(`expected a PermanentWriteError, got ${describeError(error)}`);
}

const unavailable = (code: string): SettableAcdState => ({ state: 'Unavailable', code });
const AVAILABLE: SettableAcdState = { state: 'Available' };

/**
 * The behaviours every contact-center connector must have, run by each connector against its emulator
 * (docs/architecture.md, "Connectors"). A connector joins by writing a `ConnectorHarness` over its emulator and a
 * spec that calls `connectorConformance('<vendor>', makeHarness)`. Each case gets a fresh harness and stops it.
 * Where vendors legitimately differ, the case reads `connector.capabilities` instead of asking which vendor it is.
 */
export function connectorConformance(name: string, makeHarness: () => Promise<ConnectorHarness>): void {
  const run = (title: string, body: (h: ConnectorHarness) => Promise<void>, timeoutMs = 30_000) =>
    it(title, async () => {
      const h = await makeHarness();
      try {
        await body(h);
      } finally {
        await h.stop();
      }
    }, timeoutMs);

  /** The first change of `agentId` delivered after position `from` of its changes that is in `state`. */
  const changeTo = (h: ConnectorHarness, agentId: string, state: AcdState | ((s: AcdState) => boolean), from = 0): Promise<AcdChange> => {
    const matches = typeof state === 'function' ? state : (s: AcdState) => sameAcdState(s, state);
    const what = typeof state === 'function' ? 'a matching state' : acdStateKey(state);
    return waitFor(`a change of ${agentId} to ${what}`, () =>
      h.received.of(agentId).slice(from).find((c): c is AcdChange => c.side === 'acd' && matches(c.state)));
  };
  const delivered = (h: ConnectorHarness, agentId: string) => h.received.of(agentId).length;
  const stateIs = (h: ConnectorHarness, agentId: string, state: AcdState) =>
    waitFor(`the vendor to hold ${acdStateKey(state)} for ${agentId}`, async () => sameAcdState(await h.stateOf(agentId), state));
  const write = (h: ConnectorHarness, agentId: string, state: SettableAcdState, requestId = randomUUID()) =>
    h.connector.setState({ agentId, state, requestId });
  /** Not on a contact: the write is done now, or taken and reported later; never deferred. */
  const expectTaken = (result: AcdWriteResult, state: AcdState) => {
    expect(['applied', 'accepted']).toContain(result.kind);
    if (result.kind === 'applied') expect(acdStateKey(result.state)).toBe(acdStateKey(state));
  };
  const expectFresh = (change: AcdChange, agentId: string, before: number) => {
    expect(change.agentId).toBe(agentId);
    expect(typeof change.eventId).toBe('string');
    expect(change.eventId.length).toBeGreaterThan(0);
    expect(change.occurredAt).toBeGreaterThanOrEqual(before - CLOCK_WINDOW_MS);
    expect(change.occurredAt).toBeLessThanOrEqual(Date.now() + CLOCK_WINDOW_MS);
  };

  describe(`${name}: the connector conformance suite`, () => {
    run('directory: lists the seeded agents with e-mail, team and state, and the team with its enabled codes', async (h) => {
      const agents = await h.connector.listAgents();
      for (const seeded of h.agents) {
        const listed = agents.find((a) => a.agentId === seeded.agentId);
        expect(listed).toBeDefined();
        expect(listed?.email?.toLowerCase()).toBe(seeded.email.toLowerCase());
        expect(listed?.teamId).toBe(h.team.teamId);
        // Seeded agents are logged in and Available.
        expect(listed?.state).toEqual({ state: 'Available' });
      }
      expect(agents.some((a) => a.agentId === h.unknownAgentId)).toBe(false);
      const teams = await h.connector.listTeams();
      const team = teams.find((t) => t.teamId === h.team.teamId);
      expect(team).toBeDefined();
      expect(team?.name).toEqual(expect.any(String));
      expect(team?.unavailableCodes).toEqual(expect.arrayContaining([...h.team.codes]));
      if (h.team.disabledCode) expect(team?.unavailableCodes).not.toContain(h.team.disabledCode);
    });

    run("inbound: an agent's own changes arrive with the state, agent id, event id and a current time", async (h) => {
      const [{ agentId }] = h.agents;
      const steps: SettableAcdState[] = [unavailable(h.team.codes[0]), AVAILABLE];
      if (h.reportsLogout !== false) steps.push({ state: 'Offline' });
      for (const state of steps) {
        const before = Date.now();
        const from = delivered(h, agentId);
        await h.agentSets(agentId, state);
        const change = await changeTo(h, agentId, state, from);
        expectFresh(change, agentId, before);
      }
      const ids = h.received.of(agentId).map((c) => c.eventId);
      expect(new Set(ids).size).toBe(ids.length);
    });

    run('contact: a contact shows as Busy, wrap-up as AfterWork, and its end as a settable state', async (h) => {
      const [{ agentId }] = h.agents;
      let from = delivered(h, agentId);
      await h.startContact(agentId);
      await changeTo(h, agentId, { state: 'Busy' }, from);
      from = delivered(h, agentId);
      await h.endContact(agentId, { wrapUp: true });
      const afterWork = await changeTo(h, agentId, (s) => s.state === 'AfterWork', from);
      if (h.connector.capabilities.afterWorkCodes) expect(afterWork.state.code).toEqual(expect.stringMatching(/./));
      from = delivered(h, agentId);
      await h.endWrapUp(agentId);
      const after = await changeTo(h, agentId, (s) => s.state !== 'AfterWork', from);
      expect(isSettable(after.state)).toBe(true);
      expect(isSettable(await h.stateOf(agentId))).toBe(true);
    });

    run('outbound: writes are applied at the vendor and the reported change identifies our write', async (h) => {
      const [{ agentId }] = h.agents;
      // Unavailable first: the agent starts Available, and a write of the state held reports nothing.
      for (const state of [unavailable(h.team.codes[0]), AVAILABLE]) {
        const requestId = randomUUID();
        const from = delivered(h, agentId);
        const result = await write(h, agentId, state, requestId);
        expectTaken(result, state);
        await stateIs(h, agentId, state);
        const echo = await changeTo(h, agentId, state, from);
        // The engine recognises its echo by requestId when the vendor carries it, else by state and time.
        if (h.connector.capabilities.echoesRequestId) expect(echo.requestId).toBe(requestId);
      }
    });

    run('deferral: a write during a contact is deferred to its end, or refused so the engine holds it', async (h) => {
      const [{ agentId }] = h.agents;
      const wanted = unavailable(h.team.codes[1]);
      await h.startContact(agentId);
      await waitFor(`${agentId} on a contact`, async () => (await h.stateOf(agentId)).state === 'Busy');
      const requestId = randomUUID();
      if (h.connector.capabilities.onContact === 'deferred') {
        const result = await write(h, agentId, wanted, requestId);
        // `accepted` is the same promise made asynchronously: the outcome comes as a change.
        expect(['deferred', 'accepted']).toContain(result.kind);
        expect((await h.stateOf(agentId)).state).toBe('Busy');
        const from = delivered(h, agentId);
        await h.endContact(agentId, { wrapUp: true });
        await h.endWrapUp(agentId);
        await stateIs(h, agentId, wanted);
        const echo = await changeTo(h, agentId, wanted, from);
        if (h.connector.capabilities.echoesRequestId) expect(echo.requestId).toBe(requestId);
      } else {
        const error = await failureOf(write(h, agentId, wanted, requestId), 'a write during a contact');
        expectPermanent(error);
        expect(error.reason).toBe(ON_CONTACT_REASON);
        expect((await h.stateOf(agentId)).state).toBe('Busy');
        await h.endContact(agentId, { wrapUp: true });
        await h.endWrapUp(agentId);
        await h.settle();
        // The vendor kept nothing to apply later: holding the write is the engine's job.
        expect(sameAcdState(await h.stateOf(agentId), wanted)).toBe(false);
      }
    });

    run('codes: a code not enabled for the team, an unknown code and a state that cannot be set are refused for good', async (h) => {
      const [{ agentId }] = h.agents;
      const refused = [unavailable(`no-such-code-${randomUUID().slice(0, 8)}`)];
      if (h.team.disabledCode) refused.push(unavailable(h.team.disabledCode));
      for (const state of refused) expectPermanent(await failureOf(write(h, agentId, state), `a write of ${acdStateKey(state)}`));
      expect(await h.stateOf(agentId)).toEqual({ state: 'Available' });

      // Not settable here: the states the connector does not list, and the ones contacts cause. Every API call
      // now fails with a 503 for a while, so a connector that asks the vendor gets a retryable error, not a permanent one.
      const notSettable = [
        ...SETTABLE_ACD_STATES.filter((s) => !h.connector.capabilities.settable.includes(s)),
        'Busy', 'AfterWork',
      ].map((state) => ({ state }) as SettableAcdState);
      h.failNext(notSettable.length * 5, { status: 503 });
      for (const state of notSettable) expectPermanent(await failureOf(write(h, agentId, state), `a write of ${state.state}`));
      expect(await h.stateOf(agentId)).toEqual({ state: 'Available' });
    });

    run('unknown agent: a write for an agent the vendor does not know is refused for good', async (h) => {
      expectPermanent(await failureOf(write(h, h.unknownAgentId, AVAILABLE), 'a write for an unknown agent'));
    });

    run('429: a write reports the pause asked for; a read waits it out or reports it', async (h) => {
      const [{ agentId }] = h.agents;
      const state = unavailable(h.team.codes[0]);
      h.failNext(1, { status: 429, retryAfterSec: 2 });
      const error = await failureOf(write(h, agentId, state), 'a rate-limited write');
      if (!(error instanceof RateLimitedError)) throw new Error(`expected a RateLimitedError, got ${describeError(error)}`);
      expect(error.retryAfterMs).toBeGreaterThanOrEqual(2000);
      expect(await h.stateOf(agentId)).toEqual({ state: 'Available' });

      h.failNext(1, { status: 429, retryAfterSec: 2 });
      try {
        const agents = await h.connector.listAgents();
        expect(agents.map((a) => a.agentId)).toEqual(expect.arrayContaining(h.agents.map((a) => a.agentId)));
      } catch (e) {
        if (!(e instanceof RateLimitedError)) throw new Error(`a rate-limited read must wait or throw RateLimitedError, got ${describeError(e)}`);
        expect(e.retryAfterMs).toBeGreaterThanOrEqual(2000);
      }
    });

    run('5xx: a write fails retryably without retrying inside; the same request then goes through once; reads retry by themselves', async (h) => {
      const [{ agentId }] = h.agents;
      const state = unavailable(h.team.codes[0]);
      const requestId = randomUUID();
      h.failNext(1, { status: 503 });
      const error = await failureOf(write(h, agentId, state, requestId), 'a write answered 503');
      if (!(error instanceof RetryableWriteError)) throw new Error(`expected a RetryableWriteError, got ${describeError(error)}`);
      expect(await h.stateOf(agentId)).toEqual({ state: 'Available' });
      // The queue's retry: same requestId.
      expectTaken(await write(h, agentId, state, requestId), state);
      await stateIs(h, agentId, state);

      h.failNext(1, { status: 503 });
      const agents = await h.connector.listAgents();
      expect(agents.find((a) => a.agentId === agentId)?.state).toEqual(state);
    });

    run('token expiry: the connector gets a new token by itself for reads and writes', async (h) => {
      const [{ agentId }] = h.agents;
      h.expireToken();
      expect((await h.connector.listAgents()).map((a) => a.agentId)).toEqual(expect.arrayContaining([agentId]));
      h.expireToken();
      const state = unavailable(h.team.codes[0]);
      expectTaken(await write(h, agentId, state), state);
      await stateIs(h, agentId, state);
      h.expireToken();
      expect((await h.connector.listTeams()).some((t) => t.teamId === h.team.teamId)).toBe(true);
    });

    run('reconnect: a change made while delivery was down arrives late, or is reported as a gap where the vendor cannot redeliver, and the listing shows it', async (h) => {
      const [{ agentId }] = h.agents;
      const state = unavailable(h.team.codes[1]);
      const from = delivered(h, agentId);
      h.interruptDelivery();
      await h.agentSets(agentId, state);
      await h.resumeDelivery();
      const gapsBefore = h.received.gaps.length;
      if (h.afterOutage === 'redelivers') {
        await waitFor(`the missed change of ${agentId}`, () => h.received.of(agentId).slice(from).some((c) => c.side === 'acd' && sameAcdState(c.state, state)));
      } else {
        await waitFor('a gap report', () => h.received.gaps.length > gapsBefore);
      }
      const listed = (await h.connector.listAgents()).find((a) => a.agentId === agentId);
      expect(listed?.state).toEqual(state);
    });

    run('duplicates: an event the vendor sends twice reaches the engine once', async (h) => {
      const [{ agentId }] = h.agents;
      const state = unavailable(h.team.codes[0]);
      const from = delivered(h, agentId);
      h.duplicateNext();
      await h.agentSets(agentId, state);
      await changeTo(h, agentId, state, from);
      await h.settle();
      // The sink drops a repeated event id; a connector that gave the copy a new id would show it twice here.
      expect(h.received.of(agentId).slice(from).filter((c) => c.side === 'acd' && sameAcdState(c.state, state))).toHaveLength(1);
    });

    run('out of order: both changes arrive, and their sequence or time tells which came first', async (h) => {
      const [{ agentId }] = h.agents;
      const [first, second] = [unavailable(h.team.codes[0]), unavailable(h.team.codes[1])];
      const from = delivered(h, agentId);
      h.reorderNext();
      await h.agentSets(agentId, first);
      await h.agentSets(agentId, second);
      const older = await changeTo(h, agentId, first, from);
      const newer = await changeTo(h, agentId, second, from);
      // The engine's stale rule (libs/sync, ingest): by sequence when both have one, else by time (1 ms resolution).
      if (older.sequence !== undefined && newer.sequence !== undefined) {
        expect(older.sequence).toBeLessThan(newer.sequence);
        expect(older.occurredAt).toBeLessThanOrEqual(newer.occurredAt);
      } else {
        expect(older.occurredAt).toBeLessThan(newer.occurredAt);
      }
    });

    run('health: up while the vendor answers; down with a reason and no secret while it fails', async (h) => {
      expect((await h.connector.health()).up).toBe(true);
      // More failures than any connector retries within one check.
      h.failNext(50, { status: 503 });
      const health = await h.connector.health();
      expect(health.up).toBe(false);
      expect(health.detail.length).toBeGreaterThan(0);
      for (const secret of h.secrets ?? []) expect(health.detail).not.toContain(secret);
    });
  });
}
