import {
  describeField, describeObject,
  type FieldDescribe, type FieldValue, type SObjectDescribe, type SObjectRecord,
} from './sobject.schema';
import { sameId } from './salesforce-id.util';

/** One element of a Salesforce REST error array. */
export interface SalesforceApiError {
  message: string;
  errorCode: string;
  fields?: string[];
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: SalesforceApiError };

export type SoqlLiteral =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean }
  /** A dateTime literal (`2005-10-08T01:02:03Z`, unquoted, as SOQL writes it), in epoch ms. */
  | { kind: 'datetime'; value: number }
  | { kind: 'null' };

export type SoqlOperator = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not in';

/** `values` for a plain comparison; `subquery` for a semi-join (`IN (SELECT …)`) or anti-join (`NOT IN (SELECT …)`). */
interface ParsedCondition { field: string; op: SoqlOperator; values: SoqlLiteral[]; subquery?: ParsedSoql }
interface ParsedOrder { field: string; descending: boolean; nullsLast: boolean }

/** A query as written (names not yet checked against the schema). */
export interface ParsedSoql {
  fields: string[];
  object: string;
  where: ParsedCondition[];
  orderBy: ParsedOrder[];
  limit?: number;
}

export interface SoqlCondition {
  field: FieldDescribe;
  op: SoqlOperator;
  values: SoqlLiteral[];
  /** A semi-join (`op` = `in`) or anti-join (`not in`): the ids the subquery selects, evaluated when the query runs. */
  subquery?: SoqlQuery;
}

/**
 * Fields of a parent record selected through a lookup (`ServiceChannel.DeveloperName`), in SELECT only. A path
 * may go on to the parent's parents (`Parent.Profile.Name`): those are `relations` of this one.
 */
export interface SoqlRelation {
  /** The relationship name, as the JSON answer names the nested record (`ServiceChannel`). */
  name: string;
  /** The lookup field holding the parent's id (`ServiceChannelId`). */
  via: FieldDescribe;
  target: SObjectDescribe;
  fields: FieldDescribe[];
  relations: SoqlRelation[];
}

/** A query checked against the schema, with canonical object and field names. */
export interface SoqlQuery {
  object: SObjectDescribe;
  fields: FieldDescribe[];
  /** Parent fields selected through lookups, answered as nested records after the plain fields. */
  relations: SoqlRelation[];
  where: SoqlCondition[];
  orderBy: { field: FieldDescribe; descending: boolean; nullsLast: boolean }[];
  limit?: number;
  /** Whether the text had ORDER BY or LIMIT (PushTopic queries may not). */
  hasOrderOrLimit: boolean;
}

type Token =
  | { t: 'ident'; v: string; at: number }
  | { t: 'string'; v: string; at: number }
  | { t: 'number'; v: number; at: number }
  | { t: 'datetime'; v: number; at: number }
  | { t: 'punct'; v: string; at: number }
  | { t: 'eof'; at: number };

/**
 * The grammar the emulator understands, a small honest subset of SOQL: anything else is answered with
 * MALFORMED_QUERY rather than guessed at.
 */
const SUPPORTED = 'the emulator supports SELECT f, Parent.f, Parent.Grandparent.f, … FROM Object [WHERE f = v AND f > v AND f IN (…) AND f [NOT] IN (SELECT g FROM Other [WHERE …]) …] [ORDER BY f [ASC|DESC]] [LIMIT n]';

/** SOQL's bounds: five levels of child-to-parent relationship per path, two semi-/anti-joins per query. */
const MAX_RELATIONSHIP_LEVELS = 5;
const MAX_SEMI_JOINS = 2;

const RANGE_OPS = new Set<SoqlOperator>(['<', '<=', '>', '>=']);

/** SOQL's dateTime formats: `YYYY-MM-DDThh:mm:ss` with `Z` or a `±hh:mm` offset (fractions tolerated). */
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:\d{2})/;

function malformed(message: string): SalesforceApiError {
  return { message, errorCode: 'MALFORMED_QUERY' };
}

function describeToken(token: Token): string {
  if (token.t === 'eof') return '<EOF>';
  if (token.t === 'string') return `'${token.v}'`;
  return String(token.v);
}

