import { AgentEventStreamReader, AmazonConnectConnector, LocalTokenBucket, RedisTokenBucket } from '@presence-sync/connector-amazon-connect';
import type { InboundChange, InboundSink, IntakeResult } from '@presence-sync/domain';
import Redis from 'ioredis';
import { RecordingSink } from '../conformance/connector-harness';
import { MemoryCheckpointStore } from '../conformance/cxone.harness';
import { amazonConnectSeed } from '../conformance/amazon-connect.harness';
import { startRedisServer, type RedisServerHandle } from '../redis-server';
import { AMAZON_CONNECT_EMULATOR_CREDENTIALS, AmazonConnectEmulator } from './amazon-connect-emulator';

const ADA = 'a1b2c3d4-0000-4000-8000-000000000001';
const BEN = 'a1b2c3d4-0000-4000-8000-000000000002';

async function until(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A sink whose `accept` waits for the test while gated. */
class GatedSink extends RecordingSink implements InboundSink {
  gated = false;
  calls = 0;
  private gates: Array<{ go: () => void; fail: (e: Error) => void }> = [];
  override async accept(changes: InboundChange[]): Promise<IntakeResult> {
    this.calls++;
    if (this.gated) await new Promise<void>((go, fail) => this.gates.push({ go, fail }));
    return super.accept(changes);
  }
  get waiting(): number {
    return this.gates.length;
  }
  open(): void {
    this.gated = false;
    for (const g of this.gates.splice(0)) g.go();
  }
  fail(): void {
    for (const g of this.gates.splice(0)) g.fail(new Error('redis down'));
  }
}

describe(AmazonConnectConnector.name, () => {
  let emulator: AmazonConnectEmulator;
  let endpoints: { endpoint: string; kinesisEndpoint: string };
  const connectors: AmazonConnectConnector[] = [];
  const make = (checkpoints = new MemoryCheckpointStore(), extra: Partial<ConstructorParameters<typeof AmazonConnectConnector>[0]> = {}) => {
    const c = new AmazonConnectConnector({
      instanceId: emulator.instanceId, region: emulator.region, agentEventStream: emulator.streamName,
      connectEndpoint: endpoints.endpoint, kinesisEndpoint: endpoints.kinesisEndpoint, credentials: AMAZON_CONNECT_EMULATOR_CREDENTIALS,
      requestsPerSecond: 100, burst: 100, pollIntervalMs: 20, checkpoints, ...extra,
    });
    connectors.push(c);
    return c;
  };
  const lunch = () => emulator.statusByName('Lunch')?.id as string;
  const brk = () => emulator.statusByName('Break')?.id as string;
  const states = (sink: RecordingSink, agentId: string) => sink.of(agentId).map((c) => (c.side === 'acd' ? `${c.state.state}${c.state.code ? `:${c.state.code}` : ''}` : '?'));

  beforeEach(async () => {
    emulator = new AmazonConnectEmulator(amazonConnectSeed());
    endpoints = await emulator.start();
  });
  afterEach(async () => {
    for (const c of connectors.splice(0)) await c.stop();
    await emulator.stop();
  });

  it('stores a shard checkpoint only after the sink accepted, and rewinds to it when the sink failed', async () => {
    const checkpoints = new MemoryCheckpointStore();
    const c = make(checkpoints);
    await c.start();
    const sink = new GatedSink();
    await c.source.start(sink, sink.onGap);
    const key = c.source.checkpointKey(emulator.shardOf(ADA));
    const seqOf = () => (JSON.parse(checkpoints.values.get(key) ?? '{}') as { seq?: string }).seq;
    try {
      sink.gated = true;
      emulator.agentSetStatus(ADA, lunch());
      await until('a batch at the sink', () => sink.waiting > 0);
      expect(seqOf()).toBeUndefined();
      sink.fail();
      sink.gated = true;
      await until('the batch offered again', () => sink.waiting > 0);
      expect(seqOf()).toBeUndefined();
    } finally {
      sink.open();
    }
    await until('the checkpoint', () => seqOf() !== undefined);
    expect(states(sink, ADA)).toEqual(['Unavailable:Lunch']);
    expect(seqOf()).toMatch(/^\d+$/);
  });

  it('resumes from the checkpoint after a restart with nothing lost and no gap; HEART_BEAT is not a change', async () => {
    const checkpoints = new MemoryCheckpointStore();
    const first = make(checkpoints);
    await first.start();
    const sink1 = new RecordingSink();
    await first.source.start(sink1, sink1.onGap);
    expect(sink1.gaps).toHaveLength(1); // no checkpoint yet: reading from now on
    emulator.agentSetStatus(ADA, lunch());
    await until('Lunch', () => sink1.of(ADA).length === 1);
    await first.source.afterNextRound();
    await first.stop();

    // While no replica reads: the agent changes twice, a heartbeat comes, and another agent changes.
    emulator.agentSetStatus(ADA, brk());
    emulator.heartbeat(ADA);
    emulator.agentSetStatus(BEN, lunch());
    emulator.agentSetStatus(ADA, emulator.statusByName('Available')?.id as string);

    const second = make(checkpoints);
    await second.start();
    const sink2 = new RecordingSink();
    await second.source.start(sink2, sink2.onGap);
    await until('the missed changes', () => sink2.changes.length === 3);
    await second.source.afterNextRound();
    expect(states(sink2, ADA)).toEqual(['Unavailable:Break', 'Available']);
    expect(states(sink2, BEN)).toEqual(['Unavailable:Lunch']);
    expect(sink2.gaps).toEqual([]);
  });

  it('follows a split shard to its children once the parent is read to its end, keeping each agent in order', async () => {
    const checkpoints = new MemoryCheckpointStore();
    const c = make(checkpoints);
    await c.start();
    const sink = new RecordingSink();
    await c.source.start(sink, sink.onGap);
    const parent = emulator.shardOf(ADA);
    await c.source.stop(); // the parent gets records the reader has not read when the split happens
    emulator.agentSetStatus(ADA, lunch());
    emulator.agentSetStatus(BEN, lunch());
    const children = emulator.splitShard(parent);
    emulator.agentSetStatus(ADA, brk());
    emulator.agentSetStatus(BEN, brk());
    expect(children).toContain(emulator.shardOf(ADA));
    await c.source.start(sink, sink.onGap);
    await until('both agents on Break', () => sink.of(ADA).length === 2 && sink.of(BEN).length === 2);
    expect(states(sink, ADA)).toEqual(['Unavailable:Lunch', 'Unavailable:Break']);
    expect(states(sink, BEN)).toEqual(['Unavailable:Lunch', 'Unavailable:Break']);
    await until('the parent checkpoint done', () => JSON.parse(checkpoints.values.get(c.source.checkpointKey(parent)) ?? '{}').done === true);
    expect(sink.gaps).toHaveLength(1); // only the first start's
  });

  it('reports a gap when the checkpointed record is past the retention, and reads on from the trim horizon', async () => {
    const checkpoints = new MemoryCheckpointStore();
    const c = make(checkpoints);
    await c.start();
    const sink = new RecordingSink();
    await c.source.start(sink, sink.onGap);
    emulator.agentSetStatus(ADA, lunch());
    await until('Lunch', () => sink.of(ADA).length === 1);
    await c.source.afterNextRound();
    await c.source.stop();
    emulator.trimAll();
    emulator.agentSetStatus(ADA, brk());
    await c.source.start(sink, sink.onGap);
    await until('a gap', () => sink.gaps.length === 2);
    await until('Break', () => sink.of(ADA).length === 2);
    expect(sink.gaps[1]).toMatch(/no longer in the stream/);
  });

  it('costs GetCurrentUserData + PutUserStatus per write once the status catalog is warm', async () => {
    const c = make();
    await c.start();
    await c.setState({ agentId: ADA, state: { state: 'Unavailable', code: 'Lunch' }, requestId: 'r1' });
    const before = emulator.requests.filter((r) => r.api === 'connect').length;
    await c.setState({ agentId: ADA, state: { state: 'Available' }, requestId: 'r2' });
    const calls = emulator.requests.filter((r) => r.api === 'connect').slice(before).map((r) => r.operation);
    expect(calls).toEqual(['GetCurrentUserData', 'PutUserStatus']);
  });
});

describe('Connect rate limiters', () => {
  it('LocalTokenBucket lets a burst through, then spaces calls at the rate', async () => {
    const bucket = new LocalTokenBucket(20, 2);
    const start = Date.now();
    for (let i = 0; i < 6; i++) await bucket.take();
    // 2 from the burst, 4 at 20/s: at least 200 ms.
    expect(Date.now() - start).toBeGreaterThanOrEqual(180);
  });

  describe(RedisTokenBucket.name, () => {
    let server: RedisServerHandle | undefined;
    let redis: Redis;
    beforeAll(async () => {
      const url = process.env.REDIS_URL;
      if (url) redis = new Redis(url);
      else {
        server = await startRedisServer();
        redis = new Redis(server.url);
      }
    });
    afterAll(async () => {
      redis.disconnect();
      await server?.stop();
    });

    it('shares one budget between replicas', async () => {
      const key = `test:amazon-connect:bucket:${Date.now()}:${Math.random()}`;
      const a = new RedisTokenBucket(redis, key, 20, 2);
      const b = new RedisTokenBucket(redis, key, 20, 2);
      const start = Date.now();
      await Promise.all([0, 1, 2].map(() => a.take()).concat([0, 1, 2].map(() => b.take())));
      // 6 calls on one bucket of 2 + 20/s: at least 200 ms however they are split between the replicas.
      expect(Date.now() - start).toBeGreaterThanOrEqual(180);
      expect(a.waits + b.waits).toBeGreaterThan(0);
    });
  });
});

// Keeps the reader class in the public API (the daemon's lease code only sees ChangeSource).
void AgentEventStreamReader;
