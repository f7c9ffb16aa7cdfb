import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { ACD_STATES, SETTABLE_ACD_STATES } from '@presence-sync/domain';
import { PRESENCE_RULES_SCHEMA } from './presence-rules.schema';
import { formatPath, suggest, type IssueSink, type JsonPath } from './rule-issue';
import type { JsonDocument } from './rule-parser';

interface Validators {
  /** The file without the items of its lists: those are validated one by one (`schemaIssues`). */
  file: ValidateFunction;
  publisherRow: ValidateFunction;
  subscriberRow: ValidateFunction;
  workloadRow: ValidateFunction;
  assignee: ValidateFunction;
}

let compiled: Validators | undefined;

type SchemaNode = Record<string, unknown> & { properties: Record<string, SchemaNode>; items: unknown };

/** Compiled once per process: ajv compiles to code, which is the slow part. */
function validators(): Validators {
  if (!compiled) {
    // strictRequired off: the subscriber `acd` if/then/else names fields declared one level up, on purpose.
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictRequired: false });
    // Editor annotations (VS Code) in the schema; ajv's strict mode would reject them as unknown keywords.
    ajv.addVocabulary(['patternErrorMessage', 'defaultSnippets']);
    const file = JSON.parse(JSON.stringify(PRESENCE_RULES_SCHEMA)) as SchemaNode;
    const { publisher, subscriber, workload, assign } = file.properties;
    const rows = {
      publisher: publisher.items,
      subscriber: subscriber.items,
      workload: workload.items,
      assignee: assign.properties.teams.items,
    };
    publisher.items = true;
    subscriber.items = true;
    workload.items = true;
    assign.properties.teams.items = true;
    assign.properties.users.items = true;
    compiled = {
      file: ajv.compile(file),
      publisherRow: ajv.compile(rows.publisher as object),
      subscriberRow: ajv.compile(rows.subscriber as object),
      workloadRow: ajv.compile(rows.workload as object),
      assignee: ajv.compile(rows.assignee as object),
    };
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
const WORKLOAD_ROW = /^\/workload\/\d+$/;
const WORKLOAD_ACD = /^\/workload\/\d+\/acd$/;
const WORKLOAD_ACD_STATE = /^\/workload\/\d+\/acd\/state$/;
const WORKLOAD_AT_CAPACITY = /^\/workload\/\d+\/atCapacity$/;

/** How many list items to validate between pauses (see `schemaIssues`). */
const ITEMS_PER_STEP = 2_000;

/**
 * Schema errors in admin words, one per mistake, each with the line and column of the offending value; returns
 * how many errors were found. ajv reports with `allErrors` every failing keyword, which for one mistake can be
 * several errors (a typo in a field name is both an unknown field and a missing required one); the rules in
 * `reportUnit` keep the helpful one. The schema has no oneOf/anyOf on purpose (their errors list every
 * branch); `previous` vs `state` is an if/then/else, whose chosen branch reports precisely.
 *
 * The file is validated without its list items, then item by item: a list of a million bad values costs one
 * small error list at a time (counted, the first few kept) instead of a million errors at once, and the
 * generator yields between batches so a caller can let other work run.
 */
export function* schemaIssues(doc: JsonDocument, value: unknown, sink: IssueSink): Generator<void, number> {
  const v = validators();
  const ctx: UnitContext = { doc, root: value, sink, presentKeys: new WeakMap() };
  let errors = reportUnit(ctx, v.file, value, '');
  if (!isObject(value)) return errors;
  const lists: [unknown, ValidateFunction, string][] = [
    [value.publisher, v.publisherRow, '/publisher'],
    [value.subscriber, v.subscriberRow, '/subscriber'],
    [value.workload, v.workloadRow, '/workload'],
  ];
  if (isObject(value.assign)) {
    lists.push([value.assign.teams, v.assignee, '/assign/teams'], [value.assign.users, v.assignee, '/assign/users']);
  }
  for (const [list, validate, pointer] of lists) {
    if (!Array.isArray(list)) continue;
    for (let i = 0; i < list.length; i++) {
      if (i > 0 && i % ITEMS_PER_STEP === 0) yield;
      errors += reportUnit(ctx, validate, list[i], `${pointer}/${i}`);
    }
  }
  return errors;
}

