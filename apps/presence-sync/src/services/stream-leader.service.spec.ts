import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import type { AppConfig } from '@presence-sync/config';
import { ChangeSource, type InboundSink } from '@presence-sync/domain';
import { MetricsService } from './metrics.service';
import { LeasedSource } from './leased-source';
import { StreamLeader } from './stream-leader.service';

const TTL_MS = 90;

/**
 * The part of Redis a `RedisLease` uses, in memory: `SET … PX … NX`, the two compare-and-act scripts, `GET`.
 * `failing` makes every call reject, `hanging` makes every call wait forever (ioredis while Redis is away).
 */
class FakeRedis {
  readonly values = new Map<string, { value: string; until: number }>();
  failing = false;
  hanging = false;

  private live(key: string): string | undefined {
    const entry = this.values.get(key);
    if (entry && entry.until <= Date.now()) this.values.delete(key);
    return this.values.get(key)?.value;
  }

  private answer<T>(value: () => T): Promise<T> {
    if (this.hanging) return new Promise<T>(() => undefined);
    if (this.failing) return Promise.reject(new Error('connection lost'));
    return Promise.resolve(value());
  }

  set(key: string, value: string, _px: 'PX', ttl: number, _nx: 'NX'): Promise<'OK' | null> {
    return this.answer(() => {
      if (this.live(key) !== undefined) return null;
      this.values.set(key, { value, until: Date.now() + ttl });
      return 'OK';
    });
  }

  eval(script: string, _keys: number, key: string, token: string, ttl?: string): Promise<number> {
    return this.answer(() => {
      if (this.live(key) !== token) return 0;
      if (script.includes('PEXPIRE')) this.values.set(key, { value: token, until: Date.now() + Number(ttl) });
      else this.values.delete(key);
      return 1;
    });
  }

  get(key: string): Promise<string | null> {
    return this.answer(() => this.live(key) ?? null);
  }
}

/** A ChangeSource that records when it was started, failed and stopped. */
class FakeStream extends ChangeSource {
  running = false;
  /** Whether the running stream is connected (what `LeasedSourceOptions.connected` reports). */
  connected = true;
  starts = 0;
  failStart?: Error;
  startedAt = 0;
  failedAt = 0;
  stoppedAt = 0;

  async start(): Promise<void> {
    this.starts++;
    if (this.failStart) {
      this.failedAt = Date.now();
      throw this.failStart;
    }
    this.running = true;
    this.startedAt = Date.now();
  }

  async stop(): Promise<void> {
    if (this.running) this.stoppedAt = Date.now();
    this.running = false;
  }
}

const configWith = (ttlMs: number) => ({ redis: { prefix: 'unit' }, salesforce: { streamLeaseTtlMs: ttlMs } }) as AppConfig;
const sink = { accept: async () => ({ accepted: 0, duplicates: 0 }) } as unknown as InboundSink;

