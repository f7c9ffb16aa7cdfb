import { randomBytes } from 'node:crypto';
import type { DmlOutcome, EmulatorOrg } from './emulator-org.store';
import { KEY_PREFIX, looksLikeId, toId18 } from './salesforce-id.util';
import { SCHEMA, describeObject, toJsonValue, type SObjectDescribe, type SObjectRecord } from './sobject.schema';
import { compileSoql, invalidType, runSoql, type SalesforceApiError, type SoqlRelation } from './soql.parser';

export interface RestAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface PushRequestEvent {
  payload: string;
  userIds: string[];
}

export interface PushResult {
  fanoutCount: number;
  userOnlineStatus: Record<string, boolean>;
}

export interface RestRequest {
  method: string;
  /** The API version from the URL, e.g. `62.0`. */
  version: string;
  /** The path after `/services/data/vXX.X`, without a trailing slash (`''` for the root). */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body (undefined when empty); `invalid` when it was not JSON. */
  body: unknown;
  bodyInvalid: boolean;
  /** The authenticated user. */
  userId: string;
}

export interface SalesforceRestDeps {
  org: EmulatorOrg;
  /** Pushes events on a StreamingChannel; called after the whole request was validated. */
  push(channel: SObjectRecord, events: PushRequestEvent[]): PushResult[];
  /** Users with at least one client subscribed to the channel. */
  onlineUsers(channelName: string): string[];
  apiLimit: number;
  apiCalls(): number;
  batchSize: number;
  /** Streaming allocations and what was used of them (the `/limits` resource). */
  streaming(): StreamingLimits;
  /** Whether a user may read a record of an object owned by `ownerId` (queries return only readable rows). */
  canRead(userId: string, objectName: string, ownerId: string | undefined): boolean;
  /** Whether a user may query an object at all (SetupEntityAccess needs "View Setup and Configuration"). */
  canAccessObject(userId: string, objectName: string): boolean;
}

export interface StreamingLimits {
  allocations: { dailyPushTopicEvents: number; dailyGenericEvents: number; concurrentClients: number };
  pushTopicEvents: number;
  genericEvents: number;
  clients: number;
}

/** Salesforce's push payload limit: "Cannot exceed 3,000 single-byte characters". */
export const PUSH_PAYLOAD_MAX = 3000;

function errors(status: number, errorCode: string, message: string, fields?: string[]): RestAnswer {
  const error: SalesforceApiError = { message, errorCode, ...(fields ? { fields } : {}) };
  return { status, body: [error] };
}

const NOT_FOUND = (): RestAnswer => errors(404, 'NOT_FOUND', 'The requested resource does not exist');

