import { KEY_PREFIX, SalesforceIdFactory, sameId, toId18 } from './salesforce-id.util';
import {
  SCHEMA, describeField, describeObject,
  type FieldDescribe, type FieldValue, type SObjectDescribe, type SObjectRecord,
} from './sobject.schema';
import { compileSoql, type SalesforceApiError } from './soql.parser';
import type {
  AgentWorkRow, SalesforceEmulatorPermissions, SalesforceEmulatorPermissionSetSeed, SalesforceEmulatorProfileSeed,
  SalesforceEmulatorServiceChannelSeed, SalesforceEmulatorStatusSeed, SalesforceEmulatorUserSeed, UspChangeCause, UspRow,
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

/** The profile agents get unless their seed names another: every presence status of the catalog. */
export const DEFAULT_AGENT_PROFILE = 'Service Agent';
/** The integration user's profile unless its seed names another: View All Data, no presence status. */
export const DEFAULT_INTEGRATION_PROFILE = 'Presence Sync Integration';

/** A profile and what its owned permission set grants. */
interface ProfileModel {
  id: string;
  name: string;
  /** The permission set the profile owns (IsOwnedByProfile). */
  setId: string;
  viewAllData: boolean;
  viewSetup: boolean;
  /** Presence statuses (18-character ids) its users may use: SetupEntityAccess rows of its permission set. */
  statuses: Set<string>;
}

/** A permission set not owned by a profile. */
interface PermissionSetModel {
  id: string;
  name: string;
  label: string;
  statuses: Set<string>;
  /** The object it grants "View All" on (ObjectPermissions.PermissionsViewAllRecords), if that is what it is for. */
  viewAllObject?: string;
}

/** The SetupEntityType of presence status access rows. */
const STATUS_ENTITY_TYPE = 'ServicePresenceStatus';

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
  profiles?: SalesforceEmulatorProfileSeed[];
  permissionSets?: SalesforceEmulatorPermissionSetSeed[];
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
  /**
   * Profiles and permission sets (by lower-case name) and who has which (by 18-character user id): the
   * Profile, PermissionSet, PermissionSetAssignment, ObjectPermissions and SetupEntityAccess records are
   * written from these (`writePermissionRecords`).
   */
  private readonly profiles = new Map<string, ProfileModel>();
  private readonly permissionSets = new Map<string, PermissionSetModel>();
  private readonly userProfile = new Map<string, ProfileModel>();
  private readonly userSets = new Map<string, Set<PermissionSetModel>>();
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
    this.addProfile({ name: DEFAULT_AGENT_PROFILE });
    this.addProfile({ name: DEFAULT_INTEGRATION_PROFILE, statuses: [], viewAllData: true });
    for (const profile of options.profiles ?? []) this.addProfile(profile);
    for (const set of options.permissionSets ?? []) this.setPermissionSetStatuses(set.name, set.statuses ?? [], set.label, false);
    const seeds = options.integrationUser ? [...options.users, options.integrationUser] : options.users;
    const viewAllDataOf = new Map<ProfileModel, { value: boolean; by: string }>();
    seeds.forEach((seed, i) => this.seedUser(seed, i + 1, seed === options.integrationUser, viewAllDataOf));
    this.writePermissionRecords();
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

  private seedUser(seed: SalesforceEmulatorUserSeed, n: number, integration: boolean, viewAllDataOf: Map<ProfileModel, { value: boolean; by: string }>): void {
    // The same 15-character ids as InMemorySalesforce.addUsersForEmails, in the 18-character form.
    const id = toId18(seed.id ?? `${KEY_PREFIX.user}${String(n).padStart(12, '0')}`);
    if (this.userById(id)) throw new Error(`SalesforceEmulator: user id ${id} listed twice`);
    if (this.resolveUser(seed.username)) throw new Error(`SalesforceEmulator: username ${seed.username} listed twice`);
    const profile = this.profile(seed.profile ?? (integration ? DEFAULT_INTEGRATION_PROFILE : DEFAULT_AGENT_PROFILE));
    if (seed.viewAllData !== undefined) {
      const earlier = viewAllDataOf.get(profile);
      if (earlier && earlier.value !== seed.viewAllData) {
        throw new Error(`SalesforceEmulator: users ${earlier.by} and ${seed.username} of profile ${profile.name} disagree on viewAllData (a profile permission)`);
      }
      viewAllDataOf.set(profile, { value: seed.viewAllData, by: seed.username });
      profile.viewAllData = seed.viewAllData;
    }
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
      ProfileId: profile.id,
      ...this.audit(this.options.now(), null),
    });
    this.userProfile.set(id, profile);
    const sets = new Set((seed.permissionSets ?? []).map((name) => this.permissionSet(name)));
    if (seed.viewAllPresence) sets.add(this.viewAllSet('UserServicePresence'));
    if (seed.viewAllAgentWork) sets.add(this.viewAllSet('AgentWork'));
    this.userSets.set(id, sets);
    this.secrets.set(id, { password: seed.password, securityToken: seed.securityToken, approved: seed.approved ?? true, capacity: seed.capacity ?? 10 });
    this.userByUsername.set(seed.username.toLowerCase(), id);
    if (!this.userByEmail.has(seed.email.toLowerCase())) this.userByEmail.set(seed.email.toLowerCase(), id);
  }

  // ---- permissions and visibility ------------------------------------------------------------------------

  private profile(name: string): ProfileModel {
    const profile = this.profiles.get(name.toLowerCase());
    if (!profile) throw new Error(`SalesforceEmulator: no profile ${name} (add it to the options' profiles)`);
    return profile;
  }

  private permissionSet(name: string): PermissionSetModel {
    const set = this.permissionSets.get(name.toLowerCase());
    if (!set) throw new Error(`SalesforceEmulator: no permission set ${name} (add it to the options' permissionSets)`);
    return set;
  }

  /** 18-character ids of presence statuses given by DeveloperName (an unknown one is an error of the test). */
  private statusIds(developerNames: readonly string[]): Set<string> {
    return new Set(developerNames.map((name) => {
      const status = this.statusByDeveloperName(name);
      if (!status) throw new Error(`SalesforceEmulator: no presence status ${name}`);
      return status.Id as string;
    }));
  }

  private allStatusIds(): Set<string> {
    return new Set([...this.table('ServicePresenceStatus').keys()]);
  }

  /** The shared permission set granting "View All" on an object (created when first needed). */
  private viewAllSet(object: string): PermissionSetModel {
    const name = `${object}_View_All`;
    let set = this.permissionSets.get(name.toLowerCase());
    if (!set) {
      set = { id: this.ids.next(KEY_PREFIX.permissionSet), name, label: `${object} View All`, statuses: new Set(), viewAllObject: object };
      this.permissionSets.set(name.toLowerCase(), set);
    }
    return set;
  }

  /** Adds a profile, or redefines one of that name (its users keep it). */
  addProfile(seed: SalesforceEmulatorProfileSeed): void {
    const statuses = seed.statuses === undefined ? this.allStatusIds() : this.statusIds(seed.statuses);
    const existing = this.profiles.get(seed.name.toLowerCase());
    if (existing) {
      existing.statuses = statuses;
      existing.viewAllData = seed.viewAllData ?? existing.viewAllData;
      existing.viewSetup = seed.viewSetup ?? existing.viewSetup;
    } else {
      this.profiles.set(seed.name.toLowerCase(), {
        id: this.ids.next(KEY_PREFIX.profile), name: seed.name, setId: this.ids.next(KEY_PREFIX.permissionSet),
        viewAllData: seed.viewAllData ?? false, viewSetup: seed.viewSetup ?? true, statuses,
      });
    }
    if (this.userProfile.size > 0) this.writePermissionRecords();
  }

  /** An admin sets the Service Presence Status Access of a profile: exactly these statuses (DeveloperNames). */
  setProfileStatuses(profileName: string, developerNames: readonly string[]): void {
    this.profile(profileName).statuses = this.statusIds(developerNames);
    this.writePermissionRecords();
  }

  /** An admin sets the statuses a permission set grants, creating the permission set if it does not exist. */
  setPermissionSetStatuses(name: string, developerNames: readonly string[], label?: string, write = true): void {
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) throw new Error(`SalesforceEmulator: permission set API name ${name}: letters, digits and underscores`);
    const statuses = this.statusIds(developerNames);
    const existing = this.permissionSets.get(name.toLowerCase());
    if (existing) {
      existing.statuses = statuses;
      if (label !== undefined) existing.label = label;
    } else {
      this.permissionSets.set(name.toLowerCase(), { id: this.ids.next(KEY_PREFIX.permissionSet), name, label: label ?? name.replace(/_/g, ' '), statuses });
    }
    if (write) this.writePermissionRecords();
  }

  /** Assigns a permission set to a user, or removes the assignment. */
  assignPermissionSet(userId: string, name: string, assigned: boolean): void {
    const user = this.userById(userId);
    if (!user) throw new Error(`SalesforceEmulator: no user ${userId}`);
    const sets = this.userSets.get(user.Id as string) as Set<PermissionSetModel>;
    if (assigned) sets.add(this.permissionSet(name));
    else sets.delete(this.permissionSet(name));
    this.writePermissionRecords();
  }

  /** An admin moves a user to another profile (the User record changes, so its SystemModstamp moves). */
  setUserProfile(userId: string, profileName: string): void {
    const user = this.userById(userId);
    if (!user) throw new Error(`SalesforceEmulator: no user ${userId}`);
    const profile = this.profile(profileName);
    this.userProfile.set(user.Id as string, profile);
    const at = this.options.now();
    this.write('User', 'updated', { ...user, ProfileId: profile.id, LastModifiedDate: at, SystemModstamp: at }, ['ProfileId', 'LastModifiedDate', 'SystemModstamp'], 'api');
    this.writePermissionRecords();
  }

  /** Whether the user may use the presence status: its profile or one of its permission sets grants it. */
  hasStatusAccess(userId: string, statusId: string): boolean {
    const user = this.userById(userId);
    if (!user || statusId.length < 15) return false;
    const status = toId18(statusId.slice(0, 15));
    if (this.userProfile.get(user.Id as string)?.statuses.has(status)) return true;
    for (const set of this.userSets.get(user.Id as string) ?? []) if (set.statuses.has(status)) return true;
    return false;
  }

  /**
   * Rewrites every permission record from the model: profiles, their owned permission sets and the other
   * permission sets, each user's assignments (its profile's set included, as Salesforce lists it), "View All"
   * object permissions and presence status access (SetupEntityAccess, type ServicePresenceStatus).
   */
  private writePermissionRecords(): void {
    const at = this.options.now();
    for (const name of ['Profile', 'PermissionSet', 'PermissionSetAssignment', 'ObjectPermissions', 'SetupEntityAccess']) this.table(name).clear();
    const access = (parentId: string, statuses: Set<string>): void => {
      for (const statusId of statuses) {
        const id = this.ids.next(KEY_PREFIX.setupEntityAccess);
        this.table('SetupEntityAccess').set(id, { Id: id, ParentId: parentId, SetupEntityId: statusId, SetupEntityType: STATUS_ENTITY_TYPE, SystemModstamp: at });
      }
    };
    for (const profile of this.profiles.values()) {
      this.table('Profile').set(profile.id, { Id: profile.id, Name: profile.name, ...this.audit(at, null) });
      const name = `X${profile.id.slice(0, 15)}`;
      this.table('PermissionSet').set(profile.setId, {
        Id: profile.setId, Name: name, Label: name, IsOwnedByProfile: true, ProfileId: profile.id,
        PermissionsViewAllData: profile.viewAllData, PermissionsModifyAllData: false, PermissionsViewSetup: profile.viewSetup, ...this.audit(at, null),
      });
      access(profile.setId, profile.statuses);
    }
    for (const set of this.permissionSets.values()) {
      this.table('PermissionSet').set(set.id, {
        Id: set.id, Name: set.name, Label: set.label, IsOwnedByProfile: false, ProfileId: null,
        PermissionsViewAllData: false, PermissionsModifyAllData: false, PermissionsViewSetup: false, ...this.audit(at, null),
      });
      access(set.id, set.statuses);
      if (set.viewAllObject) {
        const permId = this.ids.next(KEY_PREFIX.objectPermissions);
        this.table('ObjectPermissions').set(permId, {
          Id: permId, ParentId: set.id, SobjectType: set.viewAllObject, PermissionsRead: true, PermissionsViewAllRecords: true, PermissionsModifyAllRecords: false,
          ...this.audit(at, null),
        });
      }
    }
    const assign = (userId: string, permissionSetId: string): void => {
      const id = this.ids.next(KEY_PREFIX.permissionSetAssignment);
      this.table('PermissionSetAssignment').set(id, { Id: id, AssigneeId: userId, PermissionSetId: permissionSetId, ...this.audit(at, null) });
    };
    for (const [userId, profile] of this.userProfile) {
      assign(userId, profile.setId);
      for (const set of this.userSets.get(userId) ?? []) assign(userId, set.id);
    }
  }

  /**
   * Grants or withdraws View All Data (a permission of the user's profile: it changes for all of the profile's
   * users) and View All on UserServicePresence or AgentWork (a permission set assigned to the user).
   */
  setPermissions(userId: string, permissions: SalesforceEmulatorPermissions): void {
    const user = this.userById(userId);
    if (!user) throw new Error(`SalesforceEmulator: no user ${userId}`);
    const id = user.Id as string;
    if (permissions.viewAllData !== undefined) (this.userProfile.get(id) as ProfileModel).viewAllData = permissions.viewAllData;
    const sets = this.userSets.get(id) as Set<PermissionSetModel>;
    for (const [object, on] of [['UserServicePresence', permissions.viewAllPresence], ['AgentWork', permissions.viewAllAgentWork]] as const) {
      if (on === true) sets.add(this.viewAllSet(object));
      if (on === false) sets.delete(this.viewAllSet(object));
    }
    this.writePermissionRecords();
  }

  /**
   * Whether `userId` may read a record of `objectName` owned by `ownerId`. UserServicePresence supports no
   * sharing rules: its owner (the agent) reads it, and so does anyone with View All Data or View All on the
   * object; AgentWork the same way (its owner is the agent it is routed to). The other objects the emulator
   * holds are readable by every API user who can access the object (`canAccessObject`).
   */
  canRead(userId: string | undefined, objectName: string, ownerId: string | undefined): boolean {
    if (!OWNER_ONLY.has(objectName)) return true;
    if (!userId) return false;
    if (ownerId !== undefined && sameId(ownerId, userId)) return true;
    const user = this.userById(userId);
    if (!user) return false;
    const id = user.Id as string;
    if (this.userProfile.get(id)?.viewAllData) return true;
    return [...this.userSets.get(id) ?? []].some((set) => set.viewAllObject === objectName);
  }

  /** Whether the user may query the object at all: SetupEntityAccess needs "View Setup and Configuration" (since Spring '20). */
  canAccessObject(userId: string, objectName: string): boolean {
    if (objectName !== 'SetupEntityAccess') return true;
    const user = this.userById(userId);
    return user !== undefined && this.userProfile.get(user.Id as string)?.viewSetup === true;
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
    // The Streaming API guide lists semi-joins and anti-joins among the unsupported PushTopic queries.
    if (query.value.where.some((c) => c.subquery)) return EmulatorOrg.error(400, 'INVALID_FIELD', 'semi/anti join sub-selects are not supported', ['Query']);
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
