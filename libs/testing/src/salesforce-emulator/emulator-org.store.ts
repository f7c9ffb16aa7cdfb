import { KEY_PREFIX, SalesforceIdFactory, sameId, toId18 } from './salesforce-id.util';
import {
  SCHEMA, describeField, describeObject,
  type FieldDescribe, type FieldValue, type SObjectDescribe, type SObjectRecord,
} from './sobject.schema';
import { compileSoql, type SalesforceApiError } from './soql.parser';
import type {
  AgentWorkRow, SalesforceEmulatorPermissions, SalesforceEmulatorServiceChannelSeed, SalesforceEmulatorStatusSeed,
  SalesforceEmulatorUserSeed, UspChangeCause, UspRow,
} from './salesforce-emulator.types';

/** A write to a record, for the streaming side (PushTopics) and assertion hooks. */
export interface RecordChange {
  object: SObjectDescribe;
  type: 'created' | 'updated' | 'deleted';
  /** A copy of the record after the write (before it, for `deleted`). */
  record: SObjectRecord;
  changedFields: string[];
  cause: UspChangeCause;
}

/** What a REST DML call answers. */
export type DmlOutcome = { ok: true; id: string } | { ok: false; status: number; errors: SalesforceApiError[] };

/** What a user may read beyond its own records. */
interface Grants {
  viewAllData: boolean;
  /** Objects with "View All" (ObjectPermissions.PermissionsViewAllRecords) in one of the user's permission sets. */
  viewAllObjects: Set<string>;
}

/**
 * Objects whose records a user reads only when it owns them or may view all. UserServicePresence supports no
 * sharing rules; AgentWork is shared by owner (AgentWorkShare) and the emulator models no sharing rules for it.
 */
const OWNER_ONLY = new Set(['UserServicePresence', 'AgentWork']);

/** AgentWork statuses that hold the agent's capacity ("active in Omni-Channel"). */
const OPEN_WORK = new Set(['Assigned', 'Opened']);

/** The capacity figures Omni-Channel keeps on the current presence row: since when the load is what it is. */
interface LoadMark {
  since: number;
  load: number;
  /** ∫ load dt over the row's life so far, in load × seconds. */
  loadSeconds: number;
}

interface UserSecrets {
  password?: string;
  securityToken?: string;
  approved: boolean;
  capacity: number;
}

export interface EmulatorOrgOptions {
  users: SalesforceEmulatorUserSeed[];
  integrationUser?: SalesforceEmulatorUserSeed;
  statuses: SalesforceEmulatorStatusSeed[];
  serviceChannels: SalesforceEmulatorServiceChannelSeed[];
  now: () => number;
  statusChangeOrder: 'create-first' | 'close-first';
  onChange: (change: RecordChange) => void;
}

const NOTIFY_FOR_FIELDS = ['All', 'Referenced', 'Select', 'Where'];

function copy(record: SObjectRecord): SObjectRecord {
  return { ...record };
}

/**
 * The org's data: users, the presence status catalog, UserServicePresence rows with Omni-Channel's lifecycle,
 * PushTopics and StreamingChannels. Every write goes through `onChange`, which is how PushTopics learn of it.
 */
export class EmulatorOrg {
  readonly orgId = toId18(`${KEY_PREFIX.organization}000000000001`);

  private readonly ids = new SalesforceIdFactory();
  private readonly tables = new Map<string, Map<string, SObjectRecord>>();
  private readonly secrets = new Map<string, UserSecrets>();
  private readonly statusAway = new Map<string, boolean>();
  /** Indexes, so an org of 50,000 users answers in constant time: username and e-mail (lower case) → user id. */
  private readonly userByUsername = new Map<string, string>();
  private readonly userByEmail = new Map<string, string>();
  /** User id (15 characters) → the id of the user's current UserServicePresence row. */
  private readonly currentUsp = new Map<string, string>();
  /** User id (18) → its permissions; the PermissionSet records are derived from it. */
  private readonly grants = new Map<string, Grants>();
  private uspNumber = 0;
  private workNumber = 0;
  /** ServiceChannel id → the capacity weight of its work items. */
  private readonly channelWeight = new Map<string, number>();
  /** Presence row id → its load history (for AverageCapacity, AtCapacityDuration, IdleDuration). */
  private readonly loadMarks = new Map<string, LoadMark>();

