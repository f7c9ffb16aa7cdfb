/**
 * Keeps the Connect API calls of all replicas under the account's quota (default 2 requests/s, burst 5 per API).
 * `take` resolves when a call may go out.
 */
export interface ConnectRateLimiter {
  take(): Promise<void>;
}

/** The few ioredis methods the shared bucket needs (kept structural: connector libs do not import libs/redis). */
export interface RedisEval {
  eval(script: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A token bucket in one Lua script: refill by elapsed time (Redis' own clock, so replicas' clocks do not matter),
 * take one token or answer how long to wait. Returns 0 when taken, else the wait in ms.
 */
export const TOKEN_BUCKET_SCRIPT = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then tokens = burst; at = now end
tokens = math.min(burst, tokens + (now - at) * rate / 1000)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * 1000 / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return wait
`;

/** The bucket shared by every replica through Redis (one key per Connect instance). */
export class RedisTokenBucket implements ConnectRateLimiter {
  /** Calls that had to wait (metrics and tests). */
  waits = 0;

  constructor(private readonly redis: RedisEval, private readonly key: string, private readonly rate: number, private readonly burst: number) {}

  async take(): Promise<void> {
    for (;;) {
      const wait = Number(await this.redis.eval(TOKEN_BUCKET_SCRIPT, 1, this.key, this.rate, this.burst));
      if (!(wait > 0)) return;
      this.waits++;
      await sleep(wait);
    }
  }
}

/** The same bucket in memory, for one process (the CLI, tests). */
export class LocalTokenBucket implements ConnectRateLimiter {
  private tokens: number;
  private at: number;
  waits = 0;

  constructor(private readonly rate: number, private readonly burst: number, private readonly now: () => number = Date.now) {
    this.tokens = burst;
    this.at = now();
  }

  async take(): Promise<void> {
    for (;;) {
      const now = this.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) * this.rate) / 1000);
      this.at = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      this.waits++;
      await sleep(Math.ceil(((1 - this.tokens) * 1000) / this.rate));
    }
  }
}
