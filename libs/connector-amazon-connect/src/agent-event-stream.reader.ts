import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  type KinesisClient,
  type Shard,
  type ShardIteratorType,
} from '@aws-sdk/client-kinesis';
import {
  ChangeSource,
  ConfigError,
  SILENT_CONNECTOR_LOGGER,
  type AcdChange,
  type CheckpointStore,
  type ConnectorLogger,
  type InboundSink,
} from '@presence-sync/domain';
import { parseAgentEvent, type AgentEvent } from './amazon-connect-agent-event.mapping';

export interface AgentEventStreamReaderOptions {
  /** The stream's name or ARN. */
  stream: string;
  /** Pause between reads of a shard that had nothing new, ms. */
  pollIntervalMs: number;
  /** A checkpoint older than this is past the stream's retention: the shard is read from the trim horizon and a gap reported, ms. */
  checkpointMaxAgeMs: number;
  /** Turns an agent event into a change (undefined: ignored, e.g. HEART_BEAT). */
  toChange: (event: AgentEvent, receivedAt: number) => AcdChange | undefined;
  /** Records per GetRecords call. Default 1000. */
  batchSize?: number;
  /** Longest pause while reads fail, ms. Default 10000. */
  maxBackoffMs?: number;
  now?: () => number;
  logger?: ConnectorLogger;
}

/** What is stored per shard, only after the sink accepted everything up to `seq`. */
interface ShardCheckpoint {
  /** The last sequence number handed to the sink (absent: nothing read yet). */
  seq?: string;
  /** Without `seq`: read from this arrival time, epoch ms (the first start's "from now on", kept across restarts). */
  at?: number;
  /** The shard is closed and read to its end: its children may be read. */
  done?: boolean;
  savedAt: number;
}

/**
 * The first start reads each open shard from a little before now (AT_TIMESTAMP, by Kinesis' arrival time), so a
 * few seconds of clock skew between this host and Kinesis lose nothing; older events read again this way are
 * dropped by the engine as stale or duplicates.
 */
export const FIRST_START_MARGIN_MS = 5_000;

interface ShardState {
  shardId: string;
  parents: string[];
  seq?: string;
  /** Without `seq`: start at this arrival time (epoch ms); without either: at the trim horizon. */
  at?: number;
  done: boolean;
  iterator?: string;
  idleUntil: number;
}

/**
 * The Amazon Connect change source: reads the instance's agent event stream (Kinesis) with plain
 * ListShards / GetShardIterator / GetRecords. One reader is enough: the daemon runs the source on one replica at a
 * time under a lease, so no KCL-style lease table is needed.
 *
 * - Per-shard checkpoints (the last sequence number) are written to the CheckpointStore only after `sink.accept`
 *   resolved. A crash in between re-reads those records; their event ids are Connect's `EventId`, so intake drops
 *   them as duplicates. A failed `accept` rewinds the shard to its checkpoint.
 * - Ordering: Connect partitions by agent ARN, so one agent's events are in one shard. After a reshard, a child shard
 *   is read only once its parents are read to their end (their checkpoint says `done`), which keeps each agent's
 *   events in order across the split or merge.
 * - Gaps: no checkpoint at all (first start: open shards are read from now on), a checkpoint older than
 *   `checkpointMaxAgeMs`, a checkpointed sequence number Kinesis no longer has, or a shard whose parent expired
 *   unread: `onGap` is called so the engine repairs drift with `GetCurrentUserData`.
 */
export class AgentEventStreamReader extends ChangeSource {
  private readonly now: () => number;
  private readonly logger: ConnectorLogger;
  private readonly streamParams: { StreamName?: string; StreamARN?: string };
  private readonly shards = new Map<string, ShardState>();
  private running = false;
  private loop?: Promise<void>;
  private sink?: InboundSink;
  private onGap?: (reason: string) => void;
  private needList = true;
  private failures = 0;
  private wake?: () => void;
  private rounds = 0;
  private waiters: Array<{ target: number; resolve: () => void }> = [];
  /** GetRecords calls made (cost figures, tests). */
  reads = 0;

