import type { AcdState, SettableAcdState } from '@presence-sync/domain';
import type { JsonDocument } from './rule-parser';
import type { ConflictPolicy, PreviousAcdTarget } from './rule-types';

/** A rule file's JSON once it has passed the schema (so these types hold); defaults not yet applied. */
export interface RuleFileJson {
  $schema?: string;
  name: string;
  description?: string;
  skipUnavailableCodeValidation?: boolean;
  conflictPolicy?: ConflictPolicy;
  publisher?: { acd: AcdState; salesforce: string }[];
  subscriber?: { salesforce: string; acd: SettableAcdState | PreviousAcdTarget }[];
  /** The schema allows only Available and Unavailable here, and at least one of `channel` and `atCapacity`. */
  workload?: { channel?: string; atCapacity?: true; acd: SettableAcdState }[];
  assign?: { teams?: string[]; users?: string[] };
}

/** A parsed, schema-valid rule file with its document, for positions in later checks. */
export interface SchemaValidRuleFile {
  doc: JsonDocument;
  json: RuleFileJson;
}
