import { acdStateKey, SALESFORCE_OFFLINE, type AcdTeam } from '@presence-sync/domain';
import { CatalogIndex, identityKey } from './catalog-index';
import type { IssueCollector } from './issue-collector';
import { listForMessage, suggest, type JsonPath } from './rule-issue';
import type { RuleFileJson, SchemaValidRuleFile } from './rule-file';
import { isPreviousTarget, type ConnectorLimits, type RuleIssue } from './rule-types';

export interface CheckOptions {
  /** Shown by directory-level issues (unreachable catalogs). */
  dir: string;
  defaultUnavailableCode?: string;
  /** What the chosen connector can set; a row that wants another state toward the contact center is an error. */
  connector?: ConnectorLimits;
}

/**
 * Checks that need more than one value at a time: duplicates inside a rule, names and assignments across
 * rules, and everything against the live catalogs. Runs on schema-valid files only, so the JSON types hold.
 */
export function* checkRules(
  files: SchemaValidRuleFile[],
  catalog: CatalogIndex,
  options: CheckOptions,
  issues: IssueCollector,
): Generator<void, void> {
  // A pause after each file and each pass: a caller can let other work run between them.
  for (const file of files) {
    checkOneRule(file, issues);
    yield;
  }
  checkAcrossRules(files, catalog, issues);
  yield;
  checkAgainstCatalog(files, catalog, options, issues);
  if (options.connector) for (const file of files) checkConnector(file, options.connector, options.defaultUnavailableCode, issues);
}

/**
 * Rows that want a state the connector cannot set would fail at every write: refused at validation instead. So is
 * plain Unavailable toward a connector that needs a code: a row without a code (nothing fills one in: the engine
 * sets a row's state as written), and the fallback of a rule that skips code validation when
 * DEFAULT_UNAVAILABLE_CODE is not set (the fallback is then plain Unavailable).
 */
function checkConnector({ doc, json }: SchemaValidRuleFile, connector: ConnectorLimits, defaultCode: string | undefined, issues: IssueCollector): void {
  const refuse = (path: JsonPath, state: string) => issues.report(
    doc, path,
    `the ${connector.name} connector cannot set ${state} (it sets ${listForMessage(connector.settable)}); see docs/connectors for what its API allows`,
  );
  const needsCode = (path: JsonPath) => issues.report(
    doc, path,
    `the ${connector.name} connector cannot set Unavailable without a code (the contact center has no plain Unavailable): give the row a code`,
  );
  (json.subscriber ?? []).forEach((row, i) => {
    if (isPreviousTarget(row.acd)) return;
    if (!connector.settable.includes(row.acd.state)) refuse(['subscriber', i, 'acd', 'state'], row.acd.state);
    else if (connector.unavailableNeedsCode && row.acd.state === 'Unavailable' && row.acd.code === undefined) needsCode(['subscriber', i, 'acd']);
  });
  (json.workload ?? []).forEach((row, i) => {
    if (!connector.settable.includes(row.acd.state)) refuse(['workload', i, 'acd', 'state'], row.acd.state);
    else if (connector.unavailableNeedsCode && row.acd.state === 'Unavailable' && row.acd.code === undefined) needsCode(['workload', i, 'acd']);
  });
  if (connector.unavailableNeedsCode && json.skipUnavailableCodeValidation && !defaultCode) {
    issues.report(
      doc,
      ['skipUnavailableCodeValidation'],
      `the ${connector.name} connector cannot set Unavailable without a code, and this rule falls back to plain Unavailable (DEFAULT_UNAVAILABLE_CODE is not set): set DEFAULT_UNAVAILABLE_CODE to one of its codes, or turn skipUnavailableCodeValidation off`,
    );
  }
}