function tokenize(text: string): Outcome<Token[]> {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const at = i + 1;
    if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) return { ok: false, error: malformed(`unterminated string starting at column ${at}`) };
        const d = text.charAt(i);
        if (d === '\\') {
          const escaped = text.charAt(i + 1);
          const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '"': '"', "'": "'", '\\': '\\' };
          if (!(escaped in map)) return { ok: false, error: malformed(`invalid escape sequence '\\${escaped}' at column ${i + 1}`) };
          value += map[escaped];
          i += 2;
          continue;
        }
        if (d === "'") {
          i++;
          break;
        }
        value += d;
        i++;
      }
      tokens.push({ t: 'string', v: value, at });
      continue;
    }
    const datetime = DATETIME.exec(text.slice(i));
    if (datetime) {
      tokens.push({ t: 'datetime', v: Date.parse(datetime[0]), at });
      i += datetime[0].length;
      continue;
    }
    const number = /^-?\d+(?:\.\d+)?/.exec(text.slice(i));
    if (number && (c !== '-' || /\d/.test(text.charAt(i + 1)))) {
      tokens.push({ t: 'number', v: Number(number[0]), at });
      i += number[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(text.slice(i));
    if (ident) {
      tokens.push({ t: 'ident', v: ident[0], at });
      i += ident[0].length;
      continue;
    }
    const punct = /^(?:!=|<>|<=|>=|[,()=<>])/.exec(text.slice(i));
    if (punct) {
      tokens.push({ t: 'punct', v: punct[0], at });
      i += punct[0].length;
      continue;
    }
    return { ok: false, error: malformed(`unexpected token: '${c}' at column ${at}`) };
  }
  tokens.push({ t: 'eof', at: text.length + 1 });
  return { ok: true, value: tokens };
}

/** Thrown inside the parser to unwind to `parseSoql`, which turns it into the error answer. */
class SoqlSyntaxError extends Error {
  constructor(readonly apiError: SalesforceApiError) {
    super(apiError.message);
  }
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.i];
  }

  private isKeyword(word: string, token = this.peek()): boolean {
    return token.t === 'ident' && token.v.toUpperCase() === word;
  }

  private fail(token = this.peek()): never {
    throw new SoqlSyntaxError(malformed(`unexpected token: ${describeToken(token)} at column ${token.at} (${SUPPORTED})`));
  }

  private keyword(word: string): void {
    if (!this.isKeyword(word)) this.fail();
    this.i++;
  }

  private ident(): string {
    const token = this.peek();
    if (token.t !== 'ident') this.fail();
    this.i++;
    return token.v;
  }

  private punct(value: string): boolean {
    const token = this.peek();
    if (token.t === 'punct' && token.v === value) {
      this.i++;
      return true;
    }
    return false;
  }

  private literal(): SoqlLiteral {
    const token = this.peek();
    this.i++;
    if (token.t === 'string') return { kind: 'string', value: token.v };
    if (token.t === 'number') return { kind: 'number', value: token.v };
    if (token.t === 'datetime') return { kind: 'datetime', value: token.v };
    if (token.t === 'ident') {
      const upper = token.v.toUpperCase();
      if (upper === 'TRUE' || upper === 'FALSE') return { kind: 'boolean', value: upper === 'TRUE' };
      if (upper === 'NULL') return { kind: 'null' };
    }
    return this.fail(token);
  }

  private condition(): ParsedCondition {
    const field = this.ident();
    if (this.punct('=')) return { field, op: '=', values: [this.literal()] };
    if (this.punct('!=') || this.punct('<>')) return { field, op: '!=', values: [this.literal()] };
    for (const op of ['<=', '>=', '<', '>'] as const) if (this.punct(op)) return { field, op, values: [this.literal()] };
    let op: SoqlOperator = 'in';
    if (this.isKeyword('NOT')) {
      this.i++;
      op = 'not in';
    }
    this.keyword('IN');
    if (!this.punct('(')) this.fail();
    if (this.isKeyword('SELECT')) {
      const subquery = this.select(true);
      if (!this.punct(')')) this.fail();
      return { field, op, values: [], subquery };
    }
    const values = [this.literal()];
    while (this.punct(',')) values.push(this.literal());
    if (!this.punct(')')) this.fail();
    return { field, op, values };
  }

  parse(): ParsedSoql {
    const query = this.select(false);
    if (this.peek().t !== 'eof') this.fail();
    return query;
  }

  /** One SELECT; a nested one (a semi-join's) ends before its closing parenthesis. */
  private select(nested: boolean): ParsedSoql {
    this.keyword('SELECT');
    const fields = [this.ident()];
    while (this.punct(',')) fields.push(this.ident());
    this.keyword('FROM');
    const object = this.ident();
    const where: ParsedCondition[] = [];
    if (this.isKeyword('WHERE')) {
      this.i++;
      where.push(this.condition());
      while (this.isKeyword('AND')) {
        this.i++;
        where.push(this.condition());
      }
    }
    const orderBy: ParsedOrder[] = [];
    if (this.isKeyword('ORDER')) {
      this.i++;
      this.keyword('BY');
      do {
        const field = this.ident();
        let descending = false;
        if (this.isKeyword('ASC')) this.i++;
        else if (this.isKeyword('DESC')) {
          this.i++;
          descending = true;
        }
        // Salesforce sorts nulls first ascending and last descending unless told otherwise.
        let nullsLast = descending;
        if (this.isKeyword('NULLS')) {
          this.i++;
          if (this.isKeyword('FIRST')) nullsLast = false;
          else if (this.isKeyword('LAST')) nullsLast = true;
          else this.fail();
          this.i++;
        }
        orderBy.push({ field, descending, nullsLast });
      } while (this.punct(','));
    }
    let limit: number | undefined;
    if (this.isKeyword('LIMIT')) {
      this.i++;
      const token = this.peek();
      if (token.t !== 'number' || !Number.isInteger(token.v) || token.v < 0) this.fail();
      this.i++;
      limit = token.v;
    }
    const end = this.peek();
    if (nested ? !(end.t === 'punct' && end.v === ')') : end.t !== 'eof') this.fail();
    return { fields, object, where, orderBy, ...(limit !== undefined ? { limit } : {}) };
  }
}

