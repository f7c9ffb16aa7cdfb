/**
 * Issue 5, fuzzed rule files: >= 1,000 seeded, reproducible mutations of the example rules (text level and
 * structure level) through `validateRuleFiles`. It never throws; it gives a rule set or at least one error;
 * every issue formats as `<file>:<line>:<col> ...` with a real position (line 0 only for file-less issues)
 * and a non-empty message. Needs no Redis: it only lives here with the other resilience suites.
 *
 * Issue 9, hostile rule files: >= 1,000 seeded files built to hurt (deep nesting, huge lists, thousands of
 * unknown or repeated keys, oversized files, odd characters) through the validator and through the daemon's
 * reload path (`RulesService.reload` on a real directory): 0 stack traces, 0 hangs, 0 exits, the last good
 * rules always in force, and every list of issues capped.
 *
 * Reproduce a failure: `FUZZ_SEED=<seed> [FUZZ_CASE=<n>] npx jest test/integration/resilience/fuzz-rules --selectProjects integration`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import type { AppConfig } from '@presence-sync/config';
import { formatIssue, validateRuleFiles, type Catalog, type RuleFileText, type RuleIssue, type RuleLimits } from '@presence-sync/rules';
import type { DirectoryService } from '../../../apps/presence-sync/src/services/directory.service';
import { RulesService } from '../../../apps/presence-sync/src/services/rules.service';
import { caseRng, chance, int, pick, type Json, type Obj, type Rng } from '../../support/seeded-random';

const SEED = Number.parseInt(process.env.FUZZ_SEED ?? '20261121', 10) >>> 0;
const CASES = Number.parseInt(process.env.FUZZ_CASES ?? '1500', 10);
const HOSTILE_CASES = Number.parseInt(process.env.FUZZ_HOSTILE_CASES ?? '1000', 10);
const ONLY_CASE = process.env.FUZZ_CASE === undefined ? undefined : Number.parseInt(process.env.FUZZ_CASE, 10);

const ROOT = join(__dirname, '..', '..', '..');
const EXAMPLE_NAMES = ['back-office.json', 'tier1-blended.json', 'tier2-chat-first.json'];
const EXAMPLES: RuleFileText[] = EXAMPLE_NAMES.map((name) => ({ file: `rules/${name}`, text: readFileSync(join(ROOT, 'rules', name), 'utf8') }));
const SANDBOX = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'rules', 'sandbox-catalog.json'), 'utf8')) as Catalog;

const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function junk(r: Rng, depth = 0): Json {
  switch (int(r, depth > 2 ? 5 : 8)) {
    case 0: return null;
    case 1: return chance(r, 0.5);
    case 2: return pick(r, [0, -1, 1.5, 1e308, 42]);
    case 3: return pick(r, ['', ' ', 'x'.repeat(int(r, 300)), '\u0000', '💥', 'Available', 'Offline', 'latest', '../../etc/passwd']);
    case 4: return pick(r, ['Available_All', 'Lunch', 'Unavailable', 'Tier 1', 't-tier2']);
    case 5: return Array.from({ length: int(r, 4) }, () => junk(r, depth + 1));
    case 6: return { state: junk(r, depth + 1), code: junk(r, depth + 1) };
    default: return { [pick(r, ['acd', 'salesforce', 'previous', 'x', '$ref'])]: junk(r, depth + 1) };
  }
}

/** Every (parent, key) pair of a JSON value, so a mutation can hit any spot. */
function spots(root: Json): { parent: Obj | Json[]; key: string | number }[] {
  const out: { parent: Obj | Json[]; key: string | number }[] = [];
  const walk = (v: Json) => {
    if (Array.isArray(v)) v.forEach((c, i) => { out.push({ parent: v, key: i }); walk(c); });
    else if (isObj(v)) for (const k of Object.keys(v)) { out.push({ parent: v, key: k }); walk(v[k]); }
  };
  walk(root);
  return out;
}

