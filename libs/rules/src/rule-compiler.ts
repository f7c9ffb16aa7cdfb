import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { type CatalogIndex, identityKey } from './catalog-index';
import type { SchemaValidRuleFile } from './rule-file';
import type {
  AgentIdentity,
  CompiledRule,
  PublisherRow,
  RuleFileText,
  RuleMatch,
  RuleSet,
  SubscriberRow,
  WorkloadRow,
} from './rule-types';

/**
 * Short sha256 of the sorted file names and contents. Base names only, so the same directory read from
 * another working directory has the same version (hot reload compares versions).
 */
export function ruleSetVersion(files: readonly RuleFileText[]): string {
  const hash = createHash('sha256');
  const sorted = files.map((f) => ({ name: basename(f.file), text: f.text })).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const { name, text } of sorted) hash.update(name).update('\u0000').update(text).update('\u0000');
  return hash.digest('hex').slice(0, 12);
}

function compileRule({ doc, json }: SchemaValidRuleFile): CompiledRule {
  const publisher: PublisherRow[] = (json.publisher ?? []).map((row, index) =>
    Object.freeze({
      index,
      acd: Object.freeze(row.acd.code === undefined ? { state: row.acd.state } : { state: row.acd.state, code: row.acd.code }),
      salesforce: row.salesforce,
    }),
  );
  const subscriber: SubscriberRow[] = (json.subscriber ?? []).map((row, index) => {
    const acd =
      'previous' in row.acd
        ? ({ previous: true } as const)
        : row.acd.code === undefined
          ? { state: row.acd.state }
          : { state: row.acd.state, code: row.acd.code };
    return Object.freeze({ index, salesforce: row.salesforce, acd: Object.freeze(acd) });
  });
  const workload: WorkloadRow[] = (json.workload ?? []).map((row, index) =>
    Object.freeze({
      index,
      ...(row.channel === undefined ? {} : { channel: row.channel }),
      ...(row.atCapacity ? { atCapacity: true } : {}),
      acd: Object.freeze(row.acd.code === undefined ? { state: row.acd.state } : { state: row.acd.state, code: row.acd.code }),
    }),
  );
  const rule: CompiledRule = {
    name: json.name,
    file: doc.file,
    ...(json.description === undefined ? {} : { description: json.description }),
    skipUnavailableCodeValidation: json.skipUnavailableCodeValidation ?? false,
    conflictPolicy: json.conflictPolicy ?? 'latest',
    publisher: Object.freeze(publisher),
    subscriber: Object.freeze(subscriber),
    workload: Object.freeze(workload),
    assign: Object.freeze({
      teams: Object.freeze([...(json.assign?.teams ?? [])]),
      users: Object.freeze([...(json.assign?.users ?? [])]),
    }),
  };
  return Object.freeze(rule);
}

class CompiledRuleSet implements RuleSet {
  constructor(
    readonly version: string,
    readonly rules: readonly CompiledRule[],
    readonly files: readonly string[],
    private readonly byUser: ReadonlyMap<string, CompiledRule>,
    private readonly byTeam: ReadonlyMap<string, CompiledRule>,
    private readonly byName: ReadonlyMap<string, CompiledRule>,
  ) {
    Object.freeze(this);
  }

  ruleFor(agent: AgentIdentity): RuleMatch | undefined {
    const user = this.lookup(this.byUser, agent.agentId) ?? this.lookup(this.byUser, agent.email);
    if (user) return { rule: user, via: 'user' };
    const team = this.lookup(this.byTeam, agent.teamId) ?? this.lookup(this.byTeam, agent.teamName);
    return team ? { rule: team, via: 'team' } : undefined;
  }

  ruleNamed(name: string): CompiledRule | undefined {
    return this.byName.get(name);
  }

  private lookup(map: ReadonlyMap<string, CompiledRule>, value: string | undefined): CompiledRule | undefined {
    return value ? map.get(identityKey(value)) : undefined;
  }
}

/**
 * Compiles validated files (sorted by file) into a rule set. Assignments are indexed under every name the
 * catalog knows for them (a team by id and name, an agent by id and e-mail), so `ruleFor` finds the rule
 * whichever identity the engine has at hand. Validation has already rejected any identity claimed twice.
 */
export function compileRuleSet(files: SchemaValidRuleFile[], texts: readonly RuleFileText[], catalog: CatalogIndex): RuleSet {
  const rules = files.map(compileRule);
  const byUser = new Map<string, CompiledRule>();
  const byTeam = new Map<string, CompiledRule>();
  const byName = new Map<string, CompiledRule>();
  const claim = (map: Map<string, CompiledRule>, key: string | undefined, rule: CompiledRule) => {
    if (key && !map.has(identityKey(key))) map.set(identityKey(key), rule);
  };
  for (const rule of rules) {
    byName.set(rule.name, rule);
    for (const ref of rule.assign.users) {
      claim(byUser, ref, rule);
      const agent = catalog.agent(ref);
      claim(byUser, agent?.agentId, rule);
      claim(byUser, agent?.email, rule);
    }
    for (const ref of rule.assign.teams) {
      claim(byTeam, ref, rule);
      const team = catalog.team(ref);
      claim(byTeam, team?.teamId, rule);
      claim(byTeam, team?.name, rule);
    }
  }
  return new CompiledRuleSet(
    ruleSetVersion(texts),
    Object.freeze(rules),
    Object.freeze(files.map((f) => f.doc.file)),
    byUser,
    byTeam,
    byName,
  );
}
