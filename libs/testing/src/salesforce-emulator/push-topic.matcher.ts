import type { RecordChange } from './emulator-org.store';
import { toJsonValue, type FieldValue, type SObjectRecord } from './sobject.schema';
import { compileSoql, matchesWhere, type SoqlQuery } from './soql.parser';

/** What a PushTopic publishes for a record change. */
export interface TopicNotification {
  type: 'created' | 'updated' | 'deleted';
  sobject: Record<string, FieldValue>;
}

const compiled = new Map<string, SoqlQuery | undefined>();

function queryOf(text: string): SoqlQuery | undefined {
  if (!compiled.has(text)) {
    const result = compileSoql(text);
    compiled.set(text, result.ok ? result.value : undefined);
  }
  return compiled.get(text);
}

/**
 * Whether an active PushTopic reports a change, per the PushTopic reference: the record's object must be the
 * query's; the operation must be enabled (`NotifyForOperationCreate/Update/Delete`); an update is evaluated
 * only if it changed a field `NotifyForFields` points at (`All`: any field; `Referenced`: fields of SELECT and
 * WHERE; `Select`; `Where`); and the record must match the WHERE clause. The notification carries the SELECT
 * fields (only `Id` for a deletion).
 */
export function topicNotification(topic: SObjectRecord, change: RecordChange): TopicNotification | undefined {
  if (topic.IsActive !== true) return undefined;
  const query = queryOf(String(topic.Query));
  if (!query || query.object.name !== change.object.name) return undefined;
  const enabled = change.type === 'created' ? topic.NotifyForOperationCreate
    : change.type === 'updated' ? topic.NotifyForOperationUpdate : topic.NotifyForOperationDelete;
  if (enabled !== true) return undefined;
  if (change.type === 'updated') {
    const select = query.fields.map((f) => f.name);
    const where = query.where.map((c) => c.field.name);
    const watched = topic.NotifyForFields === 'All' ? undefined
      : topic.NotifyForFields === 'Select' ? select
        : topic.NotifyForFields === 'Where' ? where : [...select, ...where];
    if (watched && !change.changedFields.some((f) => watched.includes(f))) return undefined;
    if (change.changedFields.length === 0) return undefined;
  }
  if (change.type !== 'deleted' && !matchesWhere(change.record, query.where)) return undefined;
  if (change.type === 'deleted') return { type: 'deleted', sobject: { Id: change.record.Id } };
  const sobject: Record<string, FieldValue> = {};
  for (const field of query.fields) sobject[field.name] = toJsonValue(field.type, change.record[field.name]);
  return { type: change.type, sobject };
}