interface UnitContext {
  doc: JsonDocument;
  root: unknown;
  sink: IssueSink;
  /** The keys of each object that has unknown fields, listed once however many unknown fields it has. */
  presentKeys: WeakMap<object, ReadonlySet<string>>;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Validates one value found at `pointer` and reports its errors; returns how many. */
function reportUnit(ctx: UnitContext, validate: ValidateFunction, data: unknown, pointer: string): number {
  if (validate(data)) return 0;
  const findings = (validate.errors ?? []).flatMap((error) =>
    toFinding(pointer ? { ...error, instancePath: pointer + error.instancePath } : error, ctx),
  );

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
  let count = 0;
  for (const f of findings) {
    if (f.keyword === 'required' && explained.has(key(f.path))) continue;
    const winner = decisive.get(key(f.path));
    if (winner !== undefined && winner !== f.keyword) continue;
    const id = `${formatPath(f.path)}\u0000${f.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    count++;
    ctx.sink.add(ctx.doc.file, 'error', () => ctx.doc.issue(f.path, f.message, 'error', f.target));
  }
  return count;
}

function toFinding(error: ErrorObject, ctx: UnitContext): Finding[] {
  const path = pointerToPath(error.instancePath, ctx.root);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    // The branch chosen by if/then/else reports its own errors; the "must match then/else" summary adds nothing.
    case 'if':
      return [];
    case 'required': {
      const field = String(params.missingProperty);
      // The workload row's if/then: without "channel" it needs "atCapacity" (a row with no condition).
      if (WORKLOAD_ROW.test(error.instancePath) && field === 'atCapacity') {
        return [
          {
            path,
            target: 'value',
            keyword: 'required',
            message: 'a workload row needs a condition: "channel" (open work of that service channel) and/or "atCapacity": true',
          },
        ];
      }
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
      if (WORKLOAD_ACD.test(error.instancePath) && field === 'previous') {
        return [
          {
            path: fieldPath,
            target: 'key',
            keyword: 'additionalProperties',
            replacesMissingField: true,
            message:
              '"previous" is not allowed in a workload row (when no workload row matches any more, the state from before is restored by itself)',
          },
        ];
      }
      const allowed = SUBSCRIBER_ACD.test(error.instancePath)
        ? SUBSCRIBER_ACD_FIELDS
        : Object.keys((error.parentSchema?.properties as object | undefined) ?? {});
      // A field that is already there is no typo candidate ("name" present next to an unknown "nmae").
      const present = presentKeys(ctx, error.data);
      const close = suggest(
        field,
        allowed.filter((name) => !present.has(name)),
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
      const workloadState = WORKLOAD_ACD_STATE.test(error.instancePath);
      if (workloadState && data === 'Offline') {
        message += ' (work must not log the agent out of the contact center: use Unavailable, usually with a code)';
      } else if (observedOnly) {
        message += ` (${data} is observed only: a ${workloadState ? 'workload' : 'subscriber'} row cannot set it)`;
      } else if (typeof data === 'string') {
        const close = suggest(data, allowed);
        if (close) message += ` (did you mean "${close}"?)`;
      }
      return [{ path, target: 'value', keyword: 'enum', message }];
    }
    case 'const': {
      const hint = WORKLOAD_AT_CAPACITY.test(error.instancePath)
        ? ' (leave "atCapacity" out for a row that matches whatever the load)'
        : '';
      return [{ path, target: 'value', keyword: 'const', message: `must be ${JSON.stringify(params.allowedValue)}${hint}` }];
    }
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

function presentKeys(ctx: UnitContext, data: unknown): ReadonlySet<string> {
  if (data === null || typeof data !== 'object') return new Set();
  let keys = ctx.presentKeys.get(data);
  if (!keys) {
    keys = new Set(Object.keys(data));
    ctx.presentKeys.set(data, keys);
  }
  return keys;
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