/** Duplicate keys in a table (the second row is the error), codes where they mean nothing, empty rules. */
function checkOneRule({ doc, json }: SchemaValidRuleFile, issues: IssueCollector): void {
  const publisherKeys = new Map<string, number>();
  (json.publisher ?? []).forEach((row, i) => {
    const key = acdStateKey(row.acd);
    const first = publisherKeys.get(key);
    if (first === undefined) publisherKeys.set(key, i);
    else issues.report(doc, ['publisher', i, 'acd'], `duplicate row: publisher[${first}] already matches ${key}`);
  });

  const subscriberKeys = new Map<string, number>();
  (json.subscriber ?? []).forEach((row, i) => {
    const first = subscriberKeys.get(row.salesforce);
    if (first === undefined) subscriberKeys.set(row.salesforce, i);
    else {
      issues.report(doc, ['subscriber', i, 'salesforce'], `duplicate row: subscriber[${first}] already matches "${row.salesforce}"`);
    }
    if (!isPreviousTarget(row.acd) && row.acd.code !== undefined && row.acd.state !== 'Unavailable') {
      issues.report(
        doc,
        ['subscriber', i, 'acd', 'code'],
        `a code can only be set with "Unavailable" (the contact center keeps no code for ${row.acd.state})`,
      );
    }
  });

  checkWorkloadRows(doc, json, issues);

  for (const kind of ['teams', 'users'] as const) {
    const seen = new Set<string>();
    (json.assign?.[kind] ?? []).forEach((ref, i) => {
      const key = identityKey(ref);
      if (seen.has(key)) {
        issues.report(doc, ['assign', kind, i], `"${ref}" is listed twice in this rule`, 'warning');
      }
      seen.add(key);
    });
  }

  const assigned = (json.assign?.teams?.length ?? 0) + (json.assign?.users?.length ?? 0);
  if (assigned === 0) {
    issues.report(doc, json.assign ? ['assign'] : [], 'the rule is assigned to no team or user: it applies to nobody', 'warning');
  }
  if (!json.publisher?.length && !json.subscriber?.length && !json.workload?.length) {
    issues.report(doc, [], 'the rule has no publisher, subscriber or workload row: it syncs nothing', 'warning');
  }
}

type WorkloadJsonRow = NonNullable<RuleFileJson['workload']>[number];

/** Whether `earlier` matches whenever `later` does (its conditions are a subset), so `later` never decides. */
function covers(earlier: WorkloadJsonRow, later: WorkloadJsonRow): boolean {
  return (earlier.channel === undefined || earlier.channel === later.channel) && (!earlier.atCapacity || later.atCapacity === true);
}

function workloadConditions(row: WorkloadJsonRow): string {
  const parts = [row.channel === undefined ? '' : `open "${row.channel}" work`, row.atCapacity ? 'at capacity' : ''];
  return parts.filter(Boolean).join(' and ');
}

/**
 * The first matching workload row wins, so a row whose conditions an earlier row already covers can never
 * decide: the same conditions twice is an error (like a duplicate key), a narrower row after a broader one a
 * warning (the admin probably meant the other order).
 */
function checkWorkloadRows(doc: SchemaValidRuleFile['doc'], json: RuleFileJson, issues: IssueCollector): void {
  const rows = json.workload ?? [];
  rows.forEach((row, i) => {
    if (row.acd.code !== undefined && row.acd.state !== 'Unavailable') {
      issues.report(
        doc,
        ['workload', i, 'acd', 'code'],
        `a code can only be set with "Unavailable" (the contact center keeps no code for ${row.acd.state})`,
      );
    }
    const earlier = rows.slice(0, i);
    const same = earlier.findIndex((e) => covers(e, row) && covers(row, e));
    if (same >= 0) {
      issues.report(doc, ['workload', i], `duplicate row: workload[${same}] already matches ${workloadConditions(row)}`);
      return;
    }
    const broader = earlier.findIndex((e) => covers(e, row));
    if (broader >= 0) {
      issues.report(
        doc,
        ['workload', i],
        `this row never applies: workload[${broader}] (${workloadConditions(rows[broader])}) matches first whenever it would (the first matching row wins; put the narrower row first)`,
        'warning',
      );
    }
  });
}

/**
 * One rule name, team or user in two files. The error sits at the later file (in sorted order) and names
 * the earlier one. With a catalog, "Tier 1" and "t-tier1" (its id) are the same team, and an agent id and
 * that agent's e-mail the same user.
 */