function get(parent: Obj | Json[], key: string | number): Json {
  return Array.isArray(parent) ? parent[key as number] : parent[key as string];
}
function set(parent: Obj | Json[], key: string | number, value: Json): void {
  if (Array.isArray(parent)) parent[key as number] = value;
  else parent[key as string] = value;
}

/** One structure-level mutation of a parsed rule file; returns its name. */
function mutateStructure(r: Rng, doc: Obj): string {
  const all = spots(doc);
  const spot = pick(r, all);
  const rows = (side: 'publisher' | 'subscriber') => (Array.isArray(doc[side]) ? (doc[side] as Json[]) : undefined);
  switch (int(r, 14)) {
    case 0: {
      if (Array.isArray(spot.parent)) spot.parent.splice(spot.key as number, 1);
      else delete spot.parent[spot.key as string];
      return `delete ${String(spot.key)}`;
    }
    case 1: set(spot.parent, spot.key, junk(r)); return `retype ${String(spot.key)}`;
    case 2: {
      const target = isObj(get(spot.parent, spot.key)) ? (get(spot.parent, spot.key) as Obj) : doc;
      const k = pick(r, ['extra', 'Name', 'publishers', 'conflict_policy', 'acd ', '', '__proto__', 'constructor']);
      target[k] = junk(r); return `unknown field ${JSON.stringify(k)}`;
    }
    case 3: doc.conflictPolicy = pick(r, ['newest', 'Latest', '', 'acd,salesforce', 0, null]); return 'bad conflictPolicy';
    case 4: {
      const row = rows(pick(r, ['publisher', 'subscriber'] as const));
      const target = row && row.length ? row[int(r, row.length)] : undefined;
      if (isObj(target) && isObj(target.acd)) target.acd.state = pick(r, ['Sleeping', 'available', '', 'AfterCallWork', 3]);
      return 'bad acd state';
    }
    case 5: {
      const p = rows('publisher');
      if (p && p.length) p[int(r, p.length)] = { acd: { previous: true }, salesforce: 'Busy' };
      return 'previous in publisher';
    }
    case 6: {
      const s = rows('subscriber');
      if (s && s.length) s[int(r, s.length)] = { salesforce: 'Busy', acd: { previous: pick(r, [false, 'yes', 1, null] as Json[]) } };
      return 'bad previous in subscriber';
    }
    case 7: {
      const side = pick(r, ['publisher', 'subscriber'] as const);
      const s = rows(side);
      if (s && s.length) s.push(s[int(r, s.length)]);
      return `duplicate ${side} row`;
    }
    case 8: {
      const side = pick(r, ['publisher', 'subscriber'] as const);
      const s = rows(side);
      const size = pick(r, [0, 1000, 5000]);
      if (s && s.length) doc[side] = Array.from({ length: size }, (_, i) => s[i % s.length]);
      return `${side} of ${size} rows`;
    }
    case 9: {
      const a = doc.assign;
      if (isObj(a)) {
        const k = pick(r, ['teams', 'users']);
        a[k] = pick(r, [[], ['Nope'], ['not-an-email'], 'Tier 1', Array.from({ length: 3000 }, (_, i) => `team-${i}`), null] as Json[]);
      } else doc.assign = junk(r);
      return 'bad assign';
    }
    case 10: doc.name = pick(r, ['', 'tier1-blended', 'back-office', 'x'.repeat(5000), 'has spaces', '../x', 7]); return `name ${String(doc.name).slice(0, 20)}`;
    case 11: doc.skipUnavailableCodeValidation = pick(r, ['true', 1, null, {}] as Json[]); return 'bad skip flag';
    case 12: {
      const s = rows('subscriber');
      if (s && s.length) {
        const row = s[int(r, s.length)];
        if (isObj(row) && isObj(row.acd)) row.acd.code = pick(r, ['Nope', '', 'Lunch', 5]);
      }
      return 'subscriber code';
    }
    default: {
      // Deep nesting at a random spot.
      let deep: Json = 'Available';
      for (let i = int(r, 300) + 1; i > 0; i--) deep = chance(r, 0.5) ? [deep] : { acd: deep };
      set(spot.parent, spot.key, deep);
      return 'deep nesting';
    }
  }
}

