import type Redis from 'ioredis';
import {
  AgentStateStore, type AcdState, type AgentRecord, type ObserveOutcome, type ObserveResult, type Observation,
  type PendingConfirm, type Side, type SideValue, type Want,
} from '@presence-sync/domain';
import { RedisKeys } from './redis-keys';

/*
 * Hash fields of `{prefix}:agent:{agentId}` (one hash per agent; every script touches one key, so it is
 * atomic per agent and Cluster-safe):
 *   o:<side>:v value JSON   o:<side>:k key   o:<side>:t vendor time   o:<side>:s sequence   o:<side>:e event id
 *   o:<side>:w write id when the value came from our own write   o:<side>:x write id the last observation was an echo of
 *   w:<side> want JSON (no version)   w:<side>:n version   w:<side>:t source time   w:<side>:e source event id
 *   d:<side> done version   x:<side> echo markers [{k,w,u}]   p:acd previous ACD state   p:acd:w its write id
 *   c:salesforce pending confirmation JSON   ver want version counter
 *   f:<side> write id of a write begun whose outcome is not known yet (cleared by its answer or a vendor report)
 *   z:<side> the marker of a write that a real change overtook while it was in flight, for its late landing
 */

const OBSERVE = `
local h = KEYS[1]
local side, valueJson, key, at, seq, eventId, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[6], tonumber(ARGV[7])
local late = tonumber(ARGV[8])
local p = 'o:' .. side .. ':'
local cur = redis.call('HMGET', h, p .. 'k', p .. 't', p .. 's', p .. 'e', p .. 'v')
local previous = ''
local outcome = 'recorded'
local echo = ''
if cur[1] then
  if cur[4] == eventId then
    -- The same event again (a re-run after a crash): an echo stays an echo, or our write would be synced back.
    local was = redis.call('HGET', h, p .. 'x')
    if was then
      outcome = 'echo'
      echo = was
    else
      outcome = 'replayed'
    end
  elseif seq ~= '' and cur[3] then
    if tonumber(seq) <= tonumber(cur[3]) then outcome = 'stale' end
  elseif at < tonumber(cur[2]) then
    outcome = 'stale'
  end
end
local function record()
  redis.call('HSET', h, p .. 'v', valueJson, p .. 'k', key, p .. 't', ARGV[4], p .. 'e', eventId)
  if seq ~= '' then redis.call('HSET', h, p .. 's', seq) end
  redis.call('HDEL', h, p .. 'w', p .. 'x', 'f:' .. side)
end
if outcome == 'recorded' then
  local raw = redis.call('HGET', h, 'x:' .. side)
  local live = {}
  local matched = 0
  if raw then
    for _, m in ipairs(cjson.decode(raw)) do
      if tonumber(m.u) >= now then
        table.insert(live, m)
        -- The first live marker of that state: the vendor reports our writes in the order they were made, so
        -- the oldest unanswered write of a state is the one echoed (a later one of the same state comes later).
        if m.k == key and echo == '' then
          echo = m.w
          matched = #live
        end
      end
    end
  end
  if echo ~= '' then
    outcome = 'echo'
    -- Markers are in write order. The echo of a write older than the one that set the current value (a late
    -- webhook of an earlier write) tells nothing new about the value: only the vendor clock moves, or the side
    -- would seem to show a state it has since left, and the next change would be skipped as already shown.
    local byWrite = redis.call('HGET', h, p .. 'w')
    local inflight = redis.call('HGET', h, 'f:' .. side)
    local newer = 0
    local pending = 0
    for i, m in ipairs(live) do
      if byWrite and m.w == byWrite then newer = i end
      if inflight and m.w == inflight then pending = i end
    end
    if newer > matched then
      redis.call('HSET', h, p .. 't', ARGV[4], p .. 'e', eventId)
      if seq ~= '' then redis.call('HSET', h, p .. 's', seq) end
    else
      record()
      -- The echo of an earlier write says nothing about a later one still unanswered: it stays in flight.
      if pending > matched then redis.call('HSET', h, 'f:' .. side, inflight) end
    end
    -- Markers are in write order: the ones before the matched write are over (that side has moved past them),
    -- and must not swallow a later real change to the same state.
    local kept = {}
    for i = matched, #live do table.insert(kept, live[i]) end
    redis.call('HSET', h, 'x:' .. side, cjson.encode(kept), p .. 'x', echo)
  else
    -- A write of ours that a real change overtook while it was in flight, landing now.
    local zraw = redis.call('HGET', h, 'z:' .. side)
    if zraw then
      local z = cjson.decode(zraw)
      if tonumber(z.u) >= now and z.k == key then echo = z.w end
    end
    if echo ~= '' then
      outcome = 'overtaken'
      previous = cjson.encode({ v = cur[5] or '', k = cur[1] or '' })
      record()
      redis.call('HDEL', h, 'z:' .. side)
    elseif cur[1] == key then
      outcome = 'unchanged'
      record()
    else
      local inflight = redis.call('HGET', h, 'f:' .. side)
      record()
      redis.call('HDEL', h, 'x:' .. side, 'z:' .. side)
      if inflight and late > 0 then
        for _, m in ipairs(live) do
          if m.w == inflight then redis.call('HSET', h, 'z:' .. side, cjson.encode({ k = m.k, w = m.w, u = now + late })) end
        end
      end
    end
  end
end
return {outcome, echo, redis.call('HGETALL', h), previous}
`;