  constructor(private readonly kinesis: KinesisClient, private readonly checkpoints: CheckpointStore, private readonly options: AgentEventStreamReaderOptions) {
    super();
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? SILENT_CONNECTOR_LOGGER;
    this.streamParams = options.stream.startsWith('arn:') ? { StreamARN: options.stream } : { StreamName: options.stream };
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** The checkpoint key of a shard. */
  checkpointKey(shardId: string): string {
    return `amazon-connect:agent-events:${this.options.stream}:${shardId}`;
  }

  override async start(sink: InboundSink, onGap?: (reason: string) => void): Promise<void> {
    if (this.running) return;
    this.sink = sink;
    this.onGap = onGap;
    this.shards.clear();
    this.needList = true;
    this.failures = 0;
    try {
      await this.refreshShards();
    } catch (error) {
      if ((error as { name?: string }).name === 'ResourceNotFoundException') {
        throw new ConfigError(`invalid setting AMAZON_CONNECT_AGENT_EVENT_STREAM: Kinesis has no stream ${this.options.stream} in this region`);
      }
      this.logger.warn('agent event stream: listing shards failed; retrying', { error: describe(error) });
      this.needList = true;
    }
    this.running = true;
    this.loop = this.run();
  }

  override async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = undefined;
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  /** Resolves after the next complete round over the readable shards (tests use it to settle). */
  afterNextRound(): Promise<void> {
    if (!this.running) return Promise.resolve();
    const target = this.rounds + 2;
    this.wake?.();
    return new Promise((resolve) => this.waiters.push({ target, resolve }));
  }

  private async run(): Promise<void> {
    while (this.running) {
      let busy = false;
      try {
        if (this.needList) await this.refreshShards();
        for (const shard of this.readable()) {
          if (!this.running) break;
          if (shard.idleUntil > this.now()) continue;
          busy = (await this.readShard(shard)) || busy;
        }
        this.failures = 0;
      } catch (error) {
        this.failures++;
        for (const shard of this.shards.values()) shard.iterator = undefined;
        this.logger.warn('agent event stream: read failed; rewinding to the checkpoints', { error: describe(error), failures: this.failures });
        await this.pause(Math.min(this.options.maxBackoffMs ?? 10_000, this.options.pollIntervalMs * 2 ** Math.min(this.failures, 6)));
        continue;
      }
      this.rounds++;
      for (const w of this.waiters.filter((x) => x.target <= this.rounds)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
      if (!busy) await this.pause(this.options.pollIntervalMs);
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  /** Shards whose parents are read to their end, not done themselves. */
  private readable(): ShardState[] {
    return [...this.shards.values()].filter((s) => !s.done && s.parents.every((p) => this.shards.get(p)?.done ?? true));
  }

  /** Reads one batch of a shard; true when it returned records or the shard has more. */
  private async readShard(shard: ShardState): Promise<boolean> {
    if (!shard.iterator) shard.iterator = await this.iteratorOf(shard);
    this.reads++;
    const answer = await this.kinesis.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: this.options.batchSize ?? 1000, ...(this.streamParams.StreamARN ? { StreamARN: this.streamParams.StreamARN } : {}) }));
    const records = answer.Records ?? [];
    const receivedAt = this.now();
    const changes: AcdChange[] = [];
    for (const record of records) {
      const event = record.Data ? parseAgentEvent(record.Data) : undefined;
      const change = event ? this.options.toChange(event, receivedAt) : undefined;
      if (change) changes.push(change);
    }
    if (changes.length > 0) {
      try {
        await this.sink?.accept(changes);
      } catch (error) {
        shard.iterator = undefined;
        throw error;
      }
    }
    const last = records.at(-1)?.SequenceNumber;
    const closed = !answer.NextShardIterator;
    if (last !== undefined || closed) {
      if (last !== undefined) shard.seq = last;
      await this.checkpoints.set(this.checkpointKey(shard.shardId), JSON.stringify({ seq: shard.seq, at: shard.seq ? undefined : shard.at, done: closed || undefined, savedAt: this.now() } satisfies ShardCheckpoint));
    }
    if (closed) {
      shard.done = true;
      shard.iterator = undefined;
      this.needList = true;
      this.logger.info('agent event stream: shard closed and read to its end; following its children', { shardId: shard.shardId });
      return true;
    }
    shard.iterator = answer.NextShardIterator;
    const behind = (answer.MillisBehindLatest ?? 0) > 0;
    if (records.length === 0 && !behind) shard.idleUntil = this.now() + this.options.pollIntervalMs;
    return records.length > 0 || behind;
  }

  private async iteratorOf(shard: ShardState): Promise<string> {
    const ask = async (type: ShardIteratorType, seq?: string) =>
      (await this.kinesis.send(new GetShardIteratorCommand({ ...this.streamParams, ShardId: shard.shardId, ShardIteratorType: type, ...(seq ? { StartingSequenceNumber: seq } : {}) }))).ShardIterator;
    if (shard.seq) {
      try {
        const it = await ask('AFTER_SEQUENCE_NUMBER', shard.seq);
        if (it) return it;
      } catch (error) {
        if ((error as { name?: string }).name !== 'InvalidArgumentException') throw error;
        this.gap(`shard ${shard.shardId}: the checkpointed record is no longer in the stream`);
        shard.seq = undefined;
        shard.at = undefined;
      }
    }
    const it = shard.at !== undefined
      ? (await this.kinesis.send(new GetShardIteratorCommand({ ...this.streamParams, ShardId: shard.shardId, ShardIteratorType: 'AT_TIMESTAMP', Timestamp: new Date(shard.at) }))).ShardIterator
      : await ask('TRIM_HORIZON');
    if (!it) throw new Error(`Kinesis gave no iterator for shard ${shard.shardId}`);
    return it;
  }

  private gap(reason: string): void {
    this.logger.warn('agent event stream: changes may have been missed; repairing drift', { reason });
    this.onGap?.(reason);
  }

  /** Lists the shards and loads the checkpoints of the ones not known yet. */
  private async refreshShards(): Promise<void> {
    const listed: Shard[] = [];
    let token: string | undefined;
    do {
      const page = await this.kinesis.send(new ListShardsCommand(token ? { NextToken: token } : { ...this.streamParams }));
      listed.push(...(page.Shards ?? []));
      token = page.NextToken;
    } while (token);
    const ids = new Set(listed.map((s) => s.ShardId));
    const fresh = listed.filter((s) => s.ShardId && !this.shards.has(s.ShardId));
    const stored = new Map<string, ShardCheckpoint | undefined>();
    for (const s of fresh) stored.set(s.ShardId as string, parseCheckpoint(await this.checkpoints.get(this.checkpointKey(s.ShardId as string))));
    const firstStart = this.shards.size === 0 && [...stored.values()].every((c) => c === undefined);
    if (firstStart && fresh.length > 0) this.gap('no checkpoint of the agent event stream: reading from now on');
    for (const s of fresh) {
      const shardId = s.ShardId as string;
      const parents = [s.ParentShardId, s.AdjacentParentShardId].filter((p): p is string => !!p && ids.has(p));
      const closed = !!s.SequenceNumberRange?.EndingSequenceNumber;
      const cp = stored.get(shardId);
      const state: ShardState = { shardId, parents, done: false, idleUntil: 0 };
      if (cp) {
        state.done = cp.done === true;
        if (!state.done && this.now() - cp.savedAt > this.options.checkpointMaxAgeMs) {
          this.gap(`shard ${shardId}: checkpoint older than the stream's retention`);
        } else {
          state.seq = cp.seq;
          state.at = cp.seq ? undefined : cp.at;
        }
      } else if (firstStart) {
        // Nothing to resume: history before now is repaired by the drift repair, not replayed. The starting
        // point is stored at once, so a restart before the first record resumes from it instead of from "now".
        if (closed) state.done = true;
        else {
          state.at = this.now() - FIRST_START_MARGIN_MS;
          state.parents = [];
          await this.checkpoints.set(this.checkpointKey(shardId), JSON.stringify({ at: state.at, savedAt: this.now() } satisfies ShardCheckpoint));
        }
      } else {
        // Resuming: a shard without a checkpoint is a child of a reshard (read from its start, nothing lost) unless
        // its parent is gone from the listing (expired unread) or it has none (the stream was re-created).
        const lostParent = [s.ParentShardId, s.AdjacentParentShardId].some((p) => !!p && !ids.has(p) && !this.shards.has(p));
        if (lostParent || !s.ParentShardId) this.gap(`shard ${shardId}: appeared without a readable parent`);
      }
      this.shards.set(shardId, state);
    }
    this.needList = false;
  }
}

function parseCheckpoint(raw: string | undefined): ShardCheckpoint | undefined {
  if (!raw) return undefined;
  try {
    const value = JSON.parse(raw) as ShardCheckpoint;
    return typeof value === 'object' && value && typeof value.savedAt === 'number' ? value : undefined;
  } catch {
    return undefined;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