export function parseSoql(text: string): Outcome<ParsedSoql> {
  const tokens = tokenize(text);
  if (!tokens.ok) return tokens;
  try {
    return { ok: true, value: new Parser(tokens.value).parse() };
  } catch (error) {
    if (error instanceof SoqlSyntaxError) return { ok: false, error: error.apiError };
    throw error;
  }
}

/** How the API answers a query of an object that does not exist, or that the user may not access. */
export function invalidType(objectName: string): SalesforceApiError {
  return {
    errorCode: 'INVALID_TYPE',
    message: `sObject type '${objectName}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
  };
}

function noSuchColumn(name: string, object: SObjectDescribe): SalesforceApiError {
  return {
    errorCode: 'INVALID_FIELD',
    message: `No such column '${name}' on entity '${object.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
  };
}

function checkLiteral(field: FieldDescribe, literal: SoqlLiteral): SalesforceApiError | undefined {
  if (literal.kind === 'null') return undefined;
  switch (field.type) {
    case 'boolean':
      return literal.kind === 'boolean' ? undefined : {
        errorCode: 'INVALID_QUERY_FILTER_OPERATOR',
        message: `value of filter criterion for field '${field.name}' must be of type boolean and should not be enclosed in quotes`,
      };
    case 'int':
    case 'double':
      return literal.kind === 'number' ? undefined : {
        errorCode: 'INVALID_QUERY_FILTER_OPERATOR',
        message: `value of filter criterion for field '${field.name}' must be of type ${field.type} and should not be enclosed in quotes`,
      };
    case 'datetime':
      return literal.kind === 'datetime' ? undefined : {
        errorCode: 'INVALID_QUERY_FILTER_OPERATOR',
        message: `value of filter criterion for field '${field.name}' must be of type dateTime and should not be enclosed in quotes`,
      };
    default:
      return literal.kind === 'string' ? undefined : {
        errorCode: 'INVALID_QUERY_FILTER_OPERATOR',
        message: `value of filter criterion for field '${field.name}' must be of type ${field.type === 'id' || field.type === 'reference' ? 'id' : 'string'} and should be enclosed in quotes`,
      };
  }
}

/** Checks a parsed query against the schema and gives every name its canonical spelling. */
export function resolveSoql(parsed: ParsedSoql): Outcome<SoqlQuery> {
  return resolveSelect(parsed, false);
}

const isIdField = (field: FieldDescribe): boolean => field.type === 'id' || field.type === 'reference';