const SET_WANT = `
local h = KEYS[1]
local t, wantJson, sourceAt, sourceEventId, sourceSide = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local cur = redis.call('HMGET', h, 'w:' .. t, 'w:' .. t .. ':t', 'w:' .. t .. ':e', 'w:' .. t .. ':n')
if cur[1] then
  if cur[3] == sourceEventId then return {cur[1], cur[4], 0} end
  if tonumber(cur[2]) > tonumber(sourceAt) then return false end
end
-- A decision made from a change its own side has since moved past: a newer change of that side was recorded
-- meanwhile (taken by another worker or replica at the same time) and decides instead. Without this, the newer
-- change could find "nothing to do" before this older want was stored, and the older want would win.
if sourceSide == 'acd' or sourceSide == 'salesforce' then
  local seen = tonumber(redis.call('HGET', h, 'o:' .. sourceSide .. ':t') or '')
  if seen and seen > tonumber(sourceAt) then return false end
end
local v = redis.call('HINCRBY', h, 'ver', 1)
redis.call('HSET', h, 'w:' .. t, wantJson, 'w:' .. t .. ':n', v, 'w:' .. t .. ':t', sourceAt, 'w:' .. t .. ':e', sourceEventId)
return {wantJson, tostring(v), 1}
`;

const FINISH = `
local d = tonumber(redis.call('HGET', KEYS[1], 'd:' .. ARGV[1]) or '0')
if tonumber(ARGV[2]) > d then redis.call('HSET', KEYS[1], 'd:' .. ARGV[1], ARGV[2]) end
return 1
`;

const BEGIN_WRITE = `
local h = KEYS[1]
local t, writeId, key, till, now, prev = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local raw = redis.call('HGET', h, 'x:' .. t)
local list = {}
if raw then
  for _, m in ipairs(cjson.decode(raw)) do
    if tonumber(m.u) >= now and m.w ~= writeId then table.insert(list, m) end
  end
end
table.insert(list, { k = key, w = writeId, u = till })
while #list > 64 do table.remove(list, 1) end
redis.call('HSET', h, 'x:' .. t, cjson.encode(list), 'f:' .. t, writeId)
if t == 'acd' and prev ~= '' and redis.call('HGET', h, 'p:acd:w') ~= writeId then
  redis.call('HSET', h, 'p:acd', prev, 'p:acd:w', writeId)
end
return 1
`;

const CLOSE_ECHO = `
local raw = redis.call('HGET', KEYS[1], 'x:' .. ARGV[1])
if not raw then return 0 end
local list = {}
for _, m in ipairs(cjson.decode(raw)) do
  if m.w ~= ARGV[2] then table.insert(list, m) end
end
if redis.call('HGET', KEYS[1], 'f:' .. ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[1], 'f:' .. ARGV[1]) end
if #list == 0 then redis.call('HDEL', KEYS[1], 'x:' .. ARGV[1]) else redis.call('HSET', KEYS[1], 'x:' .. ARGV[1], cjson.encode(list)) end
return 1
`;

const RECORD_WRITTEN = `
local p = 'o:' .. ARGV[1] .. ':'
-- Only while this write is still the one in flight: any vendor report since then is newer than our answer.
if redis.call('HGET', KEYS[1], 'f:' .. ARGV[1]) ~= ARGV[4] then return 0 end
redis.call('HSET', KEYS[1], p .. 'v', ARGV[2], p .. 'k', ARGV[3], p .. 'w', ARGV[4])
redis.call('HDEL', KEYS[1], 'f:' .. ARGV[1])
if not redis.call('HGET', KEYS[1], p .. 't') then redis.call('HSET', KEYS[1], p .. 't', '0', p .. 'e', '') end
return 1
`;

interface ScriptedRedis extends Redis {
  psObserve(key: string, ...args: (string | number)[]): Promise<[ObserveOutcome, string, string[], string]>;
  psSetWant(key: string, ...args: (string | number)[]): Promise<[string, string, number] | null>;
  psFinish(key: string, ...args: (string | number)[]): Promise<number>;
  psBeginWrite(key: string, ...args: (string | number)[]): Promise<number>;
  psCloseEcho(key: string, ...args: (string | number)[]): Promise<number>;
  psRecordWritten(key: string, ...args: (string | number)[]): Promise<number>;
}

const SIDES: Side[] = ['acd', 'salesforce'];