  constructor(private readonly options: EmulatorOrgOptions) {
    for (const object of SCHEMA) this.tables.set(object.name, new Map());
    options.statuses.forEach((seed, i) => this.seedStatus(seed, i + 1));
    options.serviceChannels.forEach((seed, i) => this.seedChannel(seed, i + 1));
    const seeds = options.integrationUser ? [...options.users, options.integrationUser] : options.users;
    seeds.forEach((seed, i) => this.seedUser(seed, i + 1, seed === options.integrationUser));
    for (const seed of seeds) {
      if (!seed.status) continue;
      const user = this.resolveUser(seed.username) as SObjectRecord;
      const status = this.statusByDeveloperName(seed.status);
      if (!status) throw new Error(`SalesforceEmulator: user ${seed.username} starts in unknown status ${seed.status}`);
      // Seeded presence is the state before anyone listens, so it is written without a change event.
      const [rowId, row] = this.newUspRow(user.Id as string, status);
      this.table('UserServicePresence').set(rowId, row);
      this.indexUsp(row, 'created');
    }
  }

  private table(name: string): Map<string, SObjectRecord> {
    return this.tables.get(name) as Map<string, SObjectRecord>;
  }

  private audit(at: number, by: string | null): SObjectRecord {
    return { CreatedDate: at, CreatedById: by, LastModifiedDate: at, LastModifiedById: by, SystemModstamp: at };
  }

  private seedStatus(seed: SalesforceEmulatorStatusSeed, n: number): void {
    const id = seed.id ? toId18(seed.id) : SalesforceIdFactory.format(KEY_PREFIX.servicePresenceStatus, n);
    if (this.statusByDeveloperName(seed.developerName)) throw new Error(`SalesforceEmulator: status ${seed.developerName} listed twice`);
    this.table('ServicePresenceStatus').set(id, {
      Id: id, DeveloperName: seed.developerName, MasterLabel: seed.label, Language: 'en_US', ...this.audit(this.options.now(), null),
    });
    this.statusAway.set(id, seed.isAway ?? false);
  }

  private seedChannel(seed: SalesforceEmulatorServiceChannelSeed, n: number): void {
    if (this.channelByDeveloperName(seed.developerName)) throw new Error(`SalesforceEmulator: service channel ${seed.developerName} listed twice`);
    const id = SalesforceIdFactory.format(KEY_PREFIX.serviceChannel, n);
    this.table('ServiceChannel').set(id, {
      Id: id, DeveloperName: seed.developerName, MasterLabel: seed.label, RelatedEntity: seed.relatedEntity, CapacityModel: 'TabBased',
      ...this.audit(this.options.now(), null),
    });
    this.channelWeight.set(id, seed.weight ?? 1);
  }

  private seedUser(seed: SalesforceEmulatorUserSeed, n: number, integration: boolean): void {
    // The same 15-character ids as InMemorySalesforce.addUsersForEmails, in the 18-character form.
    const id = toId18(seed.id ?? `${KEY_PREFIX.user}${String(n).padStart(12, '0')}`);
    if (this.userById(id)) throw new Error(`SalesforceEmulator: user id ${id} listed twice`);
    if (this.resolveUser(seed.username)) throw new Error(`SalesforceEmulator: username ${seed.username} listed twice`);
    const lastName = seed.lastName ?? seed.email.split('@')[0];
    this.table('User').set(id, {
      Id: id,
      Username: seed.username,
      Email: seed.email,
      FirstName: seed.firstName ?? null,
      LastName: lastName,
      Name: seed.firstName ? `${seed.firstName} ${lastName}` : lastName,
      FederationIdentifier: seed.federationIdentifier ?? null,
      IsActive: seed.isActive ?? true,
      UserType: seed.userType ?? 'Standard',
      ...this.audit(this.options.now(), null),
    });
    const viewAll = [...(seed.viewAllPresence ? ['UserServicePresence'] : []), ...(seed.viewAllAgentWork ? ['AgentWork'] : [])];
    this.grants.set(id, { viewAllData: seed.viewAllData ?? integration, viewAllObjects: new Set(viewAll) });
    this.writePermissionRecords(id);
    this.secrets.set(id, { password: seed.password, securityToken: seed.securityToken, approved: seed.approved ?? true, capacity: seed.capacity ?? 10 });
    this.userByUsername.set(seed.username.toLowerCase(), id);
    if (!this.userByEmail.has(seed.email.toLowerCase())) this.userByEmail.set(seed.email.toLowerCase(), id);
  }

  // ---- permissions and visibility ------------------------------------------------------------------------