function checkAcrossRules(files: SchemaValidRuleFile[], catalog: CatalogIndex, issues: IssueCollector): void {
  const names = new Map<string, string>();
  const teams = new Map<string, { file: string; ref: string }>();
  const users = new Map<string, { file: string; ref: string }>();

  for (const { doc, json } of files) {
    const nameOwner = names.get(json.name);
    if (nameOwner === undefined) names.set(json.name, doc.file);
    else issues.report(doc, ['name'], `rule name "${json.name}" is also used in ${nameOwner}`);

    const claim = (
      kind: 'teams' | 'users',
      owners: Map<string, { file: string; ref: string }>,
      canonical: (ref: string) => string,
    ) => {
      // Within one file a repeat is only a warning (checkOneRule): claim each identity once per file.
      const mine = new Set<string>();
      (json.assign?.[kind] ?? []).forEach((ref, i) => {
        const key = canonical(ref);
        if (mine.has(key)) return;
        mine.add(key);
        const owner = owners.get(key);
        if (owner === undefined) {
          owners.set(key, { file: doc.file, ref });
          return;
        }
        const word = kind === 'teams' ? 'team' : 'user';
        const alias = identityKey(owner.ref) === identityKey(ref) ? '' : ` (as "${owner.ref}")`;
        issues.report(doc, ['assign', kind, i], `${word} "${ref}" is also assigned in ${owner.file}${alias}`);
      });
    };
    claim('teams', teams, (ref) => {
      const team = catalog.team(ref);
      return team ? `id:${team.teamId}` : `ref:${identityKey(ref)}`;
    });
    claim('users', users, (ref) => {
      const agent = catalog.agent(ref);
      return agent ? `id:${identityKey(agent.agentId)}` : `ref:${identityKey(ref)}`;
    });
  }
}

interface CodeUse {
  path: JsonPath;
  code: string;
}

/** Unavailable codes in every table: the ones a team must have enabled. Codes of other states are not checked. */
function unavailableCodes(json: RuleFileJson): CodeUse[] {
  const uses: CodeUse[] = [];
  (json.publisher ?? []).forEach((row, i) => {
    if (row.acd.state === 'Unavailable' && row.acd.code !== undefined) {
      uses.push({ path: ['publisher', i, 'acd', 'code'], code: row.acd.code });
    }
  });
  (json.subscriber ?? []).forEach((row, i) => {
    if (!isPreviousTarget(row.acd) && row.acd.state === 'Unavailable' && row.acd.code !== undefined) {
      uses.push({ path: ['subscriber', i, 'acd', 'code'], code: row.acd.code });
    }
  });
  (json.workload ?? []).forEach((row, i) => {
    if (row.acd.state === 'Unavailable' && row.acd.code !== undefined) {
      uses.push({ path: ['workload', i, 'acd', 'code'], code: row.acd.code });
    }
  });
  return uses;
}