/** Reads a flat HGETALL reply or an object into an `AgentRecord`. */
export function parseAgentRecord(fields: Record<string, string>): AgentRecord {
  const record: AgentRecord = { obs: {}, want: {}, done: { acd: Number(fields['d:acd'] ?? 0), salesforce: Number(fields['d:salesforce'] ?? 0) }, inFlight: {} };
  for (const side of SIDES) {
    const p = `o:${side}:`;
    if (fields[`${p}k`] !== undefined) {
      const obs: Observation = {
        value: JSON.parse(fields[`${p}v`]) as SideValue, key: fields[`${p}k`], at: Number(fields[`${p}t`] ?? 0), eventId: fields[`${p}e`] ?? '',
      };
      if (fields[`${p}s`] !== undefined) obs.seq = Number(fields[`${p}s`]);
      if (fields[`${p}w`]) obs.byWrite = fields[`${p}w`];
      record.obs[side] = obs;
    }
    if (fields[`f:${side}`]) record.inFlight[side] = fields[`f:${side}`];
    const want = fields[`w:${side}`];
    if (want) record.want[side] = { ...(JSON.parse(want) as Omit<Want, 'version'>), version: Number(fields[`w:${side}:n`]) };
  }
  if (fields['p:acd']) record.prevAcd = JSON.parse(fields['p:acd']) as AcdState;
  if (fields['c:salesforce']) record.pendingSalesforce = JSON.parse(fields['c:salesforce']) as PendingConfirm;
  return record;
}

function pairsToObject(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) out[flat[i]] = flat[i + 1];
  return out;
}

/** `AgentStateStore` on Redis: one hash per agent, one Lua script per operation. */
export class RedisAgentStateStore extends AgentStateStore {
  private readonly redis: ScriptedRedis;

  constructor(redis: Redis, private readonly keys: RedisKeys) {
    super();
    this.redis = redis as ScriptedRedis;
    const define = (name: string, lua: string) => { if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: 1, lua }); };
    define('psObserve', OBSERVE);
    define('psSetWant', SET_WANT);
    define('psFinish', FINISH);
    define('psBeginWrite', BEGIN_WRITE);
    define('psCloseEcho', CLOSE_ECHO);
    define('psRecordWritten', RECORD_WRITTEN);
  }

  async observe(agentId: string, side: Side, o: Observation, now: number, lateWindowMs = 0): Promise<ObserveResult> {
    const [outcome, echo, flat, previous] = await this.redis.psObserve(
      this.keys.agent(agentId), side, JSON.stringify(o.value), o.key, o.at, o.seq ?? '', o.eventId, now, lateWindowMs,
    );
    const result: ObserveResult = { outcome, echoWriteId: echo || undefined, record: parseAgentRecord(pairsToObject(flat)) };
    if (previous) {
      const prev = JSON.parse(previous) as { v: string; k: string };
      if (prev.k) result.previous = { value: JSON.parse(prev.v) as SideValue, key: prev.k };
    }
    return result;
  }

  async get(agentId: string): Promise<AgentRecord> {
    return parseAgentRecord(await this.redis.hgetall(this.keys.agent(agentId)));
  }

  async setWant(agentId: string, target: Side, want: Omit<Want, 'version'>): Promise<{ want: Want; created: boolean } | undefined> {
    const reply = await this.redis.psSetWant(this.keys.agent(agentId), target, JSON.stringify(want), want.sourceAt, want.sourceEventId, want.sourceSide);
    if (!reply) return undefined;
    const [json, version, created] = reply;
    return { want: { ...(JSON.parse(json) as Omit<Want, 'version'>), version: Number(version) }, created: created === 1 };
  }

  async finish(agentId: string, target: Side, version: number): Promise<void> {
    await this.redis.psFinish(this.keys.agent(agentId), target, version);
  }

  async beginWrite(agentId: string, target: Side, writeId: string, key: string, echoUntil: number, previousAcd?: AcdState): Promise<void> {
    await this.redis.psBeginWrite(this.keys.agent(agentId), target, writeId, key, echoUntil, Date.now(), previousAcd ? JSON.stringify(previousAcd) : '');
  }

  async recordWritten(agentId: string, target: Side, value: SideValue, key: string, writeId: string): Promise<void> {
    await this.redis.psRecordWritten(this.keys.agent(agentId), target, JSON.stringify(value), key, writeId);
  }

  async closeEcho(agentId: string, target: Side, writeId: string): Promise<void> {
    await this.redis.psCloseEcho(this.keys.agent(agentId), target, writeId);
  }

  async setPendingConfirm(agentId: string, pending: PendingConfirm | undefined): Promise<void> {
    if (pending) await this.redis.hset(this.keys.agent(agentId), 'c:salesforce', JSON.stringify(pending));
    else await this.redis.hdel(this.keys.agent(agentId), 'c:salesforce');
  }
}