function methodNotAllowed(method: string, allowed: string[]): RestAnswer {
  return { ...errors(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${method}' not allowed. Allowed are ${allowed.join(',')}`), headers: { Allow: allowed.join(', ') } };
}

function dml(outcome: DmlOutcome, created: boolean): RestAnswer {
  if (!outcome.ok) return { status: outcome.status, body: outcome.errors };
  return created ? { status: 201, body: { id: outcome.id, success: true, errors: [] } } : { status: 204, body: undefined };
}

/** The REST API under `/services/data/vXX.X/` that a presence integration uses. */
export class SalesforceRestRouter {
  private readonly cursors = new Map<string, { rows: Record<string, unknown>[]; version: string; offset: number; batch: number }>();

  constructor(private readonly deps: SalesforceRestDeps) {}

  handle(req: RestRequest): RestAnswer {
    const { method, path } = req;
    if (req.bodyInvalid) return errors(400, 'JSON_PARSER_ERROR', 'The request body is not valid JSON');
    if (path === '') return method === 'GET' ? { status: 200, body: this.resources(req.version) } : methodNotAllowed(method, ['GET']);
    if (path === '/limits') {
      if (method !== 'GET') return methodNotAllowed(method, ['GET']);
      return { status: 200, body: this.limits(req.version) };
    }
    if (path === '/query' || path === '/queryAll') {
      if (method !== 'GET') return methodNotAllowed(method, ['GET']);
      return this.query(req);
    }
    const more = /^\/query(?:All)?\/([^/]+)$/.exec(path);
    if (more) return method === 'GET' ? this.nextBatch(decodeURIComponent(more[1])) : methodNotAllowed(method, ['GET']);
    if (path === '/sobjects') return method === 'GET' ? { status: 200, body: this.describeGlobal() } : methodNotAllowed(method, ['GET']);
    const sobject = /^\/sobjects\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(path);
    if (!sobject) return NOT_FOUND();
    const object = describeObject(decodeURIComponent(sobject[1]));
    if (!object) return NOT_FOUND();
    const second = sobject[2] === undefined ? undefined : decodeURIComponent(sobject[2]);
    const third = sobject[3];
    if (second === undefined) {
      if (method === 'POST') return dml(this.deps.org.insert(object, req.body, req.userId), true);
      if (method === 'GET') return { status: 200, body: { objectDescribe: this.describeSummary(object), recentItems: [] } };
      return methodNotAllowed(method, ['GET', 'POST']);
    }
    if (second === 'describe' && third === undefined) return method === 'GET' ? { status: 200, body: this.describe(object) } : methodNotAllowed(method, ['GET']);
    if (third === 'push' && object.name === 'StreamingChannel') return this.push(req, second);
    if (third !== undefined) return NOT_FOUND();
    if (method === 'GET') {
      const record = this.deps.org.retrieve(object.name, second);
      return record ? { status: 200, body: this.format(object, record, object.fields.map((f) => f.name), req.version) } : NOT_FOUND();
    }
    if (method === 'PATCH') return dml(this.deps.org.update(object, second, req.body, req.userId), false);
    if (method === 'DELETE') return dml(this.deps.org.remove(object, second), false);
    return methodNotAllowed(method, ['GET', 'PATCH', 'DELETE']);
  }

  private resources(version: string): Record<string, string> {
    const base = `/services/data/v${version}`;
    return { sobjects: `${base}/sobjects`, query: `${base}/query`, queryAll: `${base}/queryAll`, limits: `${base}/limits` };
  }

  /**
   * `/limits`: each entry is `{ Max, Remaining }`. The streaming entries are named per API version, as the
   * Streaming API guide lists them: Durable Streaming (37.0 and later) and the older ones (36.0 and earlier).
   */
  private limits(version: string): Record<string, { Max: number; Remaining: number }> {
    const entry = (max: number, used: number): { Max: number; Remaining: number } => ({ Max: max, Remaining: Math.max(0, max - used) });
    const s = this.deps.streaming();
    const durable = Number(version) >= 37;
    return {
      DailyApiRequests: entry(this.deps.apiLimit, this.deps.apiCalls()),
      [durable ? 'DailyDurableStreamingApiEvents' : 'DailyStreamingApiEvents']: entry(s.allocations.dailyPushTopicEvents, s.pushTopicEvents),
      [durable ? 'DailyDurableGenericStreamingApiEvents' : 'DailyGenericStreamingApiEvents']: entry(s.allocations.dailyGenericEvents, s.genericEvents),
      [durable ? 'DurableStreamingApiConcurrentClients' : 'StreamingApiConcurrentClients']: entry(s.allocations.concurrentClients, s.clients),
    };
  }

  private describeSummary(object: SObjectDescribe): Record<string, unknown> {
    return {
      name: object.name, label: object.label, keyPrefix: object.keyPrefix, createable: object.createable,
      updateable: object.updateable, deletable: object.deletable, queryable: object.queryable,
    };
  }

  private describeGlobal(): Record<string, unknown> {
    return { encoding: 'UTF-8', maxBatchSize: 200, sobjects: SCHEMA.map((o) => this.describeSummary(o)) };
  }

  private describe(object: SObjectDescribe): Record<string, unknown> {
    return { ...this.describeSummary(object), fields: object.fields.map((f) => ({ ...f })) };
  }

  /**
   * A query row: the selected fields, then each parent selected through a lookup as a nested record (`null` when
   * the lookup is empty or the parent cannot be read), as the REST API answers `SELECT ServiceChannel.DeveloperName`;
   * a parent's own parents (`Parent.Profile.Name`) nest the same way inside it.
   */
  private formatRow(object: SObjectDescribe, fields: string[], relations: SoqlRelation[], record: SObjectRecord, version: string, userId: string): Record<string, unknown> {
    const out = this.format(object, record, fields, version);
    for (const relation of relations) {
      const parentId = record[relation.via.name];
      const parent = typeof parentId === 'string' ? this.deps.org.retrieve(relation.target.name, parentId) : undefined;
      const readable = parent && this.deps.canRead(userId, relation.target.name, typeof parent.OwnerId === 'string' ? parent.OwnerId : undefined);
      out[relation.name] = readable
        ? this.formatRow(relation.target, relation.fields.map((f) => f.name), relation.relations, parent, version, userId)
        : null;
    }
    return out;
  }

  /** Records of an object as the user may read them: objects it cannot access have none, and owner-only rows are filtered. */
  private readable(objectName: string, userId: string): SObjectRecord[] {
    return this.deps.org.records(objectName).filter((r) => this.deps.canRead(userId, objectName, typeof r.OwnerId === 'string' ? r.OwnerId : undefined));
  }

  /** A record as the REST API writes it: `attributes` first, then the requested fields in order. */
  private format(object: SObjectDescribe, record: SObjectRecord, fields: string[], version: string): Record<string, unknown> {
    const out: Record<string, unknown> = {
      attributes: { type: object.name, url: `/services/data/v${version}/sobjects/${object.name}/${String(record.Id)}` },
    };
    for (const name of fields) {
      const field = object.fields.find((f) => f.name === name);
      if (field) out[name] = toJsonValue(field.type, record[name]);
    }
    return out;
  }

  private batchSize(req: RestRequest): number {
    const header = req.headers['sforce-query-options'];
    const match = /batchSize\s*=\s*(\d+)/i.exec(Array.isArray(header) ? header.join(',') : header ?? '');
    // Salesforce honours 200–2,000 and treats the size as a hint.
    return match ? Math.min(2000, Math.max(200, Number(match[1]))) : this.deps.batchSize;
  }

  private query(req: RestRequest): RestAnswer {
    const text = req.query.get('q');
    if (!text) return errors(400, 'MALFORMED_QUERY', 'A query string has to be specified');
    const compiled = compileSoql(text);
    if (!compiled.ok) return { status: 400, body: [compiled.error] };
    const query = compiled.value;
    const objects = [query.object.name, ...query.where.flatMap((c) => (c.subquery ? [c.subquery.object.name] : []))];
    const denied = objects.find((name) => !this.deps.canAccessObject(req.userId, name));
    // An object the user may not access is answered like one that does not exist.
    if (denied) return { status: 400, body: [invalidType(denied)] };
    // Record access applies to queries as to everything else: rows the user may not read do not exist for it.
    const rows = runSoql(this.readable(query.object.name, req.userId), query, (name) => this.readable(name, req.userId))
      .map((r) => this.formatRow(query.object, query.fields.map((f) => f.name), query.relations, r, req.version, req.userId));
    return { status: 200, body: this.batch(rows, 0, this.batchSize(req), req.version) };
  }

  private batch(rows: Record<string, unknown>[], offset: number, size: number, version: string): Record<string, unknown> {
    const end = Math.min(rows.length, offset + size);
    const body: Record<string, unknown> = { totalSize: rows.length, done: end >= rows.length, records: rows.slice(offset, end) };
    if (end < rows.length) {
      const locator = toId18(KEY_PREFIX.queryLocator + randomBytes(8).toString('hex').slice(0, 12).toUpperCase());
      this.cursors.set(locator, { rows, version, offset: end, batch: size });
      body.nextRecordsUrl = `/services/data/v${version}/query/${locator}-${end}`;
    }
    return body;
  }

  private nextBatch(ref: string): RestAnswer {
    const [locator] = ref.split('-');
    const cursor = this.cursors.get(locator);
    if (!cursor) return errors(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
    this.cursors.delete(locator);
    return { status: 200, body: this.batch(cursor.rows, cursor.offset, cursor.batch, cursor.version) };
  }

  /** `sobjects/StreamingChannel/{id}/push`: GET lists the subscribed users, POST pushes events. */
  private push(req: RestRequest, channelId: string): RestAnswer {
    const channel = this.deps.org.retrieve('StreamingChannel', channelId);
    if (!channel) return NOT_FOUND();
    const name = channel.Name as string;
    if (req.method === 'GET') return { status: 200, body: { OnlineUserIds: this.deps.onlineUsers(name), ChannelName: name } };
    if (req.method !== 'POST') return methodNotAllowed(req.method, ['GET', 'POST']);
    const body = req.body as { pushEvents?: unknown } | undefined;
    const raw = body && typeof body === 'object' ? body.pushEvents : undefined;
    if (!Array.isArray(raw) || raw.length === 0) return errors(400, 'INVALID_FIELD', 'pushEvents: a non-empty array of push events is required', ['pushEvents']);
    const events: PushRequestEvent[] = [];
    for (const item of raw as unknown[]) {
      const event = (typeof item === 'object' && item !== null ? item : {}) as { payload?: unknown; userIds?: unknown };
      if (typeof event.payload !== 'string') return errors(400, 'INVALID_FIELD', 'payload: a string is required', ['payload']);
      if (event.payload.length > PUSH_PAYLOAD_MAX) {
        return errors(400, 'STRING_TOO_LONG', `payload: data value too large (max length=${PUSH_PAYLOAD_MAX}, was ${event.payload.length})`, ['payload']);
      }
      const userIds = event.userIds ?? [];
      if (!Array.isArray(userIds) || userIds.some((u) => typeof u !== 'string')) return errors(400, 'INVALID_FIELD', 'userIds: an array of user ids is required', ['userIds']);
      const bad = (userIds as string[]).find((u) => !looksLikeId(u));
      if (bad !== undefined) return errors(400, 'MALFORMED_ID', `Invalid id: ${bad}`, ['userIds']);
      events.push({ payload: event.payload, userIds: userIds as string[] });
    }
    return { status: 200, body: this.deps.push(channel, events) };
  }
}
