import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { ACD_STATES, SETTABLE_ACD_STATES } from '@presence-sync/domain';
import { PRESENCE_RULES_SCHEMA } from './presence-rules.schema';
import { suggest, type JsonPath } from './rule-issue';
import type { JsonDocument } from './rule-parser';
import type { RuleIssue } from './rule-types';

let compiled: ValidateFunction | undefined;

/** Compiled once per process: ajv compiles to code, which is the slow part. */
function schemaValidator(): ValidateFunction {
  if (!compiled) {
    // strictRequired off: the subscriber `acd` if/then/else names fields declared one level up, on purpose.
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictRequired: false });
    // Editor annotations (VS Code) in the schema; ajv's strict mode would reject them as unknown keywords.
    ajv.addVocabulary(['patternErrorMessage', 'defaultSnippets']);
    compiled = ajv.compile(PRESENCE_RULES_SCHEMA);
  }
  return compiled;
}

/** What one ajv error becomes before de-duplication. */
interface Finding {
  path: JsonPath;
  /** `key` points at the field name (unknown fields), `value` at the value (or the object, for `required`). */
  target: 'value' | 'key';
  message: string;
  keyword: string;
  /** An unknown field that stands for a missing one (a typo, or `previous` in a publisher row). */
  replacesMissingField?: true;
}

const PUBLISHER_ACD = /^\/publisher\/\d+\/acd$/;
const SUBSCRIBER_ACD = /^\/subscriber\/\d+\/acd$/;
const SUBSCRIBER_ACD_FIELDS = ['state', 'code', 'previous'];

/**
 * Schema errors in admin words, one per mistake, each with the line and column of the offending value.
 * ajv reports with `allErrors` every failing keyword, which for one mistake can be several errors (a typo in
 * a field name is both an unknown field and a missing required one); the rules below keep the helpful one.
 * The schema has no oneOf/anyOf on purpose (their errors list every branch); `previous` vs `state` is an
 * if/then/else, whose chosen branch reports precisely.
 */