const TOKEN = /"(?:[^"\\]|\\.)*"|[{}[\]:,]|[^\s{}[\]:,"]+/g;

/** One text-level mutation; returns the new text and its name. */
function mutateText(r: Rng, text: string): [string, string] {
  const at = int(r, text.length + 1);
  switch (int(r, 11)) {
    case 0: { const len = 1 + int(r, 5); return [text.slice(0, at) + text.slice(at + len), `delete ${len} chars at ${at}`]; }
    case 1: { const len = 1 + int(r, 20); return [text.slice(0, at) + text.slice(at, at + len) + text.slice(at), `duplicate ${len} chars at ${at}`]; }
    case 2: {
      const ch = pick(r, ['{', '}', '[', ']', '"', ',', ':', '\\', '\u0000', '\uFEFF', '\u2028', '\n', '/*', '//', 'é', '💥', '\uD800']);
      return [text.slice(0, at) + ch + text.slice(at), `insert ${JSON.stringify(ch)} at ${at}`];
    }
    case 3: return [text.slice(0, at), `truncate at ${at}`];
    case 4: {
      const tokens = [...text.matchAll(TOKEN)];
      if (tokens.length < 2) return [text, 'swap (no tokens)'];
      let i = int(r, tokens.length);
      let j = int(r, tokens.length);
      if (i > j) [i, j] = [j, i];
      if (i === j) return [text, 'swap (same token)'];
      const a = tokens[i];
      const b = tokens[j];
      const ai = a.index ?? 0;
      const bi = b.index ?? 0;
      return [text.slice(0, ai) + b[0] + text.slice(ai + a[0].length, bi) + a[0] + text.slice(bi + b[0].length), `swap tokens ${a[0]} <-> ${b[0]}`];
    }
    case 5: {
      // Duplicate key right after the opening brace.
      const k = pick(r, ['name', 'conflictPolicy', 'publisher', 'assign', 'description']);
      return [text.replace('{', `{ "${k}": ${JSON.stringify(junk(r))},`), `duplicate key ${k}`];
    }
    case 6: return [pick(r, ['', ' ', '\n', 'null', '[]', '{}', '"rule"', '42', '\uFEFF{}', '{"name":']), 'replace whole text'];
    case 7: return [text.replace(/\n/g, pick(r, ['\r\n', '\r', '\u2028'])), 'other line endings'];
    case 8: {
      const line = text.split('\n');
      const i = int(r, line.length);
      line.splice(i, 0, pick(r, ['// a comment', '/* block */', '/* unterminated', '"dangling": 1,', ',,']));
      return [line.join('\n'), `insert line ${i + 1}`];
    }
    case 9: {
      const tokens = [...text.matchAll(TOKEN)];
      const t = tokens.length ? tokens[int(r, tokens.length)] : undefined;
      if (!t) return [text, 'replace token (none)'];
      const to = pick(r, ['true', 'null', '"x"', '0', '-1e999', '{', ']', 'undefined', 'NaN', "'single'"]);
      return [text.slice(0, t.index) + to + text.slice((t.index ?? 0) + t[0].length), `replace token ${t[0]} -> ${to}`];
    }
    default: return [text.slice(0, at) + String.fromCharCode(...Array.from({ length: 1 + int(r, 6) }, () => int(r, 0x3000))) + text.slice(at), 'random chars'];
  }
}

interface Case { desc: string; files: RuleFileText[]; catalog?: Catalog; defaultUnavailableCode?: string }

