import { ConfigError } from '@presence-sync/domain';
import { loadConfig, loadRuleCheckSettings, redactConfig, salesforceModeProblem } from './app-config';
import { encryptSecret, parseSecretsKey } from './secrets';

const base = { ACD_BASE_URL: 'http://cc.example:8080/v1/', ACD_TOKEN: 'tok-secret', ACD_WEBHOOK_SECRET: 'whsec-0123456789abcdef' };

describe(loadConfig.name, () => {
  it('applies defaults and normalises the base URL', () => {
    const c = loadConfig(base);
    expect(c.redis.url).toBe('redis://127.0.0.1:6379');
    expect(c.acd.generic?.baseUrl).toBe('http://cc.example:8080/v1');
    expect(c.http.port).toBe(3000);
    expect(c.sync.attempts).toBe(8);
    expect(c.salesforce.streamLeaseTtlMs).toBe(3_000);
    expect(loadConfig({ ...base, STREAM_LEASE_TTL_MS: '2000' }).salesforce.streamLeaseTtlMs).toBe(2000);
    expect(c.salesforce.streamGiveUpMs).toBe(60_000);
    expect(loadConfig({ ...base, STREAM_LEASE_GIVE_UP_MS: '0' }).salesforce.streamGiveUpMs).toBe(0);
    expect(c.shutdownDrainMs).toBe(0);
    expect(loadConfig({ ...base, SHUTDOWN_DRAIN_MS: '10000' }).shutdownDrainMs).toBe(10_000);
  });

  it('bounds rule files by default, and takes other bounds', () => {
    expect(loadConfig(base).rules.limits).toEqual({ maxFileBytes: 1_048_576, maxDepth: 32, maxIssues: 50 });
    expect(loadConfig({ ...base, RULES_MAX_FILE_BYTES: '4194304', RULES_MAX_DEPTH: '8', RULES_MAX_ERRORS_SHOWN: '10' }).rules.limits).toEqual({
      maxFileBytes: 4_194_304,
      maxDepth: 8,
      maxIssues: 10,
    });
  });

  it.each([
    [{ ...base, HTTP_PORT: 'abc' }, /^invalid setting HTTP_PORT: .*got "abc"/],
    [{ ...base, ACD_BASE_URL: 'not a url' }, /^invalid setting ACD_BASE_URL: must be an http\(s\) URL; got "not a url"/],
    [{ ACD_TOKEN: 't', ACD_WEBHOOK_SECRET: 'x'.repeat(16) }, /^invalid setting ACD_BASE_URL: required with ACD_CONNECTOR=generic; it is not set/],
    [{ ...base, REDIS_URL: 'http://x' }, /^invalid setting REDIS_URL: must start with redis:/],
    [{ ...base, LOG_LEVEL: 'loud' }, /^invalid setting LOG_LEVEL: /],
    [{ ...base, STREAM_LEASE_TTL_MS: '500' }, /^invalid setting STREAM_LEASE_TTL_MS: .*got "500"/],
    [{ ...base, STREAM_LEASE_TTL_MS: 'soon' }, /^invalid setting STREAM_LEASE_TTL_MS: .*got "soon"/],
    [{ ...base, STREAM_LEASE_GIVE_UP_MS: '500' }, /^invalid setting STREAM_LEASE_GIVE_UP_MS: must be 0 \(never\) or at least 1000; got "500"/],
    [{ ...base, SHUTDOWN_DRAIN_MS: '-1' }, /^invalid setting SHUTDOWN_DRAIN_MS: .*got "-1"/],
    [{ ...base, RULES_MAX_DEPTH: '2' }, /^invalid setting RULES_MAX_DEPTH: .*got "2"/],
    [{ ...base, RULES_MAX_FILE_BYTES: '1mb' }, /^invalid setting RULES_MAX_FILE_BYTES: .*got "1mb"/],
    [{ ...base, RULES_MAX_ERRORS_SHOWN: '0' }, /^invalid setting RULES_MAX_ERRORS_SHOWN: .*got "0"/],
  ])('rejects a bad setting with one readable line (%#)', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('names every bad setting, one line each (a secret by name only), instead of counting the others', () => {
    let message = '';
    try {
      loadConfig({ ...base, HTTP_PORT: 'abc', LOG_LEVEL: 'loud', REDIS_URL: 'http://:pw-in-url-123@x' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message.split('\n')).toEqual([
      expect.stringMatching(/^invalid setting REDIS_URL: must start with redis:\/\/ or rediss:\/\/; the value given is not valid$/),
      expect.stringMatching(/^invalid setting HTTP_PORT: .*; got "abc"$/),
      expect.stringMatching(/^invalid setting LOG_LEVEL: .*; got "loud"$/),
    ]);
    expect(message).not.toContain('more setting problem');
    expect(message).not.toContain('pw-in-url');
  });

  it('refuses an INTAKE_DEDUP_TTL_SEC too short to outlive a replay inside the signature window', () => {
    // A request signed at t is accepted until t + tolerance, and may be stamped up to tolerance ahead of its
    // first receipt: a replay can arrive 2 x tolerance after the id was first seen.
    expect(loadConfig({ ...base, INTAKE_DEDUP_TTL_SEC: '600' }).intake.dedupTtlSec).toBe(600);
    expect(loadConfig({ ...base, ACD_WEBHOOK_TOLERANCE_SEC: '30', INTAKE_DEDUP_TTL_SEC: '60' }).intake.dedupTtlSec).toBe(60);
    const tooShort: Array<Record<string, string>> = [{ ...base, INTAKE_DEDUP_TTL_SEC: '599' }, { ...base, ACD_WEBHOOK_TOLERANCE_SEC: '3600', INTAKE_DEDUP_TTL_SEC: '3600' }];
    for (const env of tooShort) {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      try {
        loadConfig(env);
      } catch (e) {
        const message = String((e as Error).message);
        expect(message.split('\n')).toHaveLength(1);
        expect(message).toMatch(/^invalid setting INTAKE_DEDUP_TTL_SEC: must be at least 2 × ACD_WEBHOOK_TOLERANCE_SEC/);
        expect(message).toContain(`got "${env.INTAKE_DEDUP_TTL_SEC}" with ACD_WEBHOOK_TOLERANCE_SEC=${env.ACD_WEBHOOK_TOLERANCE_SEC ?? '300'}`);
      }
    }
  });

  it('reads the partition settings, and refuses a partition TTL shorter than two heartbeats', () => {
    expect(loadConfig(base).sync).toMatchObject({ partitions: 8, partitionHeartbeatMs: 1000, partitionTtlMs: 3000 });
    expect(loadConfig({ ...base, SYNC_PARTITIONS: '1' }).sync.partitions).toBe(1);
    expect(() => loadConfig({ ...base, SYNC_PARTITIONS: '0' })).toThrow(/invalid setting SYNC_PARTITIONS/);
    expect(() => loadConfig({ ...base, SYNC_PARTITIONS: '1025' })).toThrow(/invalid setting SYNC_PARTITIONS/);
    expect(() => loadConfig({ ...base, PARTITION_HEARTBEAT_MS: '3000' })).toThrow(new ConfigError(
      'invalid setting PARTITION_TTL_MS: must be at least 2 × PARTITION_HEARTBEAT_MS (6000 ms), or a live replica would lose its partitions between two heartbeats; got "3000"',
    ));
    expect(loadConfig({ ...base, AUDIT_MAX_BYTES_PER_AGENT: '0' }).audit.maxBytesPerAgent).toBe(0);
    expect(() => loadConfig({ ...base, AUDIT_MAX_BYTES_PER_AGENT: '100' })).toThrow(/invalid setting AUDIT_MAX_BYTES_PER_AGENT: must be 0 \(no byte bound\) or at least 1024/);
  });

  it('reads the webhook in-flight byte budget in MiB', () => {
    expect(loadConfig(base).acd.webhookInflightMaxBytes).toBe(32 * 1024 * 1024);
    expect(loadConfig({ ...base, ACD_WEBHOOK_INFLIGHT_MAX_MB: '2' }).acd.webhookInflightMaxBytes).toBe(2 * 1024 * 1024);
    expect(() => loadConfig({ ...base, ACD_WEBHOOK_INFLIGHT_MAX_MB: '0' })).toThrow(/^invalid setting ACD_WEBHOOK_INFLIGHT_MAX_MB: /);
  });

  it('never echoes a secret value in its error', () => {
    try {
      loadConfig({ ...base, ACD_WEBHOOK_SECRET: 'short-secret' });
      throw new Error('expected a ConfigError');
    } catch (e) {
      expect(String(e)).toMatch(/ACD_WEBHOOK_SECRET: must be at least 16 characters/);
      expect(String(e)).not.toContain('short-secret');
      expect(String(e).split('\n')).toHaveLength(1);
    }
  });

  it('redacts secrets for display', () => {
    const shown = JSON.stringify(redactConfig(loadConfig({ ...base, REDIS_URL: 'redis://user:pw@h:6379' })));
    expect(shown).not.toMatch(/tok-secret|whsec-0123|:pw@/);
  });
});

describe('ACD_CONNECTOR', () => {
  it('loads the generic settings only for the generic connector', () => {
    expect(loadConfig(base).acd.generic).toEqual({ baseUrl: 'http://cc.example:8080/v1', token: 'tok-secret', webhookSecret: 'whsec-0123456789abcdef' });
    expect(() => loadConfig({ ACD_CONNECTOR: 'avaya' })).toThrow(/^invalid setting ACD_CONNECTOR: must be one of generic, webex, cxone, genesys, amazon-connect; got "avaya"$/);
  });
});

describe('encrypted settings', () => {
  it('opens enc:v1: values of secrets with SECRETS_KEY', () => {
    const { encryptSecret, generateSecretsKey } = jest.requireActual<typeof import('./secrets')>('./secrets');
    const key = generateSecretsKey();
    const c = loadConfig({ ...base, SECRETS_KEY: key, ACD_TOKEN: encryptSecret('tok-from-vault', key) });
    expect(c.acd.generic?.token).toBe('tok-from-vault');
    expect(() => loadConfig({ ...base, ACD_TOKEN: encryptSecret('x', key) })).toThrow(/SECRETS_KEY/);
  });
});

describe('issue 9 settings', () => {
  it('REDIS_URL is a secret: never echoed in an error, and it may be stored encrypted', () => {
    const key = 'a'.repeat(64);
    const sealed = encryptSecret('redis://:pw-in-url-123@redis.internal:6379', parseSecretsKey(key));
    expect(loadConfig({ ...base, REDIS_URL: sealed, SECRETS_KEY: key }).redis.url).toBe('redis://:pw-in-url-123@redis.internal:6379');
    expect(() => loadConfig({ ...base, REDIS_URL: 'http://:pw-in-url-123@x' })).toThrow(/^invalid setting REDIS_URL: must start with redis:\/\/ or rediss:\/\/; the value given is not valid$/);
  });

  it('the dashboard is read-only unless told otherwise; the ops listener is off unless OPS_PORT is set', () => {
    const c = loadConfig(base);
    expect(c.admin.readOnly).toBe(true);
    expect(c.ops).toBeUndefined();
    expect(loadConfig({ ...base, ADMIN_DASHBOARD_READ_ONLY: 'false' }).admin.readOnly).toBe(false);
    expect(loadConfig({ ...base, HTTP_HOST: '10.0.0.5', OPS_PORT: '9100' }).ops).toEqual({ host: '10.0.0.5', port: 9100 });
    expect(loadConfig({ ...base, OPS_HOST: '127.0.0.1', OPS_PORT: '9100' }).ops).toEqual({ host: '127.0.0.1', port: 9100 });
  });

  it.each([
    [{ ...base, OPS_PORT: '3000' }, /^invalid setting OPS_PORT: must differ from HTTP_PORT \(3000\)/],
    [{ ...base, OPS_HOST: '127.0.0.1' }, /^invalid setting OPS_PORT: required when OPS_HOST is set/],
    [{ ...base, OPS_PORT: 'x' }, /^invalid setting OPS_PORT: .*got "x"/],
    [{ ...base, ADMIN_DASHBOARD_READ_ONLY: 'maybe' }, /^invalid setting ADMIN_DASHBOARD_READ_ONLY: /],
  ])('rejects a bad ops setting with one line (%#)', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe(salesforceModeProblem.name, () => {
  const live = { SALESFORCE_MODE: 'live', SALESFORCE_AUTH: 'password', SALESFORCE_CLIENT_ID: 'id', SALESFORCE_CLIENT_SECRET: 'secret', SALESFORCE_USERNAME: 'u@example.com', SALESFORCE_PASSWORD: 'pw' };

  it('has no default: unset, the boot stops with one line naming the setting, its values and the sandbox', () => {
    const c = loadConfig(base);
    expect(c.salesforce.mode).toBeUndefined();
    const problem = salesforceModeProblem(c, false);
    expect(problem).toMatch(/^invalid setting SALESFORCE_MODE: required; it is not set\. Use live .*memory is only for tests/);
    expect(problem).toContain('npm run demo');
    expect(problem).not.toContain('\n');
    // A test that hands in an org still says which mode it runs in.
    expect(salesforceModeProblem(c, true)).toBe(problem);
  });

  it('memory only with an org handed in; live only without one', () => {
    const memory = loadConfig({ ...base, SALESFORCE_MODE: 'memory' });
    expect(salesforceModeProblem(memory, true)).toBeUndefined();
    expect(salesforceModeProblem(memory, false)).toMatch(/^invalid setting SALESFORCE_MODE: memory is only for tests .*never for presence-sync start; use live .*npm run demo/);
    const real = loadConfig({ ...base, ...live });
    expect(salesforceModeProblem(real, false)).toBeUndefined();
    expect(salesforceModeProblem(real, true)).toMatch(/^invalid setting SALESFORCE_MODE: live builds its own/);
  });

  it('rejects another value with one line', () => {
    expect(() => loadConfig({ ...base, SALESFORCE_MODE: 'fake' })).toThrow(/^invalid setting SALESFORCE_MODE: must be live or memory; got "fake"/);
  });
});

describe(loadRuleCheckSettings.name, () => {
  it('reads what rule validation needs without the daemon\'s other settings, and whether each side names a catalog to read', () => {
    expect(loadRuleCheckSettings({})).toEqual({
      dir: 'rules', defaultUnavailableCode: undefined, limits: { maxFileBytes: 1_048_576, maxDepth: 32, maxIssues: 50 }, connector: 'generic',
      contactCenterConfigured: false, salesforceConfigured: false,
    });
    expect(loadRuleCheckSettings({ ACD_CONNECTOR: 'amazon-connect', DEFAULT_UNAVAILABLE_CODE: 'System', SALESFORCE_MODE: 'live', RULES_DIR: 'r' })).toMatchObject({
      dir: 'r', defaultUnavailableCode: 'System', connector: 'amazon-connect', contactCenterConfigured: true, salesforceConfigured: true,
    });
    expect(loadRuleCheckSettings({ ACD_TOKEN: 't' }).contactCenterConfigured).toBe(true);
    expect(loadRuleCheckSettings({ SALESFORCE_MODE: 'memory' }).salesforceConfigured).toBe(false);
  });

  it('refuses a bad value in one line per setting, like loadConfig', () => {
    expect(() => loadRuleCheckSettings({ ACD_CONNECTOR: 'avaya', RULES_MAX_DEPTH: '2' })).toThrow(
      /^invalid setting RULES_MAX_DEPTH: .*got "2"\ninvalid setting ACD_CONNECTOR: must be one of generic, .*; got "avaya"$/,
    );
  });
});