  /**
   * Rewrites the user's permission records: a profile-owned permission set carrying View All Data, and, for
   * "View All" on an object, a permission set with that ObjectPermissions row, each with its assignment.
   */
  private writePermissionRecords(userId: string): void {
    const at = this.options.now();
    const suffix = userId.slice(3, 15);
    const sets = this.table('PermissionSet');
    const assignments = this.table('PermissionSetAssignment');
    const objects = this.table('ObjectPermissions');
    for (const [id, a] of assignments) {
      if (a.AssigneeId !== userId) continue;
      assignments.delete(id);
      sets.delete(a.PermissionSetId as string);
      for (const [oid, o] of objects) if (o.ParentId === a.PermissionSetId) objects.delete(oid);
    }
    const grants = this.grants.get(userId) as Grants;
    const assign = (permissionSetId: string): void => {
      const id = this.ids.next(KEY_PREFIX.permissionSetAssignment);
      assignments.set(id, { Id: id, AssigneeId: userId, PermissionSetId: permissionSetId, ...this.audit(at, null) });
    };
    const profileSet = this.ids.next(KEY_PREFIX.permissionSet);
    sets.set(profileSet, {
      Id: profileSet, Name: `X00e${suffix}`, Label: 'Profile', IsOwnedByProfile: true,
      PermissionsViewAllData: grants.viewAllData, PermissionsModifyAllData: false, PermissionsViewSetup: true, ...this.audit(at, null),
    });
    assign(profileSet);
    for (const object of grants.viewAllObjects) {
      const setId = this.ids.next(KEY_PREFIX.permissionSet);
      sets.set(setId, {
        Id: setId, Name: `${object}_View_All`, Label: `${object} View All`, IsOwnedByProfile: false,
        PermissionsViewAllData: false, PermissionsModifyAllData: false, PermissionsViewSetup: false, ...this.audit(at, null),
      });
      const permId = this.ids.next(KEY_PREFIX.objectPermissions);
      objects.set(permId, {
        Id: permId, ParentId: setId, SobjectType: object, PermissionsRead: true, PermissionsViewAllRecords: true, PermissionsModifyAllRecords: false,
        ...this.audit(at, null),
      });
      assign(setId);
    }
  }

  /** Grants or withdraws View All Data and View All on UserServicePresence or AgentWork. */
  setPermissions(userId: string, permissions: SalesforceEmulatorPermissions): void {
    const user = this.userById(userId);
    if (!user) throw new Error(`SalesforceEmulator: no user ${userId}`);
    const grants = this.grants.get(user.Id as string) as Grants;
    if (permissions.viewAllData !== undefined) grants.viewAllData = permissions.viewAllData;
    if (permissions.viewAllPresence === true) grants.viewAllObjects.add('UserServicePresence');
    if (permissions.viewAllPresence === false) grants.viewAllObjects.delete('UserServicePresence');
    if (permissions.viewAllAgentWork === true) grants.viewAllObjects.add('AgentWork');
    if (permissions.viewAllAgentWork === false) grants.viewAllObjects.delete('AgentWork');
    this.writePermissionRecords(user.Id as string);
  }

  /**
   * Whether `userId` may read a record of `objectName` owned by `ownerId`. UserServicePresence supports no
   * sharing rules: its owner (the agent) reads it, and so does anyone with View All Data or View All on the
   * object; AgentWork the same way (its owner is the agent it is routed to). The other objects the emulator
   * holds are readable by every API user.
   */
  canRead(userId: string | undefined, objectName: string, ownerId: string | undefined): boolean {
    if (!OWNER_ONLY.has(objectName)) return true;
    if (!userId) return false;
    if (ownerId !== undefined && sameId(ownerId, userId)) return true;
    const user = this.userById(userId);
    const grants = user ? this.grants.get(user.Id as string) : undefined;
    return grants !== undefined && (grants.viewAllData || grants.viewAllObjects.has(objectName));
  }

  /** An admin edits a user (e.g. deactivates it): the record's SystemModstamp moves. */
  updateUser(userId: string, changes: { IsActive?: boolean; UserType?: string; FederationIdentifier?: string | null }): void {
    const user = this.userById(userId);
    if (!user) throw new Error(`SalesforceEmulator: no user ${userId}`);
    const at = this.options.now();
    this.write('User', 'updated', { ...user, ...changes, LastModifiedDate: at, SystemModstamp: at }, [...Object.keys(changes), 'LastModifiedDate', 'SystemModstamp'], 'api');
  }

  // ---- reads -------------------------------------------------------------------------------------------

  records(objectName: string): SObjectRecord[] {
    return [...this.table(objectName).values()].map(copy);
  }

  retrieve(objectName: string, id: string): SObjectRecord | undefined {
    // Records are keyed by their 18-character id; a 15-character one names the same record.
    if (id.length !== 15 && id.length !== 18) return undefined;
    const record = this.table(objectName).get(toId18(id.slice(0, 15)));
    return record ? copy(record) : undefined;
  }

