import { KEY_PREFIX } from './salesforce-id.util';

/** Field types the emulator distinguishes (they decide filtering and JSON formatting). */
export type FieldType = 'id' | 'reference' | 'string' | 'textarea' | 'picklist' | 'boolean' | 'datetime' | 'int' | 'double';

/** A field value as stored: datetimes are epoch milliseconds. */
export type FieldValue = string | number | boolean | null;
export type SObjectRecord = Record<string, FieldValue>;

export interface FieldDescribe {
  name: string;
  type: FieldType;
  label: string;
  createable: boolean;
  updateable: boolean;
  nillable: boolean;
  length?: number;
  /** For a reference field: the object it points at, and the relationship name a query uses (`ServiceChannel.DeveloperName`). */
  referenceTo?: string[];
  relationshipName?: string;
}

export interface SObjectDescribe {
  name: string;
  label: string;
  keyPrefix: string;
  createable: boolean;
  updateable: boolean;
  deletable: boolean;
  queryable: boolean;
  fields: FieldDescribe[];
}

function field(
  name: string,
  type: FieldType,
  flags: { c?: boolean; u?: boolean; n?: boolean; length?: number; to?: string } = {},
): FieldDescribe {
  return {
    name,
    type,
    label: name.replace(/([a-z])([A-Z])/g, '$1 $2'),
    createable: flags.c ?? false,
    updateable: flags.u ?? false,
    nillable: flags.n ?? false,
    ...(flags.length !== undefined ? { length: flags.length } : {}),
    // Standard lookups are named after the field without its `Id` suffix (ServiceChannelId -> ServiceChannel).
    ...(flags.to !== undefined ? { referenceTo: [flags.to], relationshipName: name.replace(/Id$/, '') } : {}),
  };
}

const AUDIT_FIELDS = [
  field('CreatedDate', 'datetime'),
  field('CreatedById', 'reference'),
  field('LastModifiedDate', 'datetime'),
  field('LastModifiedById', 'reference'),
  field('SystemModstamp', 'datetime'),
];

/**
 * The objects the emulator holds, with the fields the Salesforce object reference lists for them (the subset
 * a presence integration can meet). UserServicePresence's supported calls are query, retrieve and delete
 * (plus getUpdated/getDeleted/undelete): it is not createable or updateable through the API.
 */
