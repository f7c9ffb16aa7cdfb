import type { SalesforceSettings } from '@presence-sync/config';
import { salesforceErrorCode, salesforceErrorMessage } from './salesforce-errors';
import type { SalesforceSession } from './salesforce-session';
import { queryAll, soqlString, STATUS_CATALOG_SOQL } from './soql';
import { closeFayeClient, createStreamingClient, MetaMonitorExtension, REPLAY_NEW } from './streaming-client';
import type { BayeuxMessage } from './faye-client.types';

/** The PushTopic query of the spec: USP rows with the fields the lifecycle translator reads (no relationship fields). */
export const USP_PUSH_TOPIC_QUERY =
  'SELECT Id, UserId, ServicePresenceStatusId, IsCurrentState, IsAway, StatusStartDate, StatusEndDate FROM UserServicePresence';

export interface PushTopicRecord {
  Id: string;
  Name: string;
  Query: string;
  ApiVersion: number;
  IsActive: boolean;
  NotifyForFields: string;
  NotifyForOperationCreate: boolean;
  NotifyForOperationUpdate: boolean;
  NotifyForOperationDelete: boolean;
  NotifyForOperationUndelete: boolean;
}

/** What one setup or check step found or did. */
export interface SetupStep {
  subject: string;
  outcome: 'found' | 'created' | 'updated' | 'missing' | 'ok' | 'failed';
  detail: string;
}

/** The PushTopic the daemon needs, for the configured name and API version. */
export function pushTopicDefinition(settings: SalesforceSettings): Omit<PushTopicRecord, 'Id'> & { Description: string } {
  return {
    Name: settings.pushTopic,
    Query: USP_PUSH_TOPIC_QUERY,
    ApiVersion: Number(settings.apiVersion),
    IsActive: true,
    NotifyForFields: 'Referenced',
    NotifyForOperationCreate: true,
    NotifyForOperationUpdate: true,
    // Deletes and undeletes say nothing about presence; not subscribing saves daily event allocation.
    NotifyForOperationDelete: false,
    NotifyForOperationUndelete: false,
    Description: 'presence-sync: Omni-Channel presence changes (UserServicePresence)',
  };
}

const DIFF_FIELDS = [
  'Query', 'ApiVersion', 'IsActive', 'NotifyForFields', 'NotifyForOperationCreate', 'NotifyForOperationUpdate',
  'NotifyForOperationDelete', 'NotifyForOperationUndelete',
] as const;

const normaliseQuery = (q: string): string => q.replace(/\s+/g, ' ').trim().toLowerCase();

/**
 * The Salesforce side of `presence-sync salesforce setup` / `check`. Setup is idempotent: it finds the
 * PushTopic and the command StreamingChannel by name, creates what is missing and corrects a PushTopic whose
 * definition drifted; `check` only reads (and briefly subscribes).
 */
export class SalesforceSetup {
  constructor(private readonly session: SalesforceSession, private readonly settings: SalesforceSettings) {}

  async findPushTopic(): Promise<PushTopicRecord | undefined> {
    const soql = `SELECT Id, Name, Query, ApiVersion, IsActive, NotifyForFields, NotifyForOperationCreate, NotifyForOperationUpdate, NotifyForOperationDelete, NotifyForOperationUndelete FROM PushTopic WHERE Name = ${soqlString(this.settings.pushTopic)}`;
    return (await queryAll<PushTopicRecord>(this.session, soql, this.settings.requestTimeoutMs))[0];
  }

  /** Fields of an existing PushTopic that differ from the wanted definition. */
  pushTopicDrift(existing: PushTopicRecord): (typeof DIFF_FIELDS)[number][] {
    const wanted = pushTopicDefinition(this.settings);
    return DIFF_FIELDS.filter((field) =>
      field === 'Query' ? normaliseQuery(existing.Query) !== normaliseQuery(wanted.Query)
        : field === 'ApiVersion' ? Number(existing.ApiVersion) !== wanted.ApiVersion
          : existing[field] !== wanted[field]);
  }