  userById(id: string): SObjectRecord | undefined {
    return this.retrieve('User', id);
  }

  /** A user by id (15/18), username or e-mail (case-insensitive). */
  resolveUser(ref: string): SObjectRecord | undefined {
    const byId = this.userById(ref);
    if (byId) return byId;
    const lower = ref.toLowerCase();
    const id = this.userByUsername.get(lower) ?? this.userByEmail.get(lower);
    return id ? this.userById(id) : undefined;
  }

  secretsOf(userId: string): UserSecrets | undefined {
    const user = this.userById(userId);
    return user ? this.secrets.get(user.Id as string) : undefined;
  }

  statusById(id: string): SObjectRecord | undefined {
    return this.retrieve('ServicePresenceStatus', id);
  }

  statusByDeveloperName(name: string): SObjectRecord | undefined {
    return [...this.table('ServicePresenceStatus').values()].find((s) => s.DeveloperName === name);
  }

  currentRow(userId: string): SObjectRecord | undefined {
    const rowId = this.currentUsp.get(userId.slice(0, 15));
    return rowId ? this.retrieve('UserServicePresence', rowId) : undefined;
  }

  /** Keeps `currentUsp` in step with every write of a presence row. */
  private indexUsp(row: SObjectRecord, type: RecordChange['type']): void {
    const user = String(row.UserId).slice(0, 15);
    if (type !== 'deleted' && row.IsCurrentState === true) this.currentUsp.set(user, row.Id as string);
    else if (this.currentUsp.get(user) === row.Id) this.currentUsp.delete(user);
  }

  toUspRow(record: SObjectRecord): UspRow {
    const status = this.statusById(record.ServicePresenceStatusId as string);
    return {
      id: record.Id as string,
      userId: record.UserId as string,
      statusId: record.ServicePresenceStatusId as string,
      developerName: (status?.DeveloperName as string | undefined) ?? '',
      isCurrentState: record.IsCurrentState === true,
      isAway: record.IsAway === true,
      statusStartDate: record.StatusStartDate as number,
      statusEndDate: (record.StatusEndDate as number | null) ?? null,
      configuredCapacity: (record.ConfiguredCapacity as number | null) ?? 0,
      averageCapacity: (record.AverageCapacity as number | null) ?? 0,
    };
  }

  // ---- Omni-Channel presence lifecycle -------------------------------------------------------------------

  private newUspRow(userId: string, status: SObjectRecord): [string, SObjectRecord] {
    const at = this.options.now();
    const id = this.ids.next(KEY_PREFIX.userServicePresence);
    const capacity = this.secrets.get(userId)?.capacity ?? 10;
    return [id, {
      Id: id,
      Name: String(++this.uspNumber).padStart(10, '0'),
      OwnerId: userId,
      UserId: userId,
      ServicePresenceStatusId: status.Id,
      IsCurrentState: true,
      IsAway: this.statusAway.get(status.Id as string) ?? false,
      StatusStartDate: at,
      StatusEndDate: null,
      StatusDuration: null,
      ConfiguredCapacity: capacity,
      AverageCapacity: 0,
      AtCapacityDuration: 0,
      IdleDuration: 0,
      ...this.audit(at, userId),
    }];
  }

  // ---- Omni-Channel work ------------------------------------------------------------------------------------

  channelByDeveloperName(name: string): SObjectRecord | undefined {
    return [...this.table('ServiceChannel').values()].find((c) => c.DeveloperName === name);
  }

  /** The user's work that holds capacity (Assigned or Opened). */
  openWork(userId: string): SObjectRecord[] {
    return [...this.table('AgentWork').values()].filter((w) => sameId(w.UserId as string, userId) && OPEN_WORK.has(w.Status as string)).map(copy);
  }

  toWorkRow(record: SObjectRecord): AgentWorkRow {
    return {
      id: record.Id as string,
      userId: record.UserId as string,
      channel: (this.retrieve('ServiceChannel', record.ServiceChannelId as string)?.DeveloperName as string | undefined) ?? '',
      status: record.Status as AgentWorkRow['status'],
      capacityWeight: (record.CapacityWeight as number | null) ?? null,
      capacityPercentage: (record.CapacityPercentage as number | null) ?? null,
      assignedAt: record.AssignedDateTime as number,
      closedAt: (record.CloseDateTime as number | null) ?? null,
    };
  }