export const SCHEMA: readonly SObjectDescribe[] = [
  {
    name: 'User', label: 'User', keyPrefix: KEY_PREFIX.user, createable: true, updateable: true, deletable: false, queryable: true,
    fields: [
      field('Id', 'id'),
      field('Username', 'string', { c: true, u: true, length: 80 }),
      field('Email', 'string', { c: true, u: true, length: 128 }),
      field('FirstName', 'string', { c: true, u: true, n: true, length: 40 }),
      field('LastName', 'string', { c: true, u: true, length: 80 }),
      field('Name', 'string', { length: 121 }),
      field('FederationIdentifier', 'string', { c: true, u: true, n: true, length: 512 }),
      field('IsActive', 'boolean', { c: true, u: true }),
      field('UserType', 'picklist'),
      field('ProfileId', 'reference', { c: true, u: true, to: 'Profile' }),
      ...AUDIT_FIELDS,
    ],
  },
  {
    name: 'Profile', label: 'Profile', keyPrefix: KEY_PREFIX.profile, createable: false, updateable: false, deletable: false, queryable: true,
    fields: [
      field('Id', 'id'),
      field('Name', 'string', { length: 255 }),
      ...AUDIT_FIELDS,
    ],
  },
  {
    name: 'ServicePresenceStatus', label: 'Presence Status', keyPrefix: KEY_PREFIX.servicePresenceStatus,
    createable: false, updateable: false, deletable: false, queryable: true,
    fields: [
      field('Id', 'id'),
      field('DeveloperName', 'string', { length: 80 }),
      field('MasterLabel', 'string', { length: 80 }),
      field('Language', 'picklist', { n: true }),
      ...AUDIT_FIELDS,
    ],
  },
  {
    name: 'UserServicePresence', label: 'User Presence', keyPrefix: KEY_PREFIX.userServicePresence,
    createable: false, updateable: false, deletable: true, queryable: true,
    fields: [
      field('Id', 'id'),
      field('Name', 'string', { n: true, length: 80 }),
      field('OwnerId', 'reference'),
      field('UserId', 'reference'),
      field('ServicePresenceStatusId', 'reference', { n: true }),
      field('IsCurrentState', 'boolean'),
      field('IsAway', 'boolean'),
      field('StatusStartDate', 'datetime', { n: true }),
      field('StatusEndDate', 'datetime', { n: true }),
      field('StatusDuration', 'int', { n: true }),
      field('ConfiguredCapacity', 'int', { n: true }),
      field('AverageCapacity', 'double', { n: true }),
      field('AtCapacityDuration', 'int', { n: true }),
      field('IdleDuration', 'int', { n: true }),
      ...AUDIT_FIELDS,
    ],
  },
  // Omni-Channel work (Object Reference: ServiceChannel, AgentWork). A channel is one per routed object type
  // (RelatedEntity is unique in an org). AgentWork is one assignment of a work item to a user: Omni-Channel
  // creates it (Status Assigned), the agent accepts it (Opened) and closes it (Closed); "none of its fields can
  // be updated" through the API, so the emulator changes it only through its test API (`assignWork` etc.).
  // Its records are shared by owner (AgentWorkShare), like presence rows for the emulator's purposes.
  {
    name: 'ServiceChannel', label: 'Service Channel', keyPrefix: KEY_PREFIX.serviceChannel,
    createable: false, updateable: false, deletable: false, queryable: true,
    fields: [
      field('Id', 'id'),
      field('DeveloperName', 'string', { length: 80 }),
      field('MasterLabel', 'string', { length: 80 }),
      field('RelatedEntity', 'picklist'),
      field('CapacityModel', 'picklist', { n: true }),
      ...AUDIT_FIELDS,
    ],
  },
  {
    name: 'AgentWork', label: 'Agent Work', keyPrefix: KEY_PREFIX.agentWork,
    createable: false, updateable: false, deletable: false, queryable: true,
    fields: [
      field('Id', 'id'),
      field('Name', 'string', { n: true, length: 80 }),
      field('OwnerId', 'reference', { to: 'User' }),
      field('UserId', 'reference', { to: 'User' }),
      field('WorkItemId', 'reference', { n: true }),
      field('ServiceChannelId', 'reference', { to: 'ServiceChannel' }),
      field('Status', 'picklist'),
      field('CapacityWeight', 'double', { n: true }),
      field('CapacityPercentage', 'double', { n: true }),
      field('RequestDateTime', 'datetime', { n: true }),
      field('AssignedDateTime', 'datetime', { n: true }),
      field('AcceptDateTime', 'datetime', { n: true }),
      field('CloseDateTime', 'datetime', { n: true }),
      ...AUDIT_FIELDS,
    ],
  },
  {
    name: 'PushTopic', label: 'Push Topic', keyPrefix: KEY_PREFIX.pushTopic, createable: true, updateable: true, deletable: true, queryable: true,
    fields: [
      field('Id', 'id'),
      field('Name', 'string', { c: true, u: true, length: 25 }),
      field('Query', 'textarea', { c: true, u: true, length: 1300 }),
      field('ApiVersion', 'double', { c: true, u: true }),
      field('IsActive', 'boolean', { c: true, u: true }),
      field('NotifyForFields', 'picklist', { c: true, u: true }),
      field('NotifyForOperationCreate', 'boolean', { c: true, u: true }),
      field('NotifyForOperationUpdate', 'boolean', { c: true, u: true }),
      field('NotifyForOperationDelete', 'boolean', { c: true, u: true }),
      field('NotifyForOperationUndelete', 'boolean', { c: true, u: true }),
      field('Description', 'string', { c: true, u: true, n: true, length: 400 }),
      ...AUDIT_FIELDS,
    ],
  },
  {
    name: 'StreamingChannel', label: 'Streaming Channel', keyPrefix: KEY_PREFIX.streamingChannel,
    createable: true, updateable: true, deletable: true, queryable: true,
    fields: [
      field('Id', 'id'),
      field('Name', 'string', { c: true, u: true, length: 80 }),
      field('Description', 'string', { c: true, u: true, n: true, length: 255 }),
      field('IsDynamic', 'boolean'),
      ...AUDIT_FIELDS,
    ],
  },
  // Who may do what. Every profile owns a permission set (IsOwnedByProfile, ProfileId); users are linked to their
  // profile's permission set and to their other permission sets by assignments. A permission set's children say
  // what it grants: ObjectPermissions (e.g. View All on UserServicePresence) and SetupEntityAccess (access to
  // setup entities such as presence statuses: "Service Presence Status Access"). Read-only through the API
  // here: the emulator's tests change them through `SalesforceEmulator.setPermissions`, `setProfileStatuses` etc.
  {
    name: 'PermissionSet', label: 'Permission Set', keyPrefix: KEY_PREFIX.permissionSet,
    createable: false, updateable: false, deletable: false, queryable: true,
    fields: [
      field('Id', 'id'),
      field('Name', 'string', { length: 80 }),
      field('Label', 'string', { length: 80 }),
      field('IsOwnedByProfile', 'boolean'),
      field('ProfileId', 'reference', { n: true, to: 'Profile' }),
      field('PermissionsViewAllData', 'boolean'),
      field('PermissionsModifyAllData', 'boolean'),
      field('PermissionsViewSetup', 'boolean'),
      ...AUDIT_FIELDS,
    ],
  },
  {
    name: 'PermissionSetAssignment', label: 'Permission Set Assignment', keyPrefix: KEY_PREFIX.permissionSetAssignment,
    createable: false, updateable: false, deletable: false, queryable: true,
    fields: [
      field('Id', 'id'),
      field('AssigneeId', 'reference', { to: 'User' }),
      field('PermissionSetId', 'reference', { to: 'PermissionSet' }),
      ...AUDIT_FIELDS,
    ],
  },
  // Object Reference, SetupEntityAccess: ParentId is the permission set (relationship `Parent`), SetupEntityId the
  // entity access is enabled for (polymorphic: no relationship here), SetupEntityType its kind. The object has no
  // created/modified audit fields, only SystemModstamp. Since Spring '20 only users with "View Setup and
  // Configuration" can access it.
  {
    name: 'SetupEntityAccess', label: 'Setup Entity Access', keyPrefix: KEY_PREFIX.setupEntityAccess,
    createable: false, updateable: false, deletable: false, queryable: true,
    fields: [
      field('Id', 'id'),
      field('ParentId', 'reference', { to: 'PermissionSet' }),
      field('SetupEntityId', 'reference'),
      field('SetupEntityType', 'picklist', { n: true }),
      field('SystemModstamp', 'datetime'),
    ],
  },
  {
    name: 'ObjectPermissions', label: 'Object Permissions', keyPrefix: KEY_PREFIX.objectPermissions,
    createable: false, updateable: false, deletable: false, queryable: true,
    fields: [
      field('Id', 'id'),
      field('ParentId', 'reference', { to: 'PermissionSet' }),
      field('SobjectType', 'picklist'),
      field('PermissionsRead', 'boolean'),
      field('PermissionsViewAllRecords', 'boolean'),
      field('PermissionsModifyAllRecords', 'boolean'),
      ...AUDIT_FIELDS,
    ],
  },
];

export function describeObject(name: string): SObjectDescribe | undefined {
  const lower = name.toLowerCase();
  return SCHEMA.find((o) => o.name.toLowerCase() === lower);
}

export function describeField(object: SObjectDescribe, name: string): FieldDescribe | undefined {
  const lower = name.toLowerCase();
  return object.fields.find((f) => f.name.toLowerCase() === lower);
}

/** `2024-05-01T10:00:00.000+0000`: how the REST API writes dateTime values. */
export function formatDateTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace('Z', '+0000');
}

/** A stored value as the REST API (and PushTopic `sobject`) writes it. */
export function toJsonValue(type: FieldType, value: FieldValue | undefined): FieldValue {
  if (value === undefined || value === null) return null;
  if (type === 'datetime' && typeof value === 'number') return formatDateTime(value);
  return value;
}