function resolveSelect(parsed: ParsedSoql, nested: boolean): Outcome<SoqlQuery> {
  const object = describeObject(parsed.object);
  if (!object) return { ok: false, error: invalidType(parsed.object) };
  const resolve = (name: string): Outcome<FieldDescribe> => {
    if (name.includes('.')) return { ok: false, error: malformed(`relationship field '${name}' is not supported (${SUPPORTED})`) };
    const described = describeField(object, name);
    return described ? { ok: true, value: described } : { ok: false, error: noSuchColumn(name, object) };
  };
  const fields: FieldDescribe[] = [];
  const relations: SoqlRelation[] = [];
  for (const name of parsed.fields) {
    if (name.includes('.')) {
      const related = resolveRelated(object, name, relations);
      if (!related.ok) return related;
      continue;
    }
    const f = resolve(name);
    if (!f.ok) return f;
    if (fields.includes(f.value)) return { ok: false, error: malformed(`duplicate field selected: ${f.value.name}`) };
    fields.push(f.value);
  }
  const where: SoqlCondition[] = [];
  for (const condition of parsed.where) {
    const f = resolve(condition.field);
    if (!f.ok) return f;
    if (condition.subquery) {
      const joined = resolveSemiJoin(f.value, condition.subquery, nested, where.filter((w) => w.subquery).length);
      if (!joined.ok) return joined;
      where.push({ field: f.value, op: condition.op, values: [], subquery: joined.value });
      continue;
    }
    for (const literal of condition.values) {
      const wrong = checkLiteral(f.value, literal);
      if (wrong) return { ok: false, error: wrong };
      if (literal.kind === 'null' && RANGE_OPS.has(condition.op)) {
        return { ok: false, error: malformed(`null can only be compared with = or != (field '${f.value.name}')`) };
      }
    }
    where.push({ field: f.value, op: condition.op, values: condition.values });
  }
  const orderBy: SoqlQuery['orderBy'] = [];
  for (const order of parsed.orderBy) {
    const f = resolve(order.field);
    if (!f.ok) return f;
    orderBy.push({ field: f.value, descending: order.descending, nullsLast: order.nullsLast });
  }
  return {
    ok: true,
    value: {
      object, fields, relations, where, orderBy,
      ...(parsed.limit !== undefined ? { limit: parsed.limit } : {}),
      hasOrderOrLimit: parsed.orderBy.length > 0 || parsed.limit !== undefined,
    },
  };
}

/**
 * `field [NOT] IN (SELECT g FROM Other …)`, with SOQL's rules for semi- and anti-joins: the left operand is an
 * id or a reference field, the subquery selects exactly one id or reference field, a subquery has no
 * semi-join of its own, no ORDER BY and no LIMIT, and a query has at most two of them.
 */
function resolveSemiJoin(left: FieldDescribe, parsed: ParsedSoql, nested: boolean, earlier: number): Outcome<SoqlQuery> {
  if (nested) return { ok: false, error: malformed('semi-join and anti-join sub-selects cannot be nested') };
  if (earlier >= MAX_SEMI_JOINS) return { ok: false, error: malformed(`a query may have at most ${MAX_SEMI_JOINS} semi-joins or anti-joins`) };
  if (!isIdField(left)) {
    return { ok: false, error: malformed(`the left operand of a semi-join or anti-join must be an id or reference field, not '${left.name}'`) };
  }
  const sub = resolveSelect(parsed, true);
  if (!sub.ok) return sub;
  const [selected] = sub.value.fields;
  if (sub.value.fields.length !== 1 || sub.value.relations.length > 0) {
    return { ok: false, error: malformed('a semi-join or anti-join sub-select must select exactly one id or reference field') };
  }
  if (!isIdField(selected)) {
    return { ok: false, error: malformed(`semi join sub selects can only query id fields, cannot use: '${selected.name}'`) };
  }
  if (sub.value.hasOrderOrLimit) return { ok: false, error: malformed('ORDER BY and LIMIT are not allowed in a semi-join or anti-join sub-select') };
  return sub;
}

/**
 * `Rel.Field` or `Rel.Rel2.Field` in SELECT: follows each lookup (at most five) to the parent's object and
 * files the field under the innermost relation.
 */
function resolveRelated(object: SObjectDescribe, path: string, relations: SoqlRelation[]): Outcome<FieldDescribe> {
  const parts = path.split('.');
  if (parts.length - 1 > MAX_RELATIONSHIP_LEVELS) {
    return { ok: false, error: malformed(`relationship path '${path}' has more than ${MAX_RELATIONSHIP_LEVELS} levels`) };
  }
  let current = object;
  let level = relations;
  let relation: SoqlRelation | undefined;
  for (const part of parts.slice(0, -1)) {
    const via = current.fields.find((f) => f.relationshipName !== undefined && f.relationshipName.toLowerCase() === part.toLowerCase());
    const target = via?.referenceTo ? describeObject(via.referenceTo[0]) : undefined;
    // Relationships the emulator does not model (User.CreatedBy…) are refused, never guessed at.
    if (!via || !target) return { ok: false, error: malformed(`relationship field '${path}' is not supported (${SUPPORTED})`) };
    relation = level.find((r) => r.via === via);
    if (!relation) {
      relation = { name: via.relationshipName as string, via, target, fields: [], relations: [] };
      level.push(relation);
    }
    current = target;
    level = relation.relations;
  }
  const last = parts[parts.length - 1];
  const field = describeField(current, last);
  if (!field || !relation) return { ok: false, error: noSuchColumn(last, current) };
  if (relation.fields.includes(field)) return { ok: false, error: malformed(`duplicate field selected: ${path}`) };
  relation.fields.push(field);
  return { ok: true, value: field };
}