  async ensurePushTopic(): Promise<SetupStep> {
    const subject = `PushTopic ${this.settings.pushTopic}`;
    const wanted = pushTopicDefinition(this.settings);
    const existing = await this.findPushTopic();
    if (!existing) {
      const created = await this.session.call((conn) => conn.request<{ id: string }>({
        method: 'POST', url: '/sobjects/PushTopic', body: JSON.stringify(wanted), headers: { 'content-type': 'application/json' },
      }, { timeout: this.settings.requestTimeoutMs }));
      return { subject, outcome: 'created', detail: `created (${created.id}): ${wanted.Query}; API ${this.settings.apiVersion}; create+update, fields Referenced` };
    }
    const drift = this.pushTopicDrift(existing);
    if (drift.length === 0) return { subject, outcome: 'found', detail: `exists (${existing.Id}) as wanted` };
    const patch: Record<string, unknown> = {};
    for (const field of drift) patch[field] = wanted[field];
    try {
      await this.session.call((conn) => conn.request({
        method: 'PATCH', url: `/sobjects/PushTopic/${existing.Id}`, body: JSON.stringify(patch), headers: { 'content-type': 'application/json' },
      }, { timeout: this.settings.requestTimeoutMs }));
    } catch (e) {
      // The integration permission set grants PushTopic Read and Create only (docs/salesforce-setup.md).
      return {
        subject, outcome: 'failed',
        detail: `exists (${existing.Id}) with a different ${drift.join(', ')} and could not be updated (${describeFailure(e)}): delete it and run setup again`,
      };
    }
    return { subject, outcome: 'updated', detail: `existed (${existing.Id}) with a different ${drift.join(', ')}: updated` };
  }

  async findCommandChannel(): Promise<{ Id: string; Name: string } | undefined> {
    const soql = `SELECT Id, Name FROM StreamingChannel WHERE Name = ${soqlString(this.settings.commandChannel)}`;
    return (await queryAll<{ Id: string; Name: string }>(this.session, soql, this.settings.requestTimeoutMs))[0];
  }

  async ensureCommandChannel(): Promise<SetupStep> {
    const subject = `StreamingChannel ${this.settings.commandChannel}`;
    const existing = await this.findCommandChannel();
    if (existing) return { subject, outcome: 'found', detail: `exists (${existing.Id})` };
    const created = await this.session.call((conn) => conn.request<{ id: string }>({
      method: 'POST', url: '/sobjects/StreamingChannel',
      body: JSON.stringify({ Name: this.settings.commandChannel, Description: 'presence-sync: commands to the agent console relay' }),
      headers: { 'content-type': 'application/json' },
    }, { timeout: this.settings.requestTimeoutMs }));
    return { subject, outcome: 'created', detail: `created (${created.id})` };
  }

  /** Which of the status DeveloperNames (e.g. those the rules name) the org's catalog lacks. */
  async checkStatuses(required: readonly string[]): Promise<{ known: string[]; missing: string[] }> {
    const rows = await queryAll<{ DeveloperName: string }>(this.session, STATUS_CATALOG_SOQL, this.settings.requestTimeoutMs);
    const known = rows.map((r) => r.DeveloperName).sort();
    const have = new Set(known);
    const missing = [...new Set(required)].filter((name) => name !== 'Offline' && !have.has(name)).sort();
    return { known, missing };
  }

  /**
   * A short streaming test: handshake and subscribe to the PushTopic with replay -1 (receives nothing old,
   * changes nothing), then disconnect. Resolves the outcome; never throws.
   */
  async probeStreaming(timeoutMs = 15_000): Promise<SetupStep> {
    const channel = `/topic/${this.settings.pushTopic}`;
    const subject = `streaming ${channel}`;
    try {
      await this.session.connect();
    } catch (e) {
      return { subject, outcome: 'failed', detail: `no session: ${salesforceErrorMessage(e)}` };
    }
    let settle!: (step: SetupStep) => void;
    const done = new Promise<SetupStep>((resolve) => {
      settle = resolve;
    });
    const observe = (m: BayeuxMessage): void => {
      if (m.channel === '/meta/handshake' && m.successful === false) {
        settle({ subject, outcome: 'failed', detail: `handshake refused: ${m.error ?? 'unknown'}${m.ext?.sfdc?.failureReason ? ` (${m.ext.sfdc.failureReason})` : ''}` });
      } else if (m.channel === '/meta/subscribe' && m.subscription === channel) {
        settle(m.successful
          ? { subject, outcome: 'ok', detail: `handshake and subscribe ok (${this.session.connection.instanceUrl}/cometd/${this.settings.apiVersion})` }
          : { subject, outcome: 'failed', detail: `subscribe refused: ${m.error ?? 'unknown'}` });
      }
    };
    const { client } = createStreamingClient({
      connection: this.session.connection, channel, replayFrom: REPLAY_NEW, extensions: [new MetaMonitorExtension(observe)], proxyUrl: this.settings.proxyUrl,
    });
    const timer = setTimeout(() => settle({ subject, outcome: 'failed', detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
    try {
      client.subscribe(channel, () => undefined);
      return await done;
    } finally {
      clearTimeout(timer);
      await closeFayeClient(client);
    }
  }
}

/** One line for a failed Salesforce call, with its error code. */
export function describeFailure(e: unknown): string {
  const code = salesforceErrorCode(e);
  return `${code ? `${code}: ` : ''}${salesforceErrorMessage(e)}`;
}