  /**
   * Omni-Channel routes a work item of `channel` to the agent: a new AgentWork in status Assigned that takes
   * capacity at once (capacity is consumed from assignment), so the agent's current presence row gets its
   * capacity figures updated. Omni-Channel routes only to an agent who is online: without a current presence
   * row this throws.
   */
  assignWork(userId: string, channel: string, capacity: { weight?: number; percentage?: number }): string {
    const user = this.userById(userId);
    if (!user) throw new Error(`SalesforceEmulator: no user ${userId}`);
    const service = this.channelByDeveloperName(channel);
    if (!service) throw new Error(`SalesforceEmulator: no service channel ${channel}`);
    if (!this.currentRow(user.Id as string)) {
      throw new Error(`SalesforceEmulator: ${String(user.Username)} is offline in Omni-Channel; work is routed only to online agents`);
    }
    const at = this.options.now();
    const id = this.ids.next(KEY_PREFIX.agentWork);
    const percentage = capacity.percentage ?? null;
    const weight = percentage !== null ? null : (capacity.weight ?? this.channelWeight.get(service.Id as string) ?? 1);
    const record: SObjectRecord = {
      Id: id, Name: String(++this.workNumber).padStart(8, '0'), OwnerId: user.Id, UserId: user.Id, WorkItemId: null,
      ServiceChannelId: service.Id, Status: 'Assigned', CapacityWeight: weight, CapacityPercentage: percentage,
      RequestDateTime: at, AssignedDateTime: at, AcceptDateTime: null, CloseDateTime: null, ...this.audit(at, null),
    };
    this.write('AgentWork', 'created', record, Object.keys(record), 'work');
    this.updateCapacity(user.Id as string);
    return id;
  }

  /** The agent accepts the work item (Assigned → Opened). Its capacity was taken at assignment: presence is not touched. */
  acceptWork(workId: string): void {
    const work = this.workOrThrow(workId);
    if (work.Status !== 'Assigned') throw new Error(`SalesforceEmulator: work ${workId} is ${String(work.Status)}, not Assigned`);
    const at = this.options.now();
    this.write('AgentWork', 'updated', { ...work, Status: 'Opened', AcceptDateTime: at, LastModifiedDate: at, SystemModstamp: at },
      ['Status', 'AcceptDateTime', 'LastModifiedDate', 'SystemModstamp'], 'work');
  }

  /** The work item is closed: its capacity is freed and the current presence row's capacity figures are updated. */
  closeWork(workId: string): void {
    const work = this.workOrThrow(workId);
    if (!OPEN_WORK.has(work.Status as string)) throw new Error(`SalesforceEmulator: work ${workId} is already ${String(work.Status)}`);
    const at = this.options.now();
    this.write('AgentWork', 'updated', { ...work, Status: 'Closed', CloseDateTime: at, LastModifiedDate: at, SystemModstamp: at },
      ['Status', 'CloseDateTime', 'LastModifiedDate', 'SystemModstamp'], 'work');
    this.updateCapacity(work.UserId as string);
  }

  private workOrThrow(workId: string): SObjectRecord {
    const work = this.retrieve('AgentWork', workId);
    if (!work) throw new Error(`SalesforceEmulator: no AgentWork ${workId}`);
    return work;
  }

  private loadOf(userId: string): number {
    return this.openWork(userId).reduce((sum, w) => sum + ((w.CapacityWeight as number | null) ?? (w.CapacityPercentage as number | null) ?? 0), 0);
  }

  private loadMark(row: SObjectRecord): LoadMark {
    let mark = this.loadMarks.get(row.Id as string);
    if (!mark) {
      // Work assigned before the row began (a status change) is carried into the new row.
      mark = { since: row.StatusStartDate as number, load: this.loadOf(row.UserId as string), loadSeconds: 0 };
      this.loadMarks.set(row.Id as string, mark);
    }
    return mark;
  }

  /**
   * The agent's load changed: AtCapacityDuration, IdleDuration (seconds at full load / with no load) and
   * AverageCapacity (the time-weighted average load) of the current row are brought up to now and written as
   * an update of the current row, the status untouched. The Object Reference says these fields are "updated
   * when the agent's capacity changes"; the emulator writes all three as changed on each load change, so a
   * PushTopic that references any of them reports the update even when no time has passed.
   */
  private updateCapacity(userId: string): void {
    const row = this.currentRow(userId);
    if (!row) return;
    const mark = this.loadMark(row);
    const at = this.options.now();
    const seconds = Math.max(0, (at - mark.since) / 1000);
    const configured = (row.ConfiguredCapacity as number | null) ?? 0;
    const atCapacity = ((row.AtCapacityDuration as number | null) ?? 0) + (configured > 0 && mark.load >= configured ? seconds : 0);
    const idle = ((row.IdleDuration as number | null) ?? 0) + (mark.load === 0 ? seconds : 0);
    mark.loadSeconds += mark.load * seconds;
    mark.load = this.loadOf(userId);
    mark.since = at;
    const lived = (at - (row.StatusStartDate as number)) / 1000;
    const average = lived > 0 ? mark.loadSeconds / lived : mark.load;
    this.write('UserServicePresence', 'updated', {
      ...row, AtCapacityDuration: Math.round(atCapacity), IdleDuration: Math.round(idle), AverageCapacity: average, LastModifiedDate: at, SystemModstamp: at,
    }, ['AverageCapacity', 'AtCapacityDuration', 'IdleDuration', 'LastModifiedDate', 'SystemModstamp'], 'work');
  }