export function compileSoql(text: string): Outcome<SoqlQuery> {
  const parsed = parseSoql(text);
  return parsed.ok ? resolveSoql(parsed.value) : parsed;
}

function equals(field: FieldDescribe, value: FieldValue | undefined, literal: SoqlLiteral): boolean {
  if (literal.kind === 'null') return value === null || value === undefined;
  if (value === null || value === undefined) return false;
  if (field.type === 'id' || field.type === 'reference') return typeof value === 'string' && literal.kind === 'string' && sameId(value, literal.value);
  // Text comparisons in SOQL are case-insensitive.
  if (typeof value === 'string' && literal.kind === 'string') return value.toLowerCase() === literal.value.toLowerCase();
  return literal.value === value;
}

/** `value op literal` for the range operators; a null value matches none (as in SOQL). */
function inRange(value: FieldValue | undefined, op: SoqlOperator, literal: SoqlLiteral): boolean {
  if (value === null || value === undefined || literal.kind === 'null' || literal.kind === 'boolean') return false;
  const c = compare(value, literal.value);
  return op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
}

/**
 * Whether a record passes the WHERE conditions. `joined` holds, per semi-/anti-join condition, the ids its
 * subquery selected (first 15 characters); `runSoql` computes them.
 */
export function matchesWhere(record: SObjectRecord, where: SoqlCondition[], joined?: ReadonlyMap<SoqlCondition, ReadonlySet<string>>): boolean {
  return where.every((condition) => {
    const { field, op, values } = condition;
    const value = record[field.name];
    if (condition.subquery) {
      const ids = joined?.get(condition);
      if (!ids) throw new Error(`soql: the sub-select on ${condition.subquery.object.name} was not evaluated`);
      const hit = typeof value === 'string' && ids.has(value.slice(0, 15));
      return op === 'in' ? hit : !hit;
    }
    if (RANGE_OPS.has(op)) return inRange(value, op, values[0]);
    const hit = values.some((literal) => equals(field, value, literal));
    return op === '=' || op === 'in' ? hit : !hit;
  });
}

function compare(a: FieldValue | undefined, b: FieldValue | undefined): number {
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return 0;
}

/**
 * Filters, sorts and limits records for a query (the selection of fields is the caller's). `recordsOf` gives
 * the records a semi-join's subquery runs over (those the user may read); a query with one needs it.
 */
export function runSoql(records: Iterable<SObjectRecord>, query: SoqlQuery, recordsOf?: (objectName: string) => Iterable<SObjectRecord>): SObjectRecord[] {
  const joined = new Map<SoqlCondition, Set<string>>();
  for (const condition of query.where) {
    const sub = condition.subquery;
    if (!sub) continue;
    if (!recordsOf) throw new Error(`soql: a semi-join on ${sub.object.name} needs the records to run it over`);
    const selected = sub.fields[0].name;
    const ids = new Set<string>();
    for (const row of runSoql(recordsOf(sub.object.name), sub)) {
      const id = row[selected];
      if (typeof id === 'string') ids.add(id.slice(0, 15));
    }
    joined.set(condition, ids);
  }
  const rows = [...records].filter((r) => matchesWhere(r, query.where, joined));
  if (query.orderBy.length > 0) {
    rows.sort((x, y) => {
      for (const { field, descending, nullsLast } of query.orderBy) {
        const a = x[field.name];
        const b = y[field.name];
        const aNull = a === null || a === undefined;
        const bNull = b === null || b === undefined;
        if (aNull || bNull) {
          if (aNull && bNull) continue;
          return (aNull ? -1 : 1) * (nullsLast ? -1 : 1);
        }
        const c = compare(a, b) * (descending ? -1 : 1);
        if (c !== 0) return c;
      }
      return 0;
    });
  }
  return query.limit !== undefined ? rows.slice(0, query.limit) : rows;
}
