import * as platformClient from 'purecloud-platform-client-v2';

type SdkClient = typeof platformClient.ApiClient;

/** What an SDK call answered (the client runs with extended responses). */
export interface GenesysAnswer {
  status: number;
  headers: Record<string, string | undefined>;
  body: unknown;
}

/** No HTTP answer at all (refused, reset, timed out). */
export class GenesysNoAnswer extends Error {
  constructor(readonly kind: 'network' | 'timeout', readonly detail: string) {
    super(detail);
    this.name = 'GenesysNoAnswer';
  }
}

/** The token request failed; `credentials` when the client id / secret were refused (400/401). */
export class GenesysAuthError extends Error {
  constructor(message: string, readonly credentials: boolean, readonly httpStatus?: number) {
    super(message);
    this.name = 'GenesysAuthError';
  }
}

export interface GenesysApiClientOptions {
  /** e.g. `mypurecloud.com`, `mypurecloud.de`, `usw2.pure.cloud` (setting GENESYS_REGION). */
  region?: string;
  /** Overrides the region: an http(s) base serving both `/oauth/token` and `/api/v2` (a gateway, the emulator). */
  apiBaseUrl?: string;
  clientId: string;
  clientSecret: string;
  timeoutMs: number;
}

function lowerHeaders(raw: unknown): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  if (raw && typeof raw === 'object') {
    const entries = typeof (raw as { toJSON?: () => unknown }).toJSON === 'function' ? Object.entries((raw as { toJSON: () => object }).toJSON()) : Object.entries(raw);
    for (const [k, v] of entries) out[k.toLowerCase()] = v === undefined || v === null ? undefined : String(v);
  }
  return out;
}

/**
 * The official SDK's ApiClient, one per connector: the SDK's `ApiClient.instance` is a process-wide singleton, so
 * the connector constructs its own (same class) and two connectors never share a token or a gateway. Logs in
 * with the client-credentials grant; a 401 on a call logs in again once and repeats the call (the SDK refreshes
 * only tokens of grants that have a refresh token).
 */
export class GenesysApiClient {
  readonly sdk: SdkClient;
  readonly users: platformClient.UsersApi;
  readonly presence: platformClient.PresenceApi;
  readonly notifications: platformClient.NotificationsApi;
  /** Tokens fetched so far (tests read it). */
  tokens = 0;
  private login?: Promise<void>;
  private loggedIn = false;

  constructor(private readonly options: GenesysApiClientOptions) {
    const Ctor = (platformClient.ApiClient as unknown as { constructor: new () => SdkClient }).constructor;
    this.sdk = new Ctor();
    // The SDK's configuration watches ~/.genesyscloudjavascript/config for live reloads, one watcher per client:
    // the daemon is configured by its settings only, so the watch is stopped.
    (this.sdk.config as unknown as { setConfigPath(path: string): void }).setConfigPath('');
    this.sdk.setReturnExtendedResponses(true);
    this.sdk.setEnvironment(options.region ?? 'mypurecloud.com');
    if (options.apiBaseUrl) {
      const url = new URL(options.apiBaseUrl);
      const path = url.pathname.replace(/\/+$/, '');
      this.sdk.setGateway({
        host: url.hostname, protocol: url.protocol.replace(':', ''), port: url.port ? Number(url.port) : -1,
        path_params_login: path, path_params_api: path,
      });
    }
    (this.sdk as unknown as { timeout: number }).timeout = options.timeoutMs;
    this.users = new platformClient.UsersApi(this.sdk);
    this.presence = new platformClient.PresenceApi(this.sdk);
    this.notifications = new platformClient.NotificationsApi(this.sdk);
  }

  /** Gets a token now (boot check). */
  async connect(): Promise<void> {
    await this.ensureLogin(true);
  }

  /** Runs one SDK call; resolves with any HTTP answer (2xx or not), rejects only without an answer. */
  async call(run: () => Promise<unknown>): Promise<GenesysAnswer> {
    await this.ensureLogin(false);
    let answer = await this.attempt(run);
    if (answer.status === 401) {
      await this.ensureLogin(true);
      answer = await this.attempt(run);
    }
    return answer;
  }

  private async attempt(run: () => Promise<unknown>): Promise<GenesysAnswer> {
    try {
      return toAnswer(await run());
    } catch (error) {
      const answer = toAnswerOrUndefined(error);
      if (answer) return answer;
      throw noAnswer(error);
    }
  }

  private async ensureLogin(force: boolean): Promise<void> {
    if (this.loggedIn && !force) return;
    if (!this.login) {
      this.login = (async () => {
        try {
          await this.sdk.loginClientCredentialsGrant(this.options.clientId, this.options.clientSecret);
          this.tokens++;
          this.loggedIn = true;
        } catch (error) {
          this.loggedIn = false;
          const status = (error as { response?: { status?: number } })?.response?.status;
          if (status === undefined) throw noAnswer(error);
          const credentials = status === 400 || status === 401 || status === 403;
          throw new GenesysAuthError(`POST /oauth/token: HTTP ${status}${credentials ? '; check GENESYS_CLIENT_ID and GENESYS_CLIENT_SECRET (a client-credentials OAuth client)' : ''}`, credentials, status);
        } finally {
          this.login = undefined;
        }
      })();
    }
    await this.login;
  }
}

function toAnswer(value: unknown): GenesysAnswer {
  const v = value as { status?: number; headers?: unknown; body?: unknown };
  return { status: typeof v?.status === 'number' ? v.status : 200, headers: lowerHeaders(v?.headers), body: v?.body };
}

function toAnswerOrUndefined(error: unknown): GenesysAnswer | undefined {
  const e = error as { status?: unknown; headers?: unknown; body?: unknown; response?: { status?: number; headers?: unknown; data?: unknown } };
  if (e && typeof e.status === 'number') return { status: e.status, headers: lowerHeaders(e.headers), body: e.body };
  if (e?.response && typeof e.response.status === 'number') return { status: e.response.status, headers: lowerHeaders(e.response.headers), body: e.response.data };
  return undefined;
}

function noAnswer(error: unknown): GenesysNoAnswer {
  const e = error as { code?: string; message?: string; error?: { code?: string; message?: string } };
  const code = e?.code ?? e?.error?.code;
  const message = e?.message ?? e?.error?.message ?? String(error);
  return new GenesysNoAnswer(code === 'ECONNABORTED' || /timeout/i.test(message) ? 'timeout' : 'network', message);
}