function makeCase(seed: number, n: number): Case {
  const r = caseRng(seed, n);
  const target = int(r, EXAMPLES.length);
  const others = chance(r, 0.4) ? EXAMPLES.filter((_, i) => i !== target) : [];
  const base = EXAMPLES[target];
  const muts: string[] = [];
  let text = base.text;
  if (chance(r, 0.5)) {
    const doc = JSON.parse(text) as Obj;
    for (let i = 1 + int(r, 3); i > 0; i--) muts.push(mutateStructure(r, doc));
    text = JSON.stringify(doc, null, chance(r, 0.5) ? 2 : undefined);
  }
  if (chance(r, muts.length ? 0.3 : 1)) {
    for (let i = 1 + int(r, 3); i > 0; i--) {
      const [t, what] = mutateText(r, text);
      text = t;
      muts.push(what);
    }
  }
  const files: RuleFileText[] = [{ file: base.file, text }, ...others];
  // Occasionally a copy under another name (duplicate rule names, duplicate assignments across files).
  if (chance(r, 0.05)) { files.push({ file: 'rules/copy.json', text }); muts.push('copied to rules/copy.json'); }
  const catalog = pick(r, [SANDBOX, SANDBOX, undefined, { salesforceStatuses: [] }, { ...SANDBOX, agents: [] }] as (Catalog | undefined)[]);
  return {
    desc: `${base.file} [${muts.join('; ')}] with ${files.length} file(s), catalog ${catalog === undefined ? 'none' : catalog === SANDBOX ? 'sandbox' : 'partial'}`,
    files, catalog, defaultUnavailableCode: chance(r, 0.5) ? 'System' : undefined,
  };
}

describe(`fuzzed rule files (FUZZ_SEED=${SEED})`, () => {
  it('the unmutated examples validate (the baseline the mutations start from)', () => {
    const result = validateRuleFiles(EXAMPLES, { catalog: SANDBOX, dir: 'rules' });
    expect(result.errors.map(formatIssue)).toEqual([]);
    expect(result.ruleSet).toBeDefined();
  });

  it(`gives a rule set or clear errors for ${ONLY_CASE === undefined ? CASES : 1} mutated rule sets, never a throw`, () => {
    const started = Date.now();
    const stats = { valid: 0, invalid: 0, errors: 0 };
    const cases = ONLY_CASE === undefined ? Array.from({ length: CASES }, (_, n) => n) : [ONLY_CASE];
    const LOCATED = /^(.+):(\d+):(\d+)( |: )/;
    for (const n of cases) {
      const c = makeCase(SEED, n);
      const where = () => `FUZZ_SEED=${SEED} FUZZ_CASE=${n}: ${c.desc.slice(0, 400)}; text starts ${JSON.stringify(c.files[0].text.slice(0, 200))}`;
      let result: ReturnType<typeof validateRuleFiles>;
      try {
        result = validateRuleFiles(c.files, { catalog: c.catalog, defaultUnavailableCode: c.defaultUnavailableCode, dir: 'rules' });
      } catch (error) {
        throw new Error(`validateRuleFiles threw ${error instanceof Error ? error.stack : String(error)}; ${where()}`);
      }
      const fail = (what: string) => new Error(`${what}; ${where()}`);
      if (result.ruleSet && result.errors.length > 0) throw fail('both a rule set and errors');
      if (!result.ruleSet && result.errors.length === 0) throw fail('neither a rule set nor an error');
      // Lines per file, counted once (a 5,000-row file may carry thousands of issues).
      const lineCounts = new Map(c.files.map((f) => [f.file, f.text.split(/\r\n|\r|\n|\u2028|\u2029/).length]));
      const check = (issue: RuleIssue) => {
        let line: string;
        try { line = formatIssue(issue); } catch (error) { throw fail(`formatIssue threw ${String(error)} for ${JSON.stringify(issue)}`); }
        if (typeof issue.message !== 'string' || issue.message.trim() === '') throw fail(`empty message in ${JSON.stringify(issue)}`);
        const lineCount = lineCounts.get(issue.file);
        if (lineCount === undefined) {
          // File-less issue: the directory (catalog unreachable, no rule file) and no position.
          if (issue.file !== 'rules' || issue.line !== 0) throw fail(`issue names no given file: ${line}`);
          return;
        }
        const m = LOCATED.exec(line);
        if (!m || m[1] !== issue.file || Number(m[2]) < 1 || Number(m[3]) < 1) throw fail(`issue in a file without <file>:<line>:<col>: ${JSON.stringify(line.slice(0, 300))}`);
        // The position must exist in the file (a line past the end is no help to an admin).
        if (issue.line > lineCount + 1) throw fail(`line ${issue.line} past the end (${lineCount} lines): ${line.slice(0, 300)}`);
      };
      for (const issue of result.errors) { if (issue.severity !== 'error') throw fail(`error with severity ${issue.severity}`); check(issue); }
      for (const issue of result.warnings) check(issue);
      if (result.ruleSet) stats.valid++;
      else { stats.invalid++; stats.errors += result.errors.length; }
    }
    console.log(`fuzz-rules FUZZ_SEED=${SEED}: ${cases.length} cases, ${stats.valid} valid, ${stats.invalid} rejected (${stats.errors} errors), ${Date.now() - started} ms`);
    if (ONLY_CASE === undefined) expect(stats.invalid).toBeGreaterThan(cases.length / 2);
  }, 120_000);
});