function checkAgainstCatalog(files: SchemaValidRuleFile[], catalog: CatalogIndex, options: CheckOptions, issues: IssueCollector): void {
  const unreachable = (message: string): RuleIssue => ({
    file: options.dir,
    line: 0,
    column: 0,
    path: '',
    message,
    severity: 'warning',
  });
  if (files.length > 0) {
    const { salesforce, contactCenter } = catalog.missing;
    if (!catalog.statuses) issues.push(unreachable(`Salesforce status catalog ${salesforce}: statuses not checked`));
    if (!catalog.hasTeams) {
      issues.push(unreachable(`contact-center team catalog ${contactCenter}: teams and Unavailable codes not checked`));
    }
    if (!catalog.hasAgents) issues.push(unreachable(`contact-center agent catalog ${contactCenter}: users not checked`));
    // Only rules that name a channel need the channel list: other rule sets get no new warning.
    const namesChannel = files.some((f) => f.json.workload?.some((row) => row.channel !== undefined));
    if (namesChannel && !catalog.serviceChannels) {
      issues.push(unreachable(`Salesforce service channel catalog ${salesforce}: workload channels not checked`));
    }
  }

  const defaultCode = options.defaultUnavailableCode || undefined;
  const defaultCodeKnown = defaultCode === undefined || !catalog.codes || catalog.codes.has(defaultCode);
  if (!defaultCodeKnown && files.some((f) => f.json.skipUnavailableCodeValidation)) {
    issues.push(
      unreachable(`DEFAULT_UNAVAILABLE_CODE "${defaultCode}" is not an Unavailable code of any team: fallback writes will fail`),
    );
  }

  for (const { doc, json } of files) {
    if (catalog.statuses) {
      const statuses = catalog.statuses;
      const check = (table: 'publisher' | 'subscriber', i: number, status: string) => {
        if (status === SALESFORCE_OFFLINE || statuses.has(status)) return;
        // The suggestion is worked out only for an issue that is kept (a file may name thousands).
        issues.report(doc, [table, i, 'salesforce'], () => {
          const close = suggest(status, statuses);
          return `unknown Salesforce status "${status}" (${close ? `did you mean "${close}"?` : `known: ${listForMessage([...statuses])}`})`;
        });
      };
      (json.publisher ?? []).forEach((row, i) => check('publisher', i, row.salesforce));
      (json.subscriber ?? []).forEach((row, i) => check('subscriber', i, row.salesforce));
    }

    if (catalog.serviceChannels) {
      const channels = catalog.serviceChannels;
      (json.workload ?? []).forEach((row, i) => {
        if (row.channel === undefined || channels.has(row.channel)) return;
        const channel = row.channel;
        // A warning, not an error: an org may add the channel later, and the row then simply never matches.
        issues.report(
          doc,
          ['workload', i, 'channel'],
          () => {
            const close = suggest(channel, channels);
            return `unknown service channel "${channel}": the row never matches (${close ? `did you mean "${close}"?` : `known: ${listForMessage([...channels])}`})`;
          },
          'warning',
        );
      });
    }

    // The teams whose code lists this rule must respect, each with the users that brought it in (if any).
    const teamsInScope = new Map<string, { team: AcdTeam; viaUsers: string[] }>();
    if (catalog.hasTeams) {
      (json.assign?.teams ?? []).forEach((ref, i) => {
        const team = catalog.team(ref);
        if (team) {
          teamsInScope.set(team.teamId, { team, viaUsers: [] });
          return;
        }
        issues.report(doc, ['assign', 'teams', i], () => {
          const known = (catalog.teams ?? []).map((t) => t.name);
          const close = suggest(ref, known);
          return `unknown team "${ref}" (${close ? `did you mean "${close}"?` : `known: ${listForMessage(known)}`})`;
        });
      });
    }
    if (catalog.hasAgents) {
      (json.assign?.users ?? []).forEach((ref, i) => {
        const agent = catalog.agent(ref);
        if (!agent) {
          issues.report(doc, ['assign', 'users', i], `unknown user "${ref}" (no contact-center agent has this id or e-mail)`);
          return;
        }
        const team = catalog.teamWithId(agent.teamId);
        if (!team) return;
        const scoped = teamsInScope.get(team.teamId);
        // A team assigned as a whole is checked once, as a team; its users add nothing.
        if (!scoped) teamsInScope.set(team.teamId, { team, viaUsers: [ref] });
        else if (scoped.viaUsers.length > 0) scoped.viaUsers.push(ref);
      });
    }

    if (catalog.codes) {
      const codes = catalog.codes;
      for (const use of unavailableCodes(json)) {
        if (!codes.has(use.code)) {
          issues.report(doc, use.path, () => {
            const close = suggest(use.code, codes);
            return `unknown Unavailable code "${use.code}" (no team has it; ${close ? `did you mean "${close}"?` : `known: ${listForMessage([...codes])}`})`;
          });
          continue;
        }
        if (json.skipUnavailableCodeValidation) continue;
        for (const { team, viaUsers } of teamsInScope.values()) {
          if (catalog.codeEnabled(team, use.code)) continue;
          issues.report(
            doc,
            use.path,
            () => `Unavailable code "${use.code}" is not enabled for team "${team.name}"${ofUsers(viaUsers)} (enabled: ${listForMessage(team.unavailableCodes)})`,
          );
        }
      }
      if (json.skipUnavailableCodeValidation && defaultCode !== undefined && defaultCodeKnown) {
        for (const { team } of teamsInScope.values()) {
          if (catalog.codeEnabled(team, defaultCode)) continue;
          issues.report(
            doc,
            ['skipUnavailableCodeValidation'],
            `DEFAULT_UNAVAILABLE_CODE "${defaultCode}" is not enabled for team "${team.name}": fallback writes for its agents will fail`,
            'warning',
          );
        }
      }
    }
  }
}

function ofUsers(users: string[]): string {
  if (users.length === 0) return '';
  if (users.length === 1) return ` of user "${users[0]}"`;
  return ` of users "${users[0]}" and ${users.length - 1} more`;
}