  private write(object: string, type: RecordChange['type'], record: SObjectRecord, changedFields: string[], cause: UspChangeCause): void {
    const described = describeObject(object) as SObjectDescribe;
    if (type === 'deleted') this.table(described.name).delete(record.Id as string);
    else this.table(described.name).set(record.Id as string, record);
    if (described.name === 'UserServicePresence') {
      this.indexUsp(record, type);
      // A new row starts its capacity figures afresh, with the load the agent carries into it.
      if (type === 'created') this.loadMarks.set(record.Id as string, { since: record.StatusStartDate as number, load: this.loadOf(record.UserId as string), loadSeconds: 0 });
    }
    this.options.onChange({ object: described, type, record: copy(record), changedFields, cause });
  }

  private closeRow(row: SObjectRecord, cause: UspChangeCause): void {
    const at = this.options.now();
    const closed: SObjectRecord = {
      ...row,
      IsCurrentState: false,
      StatusEndDate: at,
      StatusDuration: Math.max(0, Math.round((at - (row.StatusStartDate as number)) / 1000)),
      LastModifiedDate: at,
      SystemModstamp: at,
    };
    this.write('UserServicePresence', 'updated', closed, ['IsCurrentState', 'StatusEndDate', 'StatusDuration', 'LastModifiedDate', 'SystemModstamp'], cause);
  }

  /**
   * The agent goes online in, or changes to, a status: a new current row is created and the previous current
   * row (if any) is closed. Setting the status the agent already has writes nothing.
   */
  setStatus(userId: string, statusId: string, cause: UspChangeCause): 'changed' | 'unchanged' {
    const user = this.userById(userId);
    const status = this.statusById(statusId);
    if (!user) throw new Error(`SalesforceEmulator: no user ${userId}`);
    if (!status) throw new Error(`SalesforceEmulator: no presence status ${statusId}`);
    const current = this.currentRow(user.Id as string);
    if (current && sameId(current.ServicePresenceStatusId as string, status.Id as string)) return 'unchanged';
    const [, created] = this.newUspRow(user.Id as string, status);
    const allFields = Object.keys(created);
    if (this.options.statusChangeOrder === 'close-first' && current) this.closeRow(current, cause);
    this.write('UserServicePresence', 'created', created, allFields, cause);
    if (this.options.statusChangeOrder === 'create-first' && current) this.closeRow(current, cause);
    return 'changed';
  }

  /** The agent logs out of Omni-Channel: only the current row is closed. */
  logout(userId: string, cause: UspChangeCause): 'changed' | 'unchanged' {
    const current = this.currentRow(userId);
    if (!current) return 'unchanged';
    this.closeRow(current, cause);
    return 'changed';
  }

  /** Omni-Channel recalculates the agent's capacity figures: an update of the current row that changes no status field. */
  touchCapacity(userId: string): boolean {
    const current = this.currentRow(userId);
    if (!current) return false;
    const at = this.options.now();
    const previous = (current.AverageCapacity as number | null) ?? 0;
    const next = previous >= 90 ? 10 : previous + 10;
    this.write('UserServicePresence', 'updated', { ...current, AverageCapacity: next, LastModifiedDate: at, SystemModstamp: at },
      ['AverageCapacity', 'LastModifiedDate', 'SystemModstamp'], 'capacity');
    return true;
  }

  // ---- REST DML ----------------------------------------------------------------------------------------

  private static error(status: number, errorCode: string, message: string, fields: string[] = []): DmlOutcome {
    return { ok: false, status, errors: [{ message, errorCode, fields }] };
  }