async function until(predicate: () => boolean, what: string, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe(StreamLeader.name, () => {
  const leaders: StreamLeader[] = [];
  let redis: FakeRedis;

  beforeAll(() => Logger.overrideLogger(false));

  const replica = (ttlMs = TTL_MS) => {
    const stream = new FakeStream();
    const metrics = new MetricsService();
    const leader = new StreamLeader(configWith(ttlMs), redis as unknown as Redis, stream, metrics);
    leaders.push(leader);
    const gauge = async () => (await metrics.registry.getSingleMetric('presence_sync_stream_active')!.get()).values[0].value;
    return { leader, stream, gauge };
  };

  beforeEach(() => {
    redis = new FakeRedis();
  });

  afterEach(async () => {
    redis.failing = false;
    redis.hanging = false;
    for (const l of leaders.splice(0)) await l.stop();
  });

  it('runs the stream on one replica only; a clean stop hands it over before the lease would expire', async () => {
    // A longer TTL here: the handover (the standby's next attempt, TTL/3) must visibly beat the expiry.
    const ttlMs = 600;
    const a = replica(ttlMs);
    const b = replica(ttlMs);
    await a.leader.start(sink, () => undefined);
    await b.leader.start(sink, () => undefined);
    expect([a.leader.isActive, a.stream.running, await a.gauge()]).toEqual([true, true, 1]);
    expect([b.leader.isActive, b.stream.starts, await b.gauge()]).toEqual([false, 0, 0]);
    expect((await b.leader.status()).holder).toBe((await a.leader.status()).replica);

    await a.leader.stop();
    expect(a.stream.running).toBe(false);
    expect(redis.values.size).toBe(0);
    await until(() => b.stream.running, 'the standby starts the stream');
    expect(b.leader.isActive).toBe(true);
    expect(b.stream.startedAt - a.stream.stoppedAt).toBeLessThan(ttlMs);
  });

  it('stops the stream at once when a renewal finds the lease taken by another replica', async () => {
    const a = replica();
    await a.leader.start(sink, () => undefined);
    redis.values.set('unit:lease:salesforce-stream', { value: 'someone-else', until: Date.now() + 60_000 });
    await until(() => !a.stream.running, 'the stream stops');
    expect([a.leader.isActive, await a.gauge(), (await a.leader.status()).role]).toEqual([false, 0, 'standby']);
  });

  it('stops the stream when a renewal fails', async () => {
    const a = replica();
    await a.leader.start(sink, () => undefined);
    redis.failing = true;
    await until(() => !a.stream.running, 'the stream stops');
    expect(a.leader.isActive).toBe(false);
    // Redis is back and the lease has expired meanwhile: this replica takes it again.
    redis.failing = false;
    await until(() => a.stream.running && a.leader.isActive, 'the replica takes the lease again');
  });

  it('stops the stream when no renewal answers within the TTL (Redis away, calls hanging)', async () => {
    const a = replica();
    await a.leader.start(sink, () => undefined);
    const hungAt = Date.now();
    redis.hanging = true;
    await until(() => !a.stream.running, 'the stream stops');
    // The lease counts from the last renewal sent (before hungAt): lost by then, give or take a timer's delay.
    expect(a.stream.stoppedAt - hungAt).toBeLessThanOrEqual(TTL_MS + 60);
    expect(a.leader.isActive).toBe(false);
  });

  it('a stream that cannot start stops the boot and frees the lease for another replica', async () => {
    const a = replica();
    a.stream.failStart = new Error('no PushTopic');
    await expect(a.leader.start(sink, () => undefined)).rejects.toThrow('no PushTopic');
    expect(redis.values.size).toBe(0);
    const b = replica();
    await b.leader.start(sink, () => undefined);
    expect(b.leader.isActive).toBe(true);
  });

  it('after boot, a failed takeover hands the lease back and stays out for one TTL', async () => {
    const a = replica();
    const b = replica();
    await a.leader.start(sink, () => undefined);
    b.stream.failStart = new Error('login refused');
    await b.leader.start(sink, () => undefined);
    await a.leader.stop();
    await until(() => b.stream.starts === 1 && !b.leader.isActive && redis.values.size === 0, 'the standby tried, failed and released');
    b.stream.failStart = undefined;
    await until(() => b.stream.running, 'the standby tries again later');
    expect(b.stream.startedAt - b.stream.failedAt).toBeGreaterThanOrEqual(TTL_MS);
  });
});

describe(LeasedSource.name, () => {
  const GIVE_UP_MS = 300;
  const sources: LeasedSource[] = [];
  let redis: FakeRedis;

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => {
    redis = new FakeRedis();
  });
  afterEach(async () => {
    for (const s of sources.splice(0)) await s.stop();
  });

  const replica = () => {
    const stream = new FakeStream();
    const source = new LeasedSource(redis as unknown as Redis, {
      what: 'test stream', leaseKey: 'unit:lease:test', leaseTtlMs: TTL_MS, source: stream,
      connected: () => stream.connected, giveUpAfterMs: GIVE_UP_MS,
    });
    sources.push(source);
    return { source, stream };
  };

  it('keeps the lease through an outage shorter than giveUpAfterMs', async () => {
    const a = replica();
    await a.source.start(sink, () => undefined);
    a.stream.connected = false;
    await until(() => a.source.isActive && a.stream.running, 'still active');
    await new Promise((r) => setTimeout(r, GIVE_UP_MS / 2));
    expect((await a.source.status()).downSince).not.toBeNull();
    a.stream.connected = true;
    await new Promise((r) => setTimeout(r, GIVE_UP_MS * 2));
    expect([a.source.isActive, a.stream.running, a.stream.starts]).toEqual([true, true, 1]);
    expect((await a.source.status()).downSince).toBeNull();
  });

  it('hands the lease on once its started stream has been down for giveUpAfterMs; another replica takes it', async () => {
    const a = replica();
    const b = replica();
    await a.source.start(sink, () => undefined);
    await b.source.start(sink, () => undefined);
    const downAt = Date.now();
    a.stream.connected = false;
    await until(() => b.source.isActive && b.stream.running, 'the other replica runs the stream', 3_000);
    expect([a.source.isActive, a.stream.running]).toEqual([false, false]);
    // Not before the stream was down for the whole give-up time; soon after it (a renewal every TTL/3).
    expect(a.stream.stoppedAt - downAt).toBeGreaterThanOrEqual(GIVE_UP_MS);
    expect(a.stream.stoppedAt - downAt).toBeLessThan(GIVE_UP_MS + TTL_MS + 200);
    expect((await a.source.status()).holder).toBe((await b.source.status()).replica);
    // The replica that gave up stays a standby while the other holds the lease.
    await new Promise((r) => setTimeout(r, TTL_MS * 2));
    expect([a.source.isActive, a.stream.starts, b.source.isActive]).toEqual([false, 1, true]);
  });

  it('alone, it gives up, stays out for one TTL and then starts its stream again', async () => {
    const a = replica();
    await a.source.start(sink, () => undefined);
    a.stream.connected = false;
    await until(() => !a.stream.running, 'the stream is given up');
    const gaveUpAt = a.stream.stoppedAt;
    a.stream.connected = true;
    await until(() => a.stream.starts === 2 && a.source.isActive, 'the replica takes the lease again');
    expect(a.stream.startedAt - gaveUpAt).toBeGreaterThanOrEqual(TTL_MS);
  });
});