/** Limits small enough that the oversized cases stay quick; the same for the validator and the daemon. */
const LIMITS: RuleLimits = { maxFileBytes: 256 * 1024, maxDepth: 32, maxIssues: 20 };

/** A JSON text nested `depth` levels, mixing lists and objects; unclosed when `open`. */
function nested(r: Rng, depth: number, open: boolean): string {
  const kinds = Array.from({ length: depth }, () => chance(r, 0.5));
  const opening = kinds.map((list) => (list ? '[' : pick(r, ['{"a":', '{"acd":', '{"x y":', '{"\\"":']))).join('');
  const closing = open ? '' : [...kinds].reverse().map((list) => (list ? ']' : '}')).join('');
  return `${opening}${pick(r, ['1', '"Available"', 'null', '{}', '[]'])}${closing}`;
}

const example = (r: Rng) => JSON.parse(pick(r, EXAMPLES).text) as Obj;

/** One hostile rule file: the text and what it is, for the failure message. */
function hostileFile(r: Rng): { text: string; what: string } {
  const doc = example(r);
  const n = (sizes: number[]) => pick(r, sizes);
  switch (int(r, 12)) {
    case 0: {
      const depth = n([33, 64, 2000, 20_000]);
      const field = pick(r, ['description', 'publisher', 'assign', 'nope', 'conflictPolicy']);
      return { text: JSON.stringify(doc).replace(/^\{/, `{"${field}": ${nested(r, depth, false)},`), what: `${depth} levels under ${field}` };
    }
    case 1: {
      const depth = n([33, 2000, 50_000]);
      return { text: nested(r, depth, chance(r, 0.5)), what: `a whole file ${depth} levels deep` };
    }
    case 2: {
      const rows = n([1000, 5000]);
      const side = pick(r, ['publisher', 'subscriber'] as const);
      const row = pick(r, [{ acd: { state: 'Nope' }, salesforce: 'X' }, { salesforce: 'Busy', acd: { previous: 'yes' } }, 0, 'row', null, []] as Json[]);
      doc[side] = Array.from({ length: rows }, () => row);
      return { text: JSON.stringify(doc), what: `${rows} bad ${side} rows` };
    }
    case 3: {
      const users = n([1000, 5000]);
      doc.assign = { teams: ['Tier 1'], users: Array.from({ length: users }, (_, i) => (chance(r, 0.5) ? 'same@example.com' : `u${i % 100}@example.com`)) };
      return { text: JSON.stringify(doc), what: `${users} users, mostly repeated` };
    }
    case 4: {
      const keys = n([1000, 5000]);
      const target = chance(r, 0.5) || !Array.isArray(doc.publisher) ? doc : ((doc.publisher as Json[])[0] as Obj);
      for (let i = 0; i < keys; i++) target[`k${i}`] = i;
      return { text: JSON.stringify(doc), what: `${keys} unknown keys` };
    }
    case 5: {
      const repeats = n([1000, 5000]);
      const key = pick(r, ['name', 'publisher', 'x']);
      const body = Array.from({ length: repeats }, (_, i) => `"${key}": ${JSON.stringify(key === 'name' ? `r${i}` : i)}`).join(',');
      return { text: JSON.stringify(doc).replace(/^\{/, `{${body},`), what: `"${key}" repeated ${repeats} times` };
    }
    case 6: {
      const size = n([LIMITS.maxFileBytes + 1, 2 * LIMITS.maxFileBytes, 1 << 20]);
      doc.description = pick(r, ['x', 'é', '💥', '\n']).repeat(size);
      return { text: JSON.stringify(doc, null, 2), what: `a file of about ${size} characters` };
    }
    case 7: {
      // Brackets inside a string are text, not nesting: this one is valid.
      doc.description = pick(r, ['[', '{', ']}', '"[']).repeat(n([100, 5000]));
      return { text: JSON.stringify(doc), what: 'brackets inside a string' };
    }
    case 8: {
      const chars = Array.from({ length: n([1000, 20_000]) }, () => String.fromCharCode(int(r, 0x10000))).join('');
      return { text: chance(r, 0.5) ? chars : JSON.stringify(doc).replace('"name"', `"${chars.replace(/["\\]/g, '')}": 1, "name"`), what: 'random characters' };
    }
    case 9: {
      const lines = n([10_000, 100_000]);
      return { text: `${'\n'.repeat(lines)}${pick(r, ['{', '{ "name": ', '[', ''])}`, what: `${lines} empty lines then an unfinished document` };
    }
    case 10: {
      const items = n([10_000, 30_000]);
      return { text: `{"name":"r","publisher":[${'0,'.repeat(items)}0]}`, what: `${items} numbers as publisher rows` };
    }
    default: {
      // A hostile file, then text-level damage on top.
      const base = hostileFile(r);
      const [text, what] = mutateText(r, base.text);
      return { text, what: `${base.what}; ${what}` };
    }
  }
}

const STACK = /\n\s+at |RangeError|Maximum call stack|TypeError|ReferenceError/;

describe(`hostile rule files (FUZZ_SEED=${SEED})`, () => {
  let dir: string;
  let service: RulesService;
  let faults: unknown[];
  let unhandled: unknown[];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ps-fuzz-rules-'));
    for (const { file, text } of EXAMPLES) writeFileSync(join(dir, file.replace('rules/', '')), text);
    faults = [];
    unhandled = [];
    process.on('unhandledRejection', onUnhandled);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'error').mockImplementation((entry: unknown) => {
      if ((entry as { msg?: string }).msg !== 'rules reload rejected; the last good rules stay in force') faults.push(entry);
    });
    const directory = { catalog: () => SANDBOX } as unknown as DirectoryService;
    service = new RulesService({ rules: { dir, watch: false, limits: LIMITS } } as AppConfig, directory);
    await service.loadAtBoot();
  });
  afterAll(async () => {
    await service.stop();
    process.off('unhandledRejection', onUnhandled);
    jest.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`${ONLY_CASE === undefined ? HOSTILE_CASES : 1} hostile files: 0 stack traces, 0 hangs, 0 exits, the last good rules in force`, async () => {
    const started = Date.now();
    const stats = { validated: 0, reloaded: 0, rejected: 0, accepted: 0, errors: 0, stackTraces: 0, hangs: 0, exits: 0 };
    const exit = jest.spyOn(process, 'exit').mockImplementation((() => {
      stats.exits++;
      throw new Error('process.exit called');
    }) as typeof process.exit);
    const cases = ONLY_CASE === undefined ? Array.from({ length: HOSTILE_CASES }, (_, n) => n) : [ONLY_CASE];
    try {
      for (const n of cases) {
        const r = caseRng(SEED ^ 0x9e11, n);
        const { text, what } = hostileFile(r);
        const name = pick(r, ['hostile.json', 'a.json', 'tier1-blended.json']);
        const where = () => `FUZZ_SEED=${SEED} FUZZ_CASE=${n}: ${what} as ${name}`;
        const files = [...EXAMPLES.filter((f) => !f.file.endsWith(`/${name}`)), { file: `rules/${name}`, text }];

        // The validator.
        let result: ReturnType<typeof validateRuleFiles>;
        try {
          result = validateRuleFiles(files, { catalog: SANDBOX, dir: 'rules', limits: LIMITS });
        } catch (error) {
          stats.stackTraces++;
          throw new Error(`validateRuleFiles threw ${error instanceof Error ? error.stack : String(error)}; ${where()}`);
        }
        stats.validated++;
        if (Boolean(result.ruleSet) === result.errorCount > 0) throw new Error(`a rule set and ${result.errorCount} errors; ${where()}`);
        if (result.errors.length > LIMITS.maxIssues || result.warnings.length > LIMITS.maxIssues) throw new Error(`issues not capped; ${where()}`);
        if (result.errorCount < result.errors.length) throw new Error(`errorCount below the errors kept; ${where()}`);
        for (const issue of [...result.errors, ...result.warnings]) {
          const line = formatIssue(issue);
          if (STACK.test(line)) {
            stats.stackTraces++;
            throw new Error(`an issue reads like a crash: ${line.slice(0, 300)}; ${where()}`);
          }
        }

        // The daemon's reload path, on a real directory.
        const good = service.current()?.version;
        writeFileSync(join(dir, name), text);
        let timer: NodeJS.Timeout | undefined;
        const outcome = await Promise.race([
          service.reload().then(() => 'done' as const),
          new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), 20_000))),
        ]);
        clearTimeout(timer);
        if (outcome === 'hung') {
          stats.hangs++;
          throw new Error(`reload did not finish within 20 s; ${where()}`);
        }
        stats.reloaded++;
        const status = service.status;
        if (status.errors.some((line) => STACK.test(line))) {
          stats.stackTraces++;
          throw new Error(`a status error reads like a crash: ${status.errors.join(' | ').slice(0, 300)}; ${where()}`);
        }
        if (status.errors.length > LIMITS.maxIssues + 1 || status.warnings.length > LIMITS.maxIssues + 1) throw new Error(`status not capped; ${where()}`);
        if (faults.length > 0) throw new Error(`reload failed: ${JSON.stringify(faults[0]).slice(0, 300)}; ${where()}`);
        if (result.ruleSet) {
          stats.accepted++;
          if (service.current()?.version !== result.ruleSet.version) throw new Error(`a valid file was not taken; ${where()}`);
        } else {
          stats.rejected++;
          stats.errors += result.errorCount;
          if (service.current()?.version !== good) throw new Error(`the last good rules were replaced; ${where()}`);
          if (status.errorCount !== result.errorCount) throw new Error(`status counts ${status.errorCount} errors, the validator ${result.errorCount}; ${where()}`);
        }
        // Back to the examples, so every case starts from the same good set.
        writeFileSync(join(dir, name), EXAMPLES.find((f) => f.file.endsWith(`/${name}`))?.text ?? '{}');
        if (name === 'hostile.json' || name === 'a.json') rmSync(join(dir, name));
      }
    } finally {
      exit.mockRestore();
    }
    expect(unhandled).toEqual([]);
    console.log(
      `fuzz-rules hostile FUZZ_SEED=${SEED}: ${cases.length} files, ${stats.validated} validated, ${stats.reloaded} reloaded, ` +
        `${stats.rejected} rejected (${stats.errors} errors), ${stats.accepted} accepted, ${stats.stackTraces} stack traces, ` +
        `${stats.hangs} hangs, ${stats.exits} exits, ${Date.now() - started} ms`,
    );
    expect(stats).toMatchObject({ stackTraces: 0, hangs: 0, exits: 0, validated: cases.length, reloaded: cases.length });
  }, 600_000);
});