  /** Checks the JSON body of a create/update against the object's fields. */
  private checkBody(object: SObjectDescribe, body: unknown, operation: 'create' | 'update'): { ok: true; fields: SObjectRecord } | DmlOutcome {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return EmulatorOrg.error(400, 'JSON_PARSER_ERROR', 'The request body must be a JSON object of field values');
    }
    const fields: SObjectRecord = {};
    const notWritable: string[] = [];
    for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
      if (name === 'attributes') continue;
      const described: FieldDescribe | undefined = describeField(object, name);
      if (!described) return EmulatorOrg.error(400, 'INVALID_FIELD', `No such column '${name}' on sobject of type ${object.name}`, [name]);
      if (described.name === 'Id' && operation === 'create') {
        return EmulatorOrg.error(400, 'INVALID_FIELD', 'The Id field should not be specified in the sobject data.', ['Id']);
      }
      if (!(operation === 'create' ? described.createable : described.updateable)) {
        notWritable.push(described.name);
        continue;
      }
      if (value === null) {
        if (!described.nillable) return EmulatorOrg.error(400, 'REQUIRED_FIELD_MISSING', `Required fields are missing: [${described.name}]`, [described.name]);
        fields[described.name] = null;
        continue;
      }
      const want = described.type === 'boolean' ? 'boolean' : described.type === 'double' || described.type === 'int' ? 'number' : 'string';
      // Lenient on purpose: Salesforce's JSON reader is known to take a number written as a string (`"62.0"`), and an
      // emulator stricter than the real org would fail an integration for nothing.
      const numeric = want === 'number' && typeof value === 'string' && /^-?\d+(?:\.\d+)?$/.test(value.trim()) ? Number(value) : value;
      if (typeof numeric !== want) {
        return EmulatorOrg.error(400, 'JSON_PARSER_ERROR', `Cannot deserialize instance of ${want} from ${JSON.stringify(value)} for field ${described.name}`, [described.name]);
      }
      if (described.length !== undefined && typeof numeric === 'string' && numeric.length > described.length) {
        return EmulatorOrg.error(400, 'STRING_TOO_LONG', `${described.label}: data value too large: ${numeric} (max length=${described.length})`, [described.name]);
      }
      fields[described.name] = numeric as FieldValue;
    }
    if (notWritable.length > 0) {
      return EmulatorOrg.error(400, 'INVALID_FIELD_FOR_INSERT_UPDATE',
        `Unable to create/update fields: ${notWritable.join(', ')}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`, notWritable);
    }
    return { ok: true, fields };
  }

  private checkPushTopic(record: SObjectRecord, selfId?: string): DmlOutcome | undefined {
    const missing = ['Name', 'Query', 'ApiVersion'].filter((f) => record[f] === undefined || record[f] === null || record[f] === '');
    if (missing.length > 0) return EmulatorOrg.error(400, 'REQUIRED_FIELD_MISSING', `Required fields are missing: [${missing.join(', ')}]`, missing);
    const name = record.Name as string;
    if (!/^[A-Za-z0-9_]+$/.test(name)) return EmulatorOrg.error(400, 'FIELD_INTEGRITY_EXCEPTION', 'Topic Name: only letters, digits and underscores are allowed', ['Name']);
    if ((record.ApiVersion as number) <= 20) return EmulatorOrg.error(400, 'FIELD_INTEGRITY_EXCEPTION', 'ApiVersion: must be greater than 20.0', ['ApiVersion']);
    if (!NOTIFY_FOR_FIELDS.includes(record.NotifyForFields as string)) {
      return EmulatorOrg.error(400, 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', `bad value for restricted picklist field: ${String(record.NotifyForFields)}`, ['NotifyForFields']);
    }
    const query = compileSoql(record.Query as string);
    if (!query.ok) return EmulatorOrg.error(400, query.error.errorCode, query.error.message, ['Query']);
    // The Streaming API guide lists the standard objects PushTopic supports; of the emulator's, only presence rows.
    if (query.value.object.name !== 'UserServicePresence') {
      return EmulatorOrg.error(400, 'INVALID_FIELD', `${query.value.object.name} is not supported in PushTopic queries`, ['Query']);
    }
    if (!query.value.fields.some((f) => f.name === 'Id')) return EmulatorOrg.error(400, 'INVALID_FIELD', 'The query SELECT clause must include Id', ['Query']);
    if (query.value.relations.length > 0) {
      return EmulatorOrg.error(400, 'INVALID_FIELD', 'PushTopic queries do not support relationship fields', ['Query']);
    }
    if (query.value.hasOrderOrLimit) return EmulatorOrg.error(400, 'INVALID_FIELD', 'PushTopic queries do not support ORDER BY or LIMIT', ['Query']);
    return this.checkUniqueName('PushTopic', name, selfId);
  }

  private checkStreamingChannel(record: SObjectRecord, selfId?: string): DmlOutcome | undefined {
    const name = record.Name;
    if (typeof name !== 'string' || name === '') return EmulatorOrg.error(400, 'REQUIRED_FIELD_MISSING', 'Required fields are missing: [Name]', ['Name']);
    if (!/^\/u\/[A-Za-z0-9_]+(?:\/[A-Za-z0-9_]+)*$/.test(name)) {
      return EmulatorOrg.error(400, 'FIELD_INTEGRITY_EXCEPTION', 'Streaming Channel Name: must start with /u/ followed by a channel path', ['Name']);
    }
    return this.checkUniqueName('StreamingChannel', name, selfId);
  }

  private checkUniqueName(object: string, name: string, selfId?: string): DmlOutcome | undefined {
    const clash = [...this.table(object).values()].find((r) => String(r.Name).toLowerCase() === name.toLowerCase() && r.Id !== selfId);
    return clash ? EmulatorOrg.error(400, 'DUPLICATE_VALUE', `duplicate value found: Name duplicates value on record with id: ${String(clash.Id)}`) : undefined;
  }

  private static notSupported(object: SObjectDescribe, operation: string): DmlOutcome {
    return EmulatorOrg.error(501, 'EMULATOR_UNSUPPORTED', `The Salesforce emulator does not implement ${operation} of ${object.name}`);
  }

  /** `POST sobjects/{type}`. */
  insert(object: SObjectDescribe, body: unknown, by: string): DmlOutcome {
    if (object.name === 'UserServicePresence') {
      return EmulatorOrg.error(400, 'INVALID_TYPE_FOR_OPERATION', `entity type cannot be inserted: ${object.label}`);
    }
    if (object.name !== 'PushTopic' && object.name !== 'StreamingChannel') return EmulatorOrg.notSupported(object, 'create');
    const checked = this.checkBody(object, body, 'create');
    if (!('fields' in checked)) return checked;
    const at = this.options.now();
    const id = this.ids.next(object.keyPrefix);
    const record: SObjectRecord = object.name === 'PushTopic'
      ? {
        Id: id, Name: null, Query: null, ApiVersion: null, IsActive: true, NotifyForFields: 'Referenced',
        NotifyForOperationCreate: true, NotifyForOperationUpdate: true, NotifyForOperationDelete: true, NotifyForOperationUndelete: true,
        Description: null, ...checked.fields, ...this.audit(at, by),
      }
      : { Id: id, Name: null, Description: null, IsDynamic: false, ...checked.fields, ...this.audit(at, by) };
    const invalid = object.name === 'PushTopic' ? this.checkPushTopic(record) : this.checkStreamingChannel(record);
    if (invalid) return invalid;
    this.write(object.name, 'created', record, Object.keys(record), 'api');
    return { ok: true, id };
  }

  /** `PATCH sobjects/{type}/{id}`. */
  update(object: SObjectDescribe, id: string, body: unknown, by: string): DmlOutcome {
    if (object.name === 'UserServicePresence') {
      return EmulatorOrg.error(400, 'INVALID_TYPE_FOR_OPERATION', `entity type cannot be updated: ${object.label}`);
    }
    if (object.name !== 'PushTopic' && object.name !== 'StreamingChannel') return EmulatorOrg.notSupported(object, 'update');
    const existing = this.retrieve(object.name, id);
    if (!existing) return EmulatorOrg.error(404, 'NOT_FOUND', 'The requested resource does not exist');
    const checked = this.checkBody(object, body, 'update');
    if (!('fields' in checked)) return checked;
    const at = this.options.now();
    const record: SObjectRecord = { ...existing, ...checked.fields, LastModifiedDate: at, LastModifiedById: by, SystemModstamp: at };
    const invalid = object.name === 'PushTopic' ? this.checkPushTopic(record, existing.Id as string) : this.checkStreamingChannel(record, existing.Id as string);
    if (invalid) return invalid;
    this.write(object.name, 'updated', record, Object.keys(checked.fields), 'api');
    return { ok: true, id: existing.Id as string };
  }

  /** `DELETE sobjects/{type}/{id}` (UserServicePresence supports delete). */
  remove(object: SObjectDescribe, id: string): DmlOutcome {
    if (!object.deletable) return EmulatorOrg.error(400, 'INVALID_TYPE_FOR_OPERATION', `entity type cannot be deleted: ${object.label}`);
    const existing = this.retrieve(object.name, id);
    if (!existing) return EmulatorOrg.error(404, 'NOT_FOUND', 'The requested resource does not exist');
    this.write(object.name, 'deleted', existing, [], 'api');
    return { ok: true, id: existing.Id as string };
  }
}