export function schemaIssues(doc: JsonDocument, value: unknown): RuleIssue[] {
  const validate = schemaValidator();
  if (validate(value)) return [];
  const findings = (validate.errors ?? []).flatMap((error) => toFinding(error, value));

  const key = (path: JsonPath) => path.join('\u0000');
  // Objects whose unknown field already explains a missing required one ("stat" for "state").
  const explained = new Set<string>();
  // Values of the wrong type, or empty: anything else said about them (enum, pattern) is noise.
  const decisive = new Map<string, string>();
  for (const f of findings) {
    if (f.replacesMissingField) explained.add(key(f.path.slice(0, -1)));
    if (f.keyword === 'type' || (f.keyword === 'minLength' && !decisive.has(key(f.path)))) decisive.set(key(f.path), f.keyword);
  }

  const seen = new Set<string>();
  const issues: RuleIssue[] = [];
  for (const f of findings) {
    if (f.keyword === 'required' && explained.has(key(f.path))) continue;
    const winner = decisive.get(key(f.path));
    if (winner !== undefined && winner !== f.keyword) continue;
    const issue = doc.issue(f.path, f.message, 'error', f.target);
    const id = `${issue.path}\u0000${issue.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    issues.push(issue);
  }
  return issues;
}

function toFinding(error: ErrorObject, root: unknown): Finding[] {
  const path = pointerToPath(error.instancePath, root);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    // The branch chosen by if/then/else reports its own errors; the "must match then/else" summary adds nothing.
    case 'if':
      return [];
    case 'required': {
      const field = String(params.missingProperty);
      const hint = SUBSCRIBER_ACD.test(error.instancePath) && field === 'state' ? ' (or "previous": true)' : '';
      return [{ path, target: 'value', keyword: 'required', message: `missing required field "${field}"${hint}` }];
    }
    case 'additionalProperties': {
      const field = String(params.additionalProperty);
      const fieldPath = [...path, field];
      if (PUBLISHER_ACD.test(error.instancePath) && field === 'previous') {
        return [
          {
            path: fieldPath,
            target: 'key',
            keyword: 'additionalProperties',
            replacesMissingField: true,
            message: '"previous" is only allowed in subscriber rows (a publisher row matches an observed "state")',
          },
        ];
      }
      const allowed = SUBSCRIBER_ACD.test(error.instancePath)
        ? SUBSCRIBER_ACD_FIELDS
        : Object.keys((error.parentSchema?.properties as object | undefined) ?? {});
      // A field that is already there is no typo candidate ("name" present next to an unknown "nmae").
      const present = error.data !== null && typeof error.data === 'object' ? Object.keys(error.data) : [];
      const close = suggest(
        field,
        allowed.filter((name) => !present.includes(name)),
      );
      return [
        close
          ? {
              path: fieldPath,
              target: 'key',
              keyword: 'additionalProperties',
              replacesMissingField: true,
              message: `unknown field "${field}" (did you mean "${close}"?)`,
            }
          : {
              path: fieldPath,
              target: 'key',
              keyword: 'additionalProperties',
              message: `unknown field "${field}" (allowed: ${allowed.join(', ')})`,
            },
      ];
    }
    case 'type':
      return [{ path, target: 'value', keyword: 'type', message: typeMessage(String(params.type)) }];
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String);
      let message = `must be one of ${allowed.join(', ')}`;
      const data = error.data;
      const observedOnly =
        typeof data === 'string' &&
        (ACD_STATES as readonly string[]).includes(data) &&
        !(SETTABLE_ACD_STATES as readonly string[]).includes(data);
      if (observedOnly) message += ` (${data} is observed only: a subscriber row cannot set it)`;
      else if (typeof data === 'string') {
        const close = suggest(data, allowed);
        if (close) message += ` (did you mean "${close}"?)`;
      }
      return [{ path, target: 'value', keyword: 'enum', message }];
    }
    case 'const':
      return [{ path, target: 'value', keyword: 'const', message: `must be ${JSON.stringify(params.allowedValue)}` }];
    case 'false schema':
      return [
        {
          path,
          target: 'key',
          keyword: 'false schema',
          message: SUBSCRIBER_ACD.test(pathToPointer(path.slice(0, -1)))
            ? 'cannot be combined with "previous" (restore the previous state, or set a state, not both)'
            : 'is not allowed here',
        },
      ];
    case 'pattern': {
      const custom = error.parentSchema?.patternErrorMessage;
      const message = typeof custom === 'string' ? custom : `must match the pattern ${String(params.pattern)}`;
      return [{ path, target: 'value', keyword: 'pattern', message }];
    }
    case 'minLength':
      return [
        {
          path,
          target: 'value',
          keyword: 'minLength',
          message: params.limit === 1 ? 'must not be empty' : `must be at least ${String(params.limit)} characters`,
        },
      ];
    case 'maxLength':
      return [
        { path, target: 'value', keyword: 'maxLength', message: `must be at most ${String(params.limit)} characters` },
      ];
    default:
      return [{ path, target: 'value', keyword: error.keyword, message: error.message ?? 'is not valid' }];
  }
}

function typeMessage(type: string): string {
  switch (type) {
    case 'string':
      return 'must be a string';
    case 'boolean':
      return 'must be true or false';
    case 'array':
      return 'must be an array ([...])';
    case 'object':
      return 'must be an object ({...})';
    default:
      return `must be a ${type}`;
  }
}

/** ajv's `/publisher/2/acd` -> `['publisher', 2, 'acd']`; array indexes become numbers by looking at the data. */
function pointerToPath(pointer: string, root: unknown): (string | number)[] {
  if (!pointer) return [];
  const path: (string | number)[] = [];
  let node: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      const index = Number(segment);
      path.push(index);
      node = node[index];
    } else {
      path.push(segment);
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[segment] : undefined;
    }
  }
  return path;
}

function pathToPointer(path: JsonPath): string {
  return path.map((segment) => `/${String(segment).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}
