import {
  emptyAgentRecord, parseAcdStateKey, pendingWant, type AcdState, type AgentRecord, type InboundChange, type OpenWrite, type Side, type WritePhase,
} from '@presence-sync/domain';
import { validateRuleFiles, type CompiledRule } from '@presence-sync/rules';
import type { ResolvedAgent } from './agent-directory';
import {
  answerWrite, beginWrite, confirmDue, ingest, repairDrift, type CoreSettings, type IngestContext, type WriteAnswer,
} from './agent-transitions';

/*
 * The decision matrix, one row per line. Times are epoch ms; "now" is 100000. The rule is the engine tests'
 * "tiers" rule (Available⇄Available_Chat, Lunch⇄Lunch, Break⇄Break, Unavailable→Busy, Busy/AfterWork→Busy_On_Call,
 * Busy→Unavailable:System, Chat_Done→previous, Offline⇄Offline) with the row's conflictPolicy.
 *
 * Record tokens:
 *   acd=KEY@AT  sf=STATUS@AT      what the side shows; suffixes #SEQ (sequence), ~RECV (received at), !ID (our write)
 *   want:acd=KEY@SRC[/PHASE]      a pending want toward that side decided from a change at SRC (id w-acd / w-sf);
 *                                 with /PHASE its write is open in that phase (begun at SRC+5)
 *   open:acd=KEY/PHASE            an open write whose want has ended (id old-acd / old-sf); * = overtaken, ^ = expired
 *   prev=KEY  settled=KEY  last:acd=AT  last:sf=AT  norule  unlinked
 * Event:  SIDE KEY@AT [#SEQ] [recv=T] [req=ID] [id=ID] [prev=KEY]   or   snap SIDE KEY@AT|undated read=T
 * Expect: OBSERVED/OUTCOME [→SIDE:KEY [+DELAY]]   (→ a new want toward that side, triggered after DELAY ms)
 */
const NOW = 100_000;

const INGEST_TABLE: string[] = [
  // --- plain changes, both directions -----------------------------------------------------------------------------
  'latest | acd=Available@1000 sf=Available_Chat@1000                    | acd Unavailable:Lunch@2000          | recorded/queued →sf:Lunch',
  'latest | acd=Available@1000 sf=Available_Chat@1000                    | sf Lunch@2000                       | recorded/queued →acd:Unavailable:Lunch',
  'latest | acd=Available@1000 sf=Available_Chat@1000                    | acd Unavailable:Break@2000          | recorded/queued →sf:Break',
  'latest | acd=Available@1000 sf=Available_Chat@1000                    | acd Unavailable:Training@2000       | recorded/queued →sf:Busy',
  'latest | acd=Available@1000 sf=Available_Chat@1000                    | acd Unavailable@2000                | recorded/queued →sf:Busy',
  'latest | acd=Available@1000 sf=Available_Chat@1000                    | acd Busy@2000                       | recorded/queued →sf:Busy_On_Call',
  'latest | acd=Busy@1000 sf=Busy_On_Call@1000                           | acd AfterWork@2000                  | recorded/no-change',
  'latest | acd=Available@1000 sf=Available_Chat@1000                    | acd Offline@2000                    | recorded/queued →sf:Offline',
  'latest | acd=Available@1000 sf=Available_Chat@1000                    | sf Offline@2000                     | recorded/queued →acd:Offline',
  'latest | acd=Available@1000 sf=Available_Chat@1000                    | sf Busy@2000                        | recorded/queued →acd:Unavailable:System',
  'latest | acd=Available@1000 sf=Available_Chat@1000                    | sf Training@2000                    | recorded/unmapped',
  'latest | acd=Available@1000 sf=Available_Chat@1000                    | sf Available_All@2000               | recorded/no-change',
  'latest | acd=Available@1000 sf=Lunch@1000                             | acd Unavailable:Lunch@2000          | recorded/no-change',
  'latest | acd=Available@1000 sf=Available_Chat@1000                    | acd Available@2000                  | unchanged/unchanged',
  'latest | acd=Available@1000 sf=Available_Chat@1000                    | sf Available_Chat@3000              | unchanged/unchanged',
  'latest |                                                              | acd Unavailable:Break@2000          | recorded/queued →sf:Break',
  'latest |                                                              | sf Lunch@2000                       | recorded/queued →acd:Unavailable:Lunch',
  'latest | acd=Available@1000 sf=Available_Chat@1000 norule             | acd Unavailable:Lunch@2000          | recorded/no-rule',
  'latest | acd=Available@1000 sf=Available_Chat@1000 unlinked           | acd Unavailable:Lunch@2000          | recorded/unlinked',
  'latest | acd=Available@1000 sf=Available_Chat@1000 unlinked           | sf Lunch@2000                       | recorded/queued →acd:Unavailable:Lunch',
  // --- previous ---------------------------------------------------------------------------------------------------
  'latest | acd=Unavailable:System@1000 sf=Busy@1000 prev=Unavailable:Lunch | sf Chat_Done@2000                 | recorded/queued →acd:Unavailable:Lunch',
  'latest | acd=Unavailable:System@1000 sf=Busy@1000                     | sf Chat_Done@2000                   | recorded/no-previous',
  'latest | acd=Unavailable:System@1000 sf=Busy@1000 prev=Busy           | sf Chat_Done@2000                   | recorded/no-previous',
  'latest | acd=Unavailable:System@1000 sf=Busy@1000 prev=Available      | sf Chat_Done@2000                   | recorded/queued →acd:Available',
  // --- duplicates and staleness -----------------------------------------------------------------------------------
  'latest | acd=Available@1000 sf=Available_Chat@1000                    | acd Unavailable:Lunch@2000 id=o-acd | duplicate/duplicate',
  'latest | acd=Available@1000 sf=Available_Chat@1000                    | sf Lunch@2000 id=o-sf               | duplicate/duplicate',
  'latest | acd=Unavailable:Lunch@5000 sf=Lunch@5000                     | acd Available@4000                  | stale/stale',
  'latest | acd=Unavailable:Lunch@5000 sf=Lunch@5000                     | acd Available@4999                  | stale/stale',
  'latest | acd=Unavailable:Lunch@5000 sf=Lunch@5000                     | acd Available@5000                  | recorded/queued →sf:Available_Chat',
  'latest | acd=Available@5000 sf=Lunch@5000                             | sf Break@4500                       | recorded/queued →acd:Unavailable:Break',
  'latest | acd=Available@5000 sf=Lunch@5000                             | sf Break@4001                       | recorded/queued →acd:Unavailable:Break',
  'latest | acd=Available@5000 sf=Lunch@5000                             | sf Break@4000                       | stale/stale',
  'latest | acd=Unavailable:Lunch@5000#7 sf=Lunch@5000                   | acd Available@4000 #8               | recorded/queued →sf:Available_Chat',
  'latest | acd=Unavailable:Lunch@5000#7 sf=Lunch@5000                   | acd Available@4000 #6               | stale/stale',
  'latest | acd=Unavailable:Lunch@5000#7 sf=Lunch@5000                   | acd Available@5000 #7               | stale/stale',
  'latest | acd=Unavailable:Lunch@5000#9007199254740991 sf=Lunch@5000    | acd Available@6000 #1               | recorded/queued →sf:Available_Chat',
  'latest | acd=Unavailable:Lunch@5000#9007199254740991 sf=Lunch@5000    | acd Available@4000 #1               | stale/stale',
  'latest | acd=Unavailable:Lunch@5000#7 sf=Lunch@5000                   | acd Available@6000                  | recorded/queued →sf:Available_Chat',
  'latest | acd=Unavailable:Lunch@1000 sf=Lunch@1000                     | acd Available@99999999 recv=2000    | recorded/queued →sf:Available_Chat',
  'latest | acd=Unavailable:Lunch@99999999~2000 sf=Lunch@1000            | acd Available@3000                  | stale/stale',
  // --- our writes coming back -------------------------------------------------------------------------------------
  'latest | acd=Unavailable:Lunch@900 sf=Available_Chat@800 want:sf=Lunch@900/sent | sf Lunch@1500            | confirmed/confirmed',
  'latest | acd=Unavailable:Lunch@900 sf=Available_Chat@800 want:sf=Lunch@900/sending | sf Lunch@1500         | confirmed/confirmed',
  'latest | acd=Available@800 sf=Lunch@900 want:acd=Unavailable:Lunch@900/sending | acd Unavailable:Lunch@1500 | confirmed/confirmed',
  'latest | acd=Unavailable:Lunch@900!old-acd sf=Lunch@900 open:acd=Unavailable:Lunch/applied | acd Unavailable:Lunch@1500 | echo/echo',
  'latest | acd=Available@800 sf=Lunch@900 open:acd=Unavailable:Lunch/applied | acd Unavailable:Lunch@1500 req=old-acd | echo/echo',
  'latest | acd=Available@800 sf=Lunch@900 open:acd=Unavailable:Lunch/applied | acd Unavailable:Meal@1500 req=old-acd | echo/echo',
  'latest | acd=Unavailable:Lunch@900!w9 sf=Lunch@900                    | acd Unavailable:Lunch@1500 req=w9   | echo/echo',
  'latest | acd=Available@900 sf=Available_Chat@900                      | acd Unavailable:Lunch@1500 req=w9   | echo/echo',
  'latest | acd=Available@1000 sf=Available_Chat@1000 open:acd=Unavailable:Lunch/applied^ | acd Unavailable:Lunch@1500 | recorded/queued →sf:Lunch',
  'latest | acd=Available@1000 sf=Available_Chat@1000 open:acd=Unavailable:Lunch/applied | acd Unavailable:Break@1500 | recorded/queued →sf:Break',
  'latest | acd=Unavailable:Lunch@1000 sf=Available_Chat@1000 open:sf=Available_Chat/applied | sf Available_Chat@1500 | echo/echo',
  // --- a contact in progress: deferred writes ---------------------------------------------------------------------
  'latest | acd=AfterWork@1200 sf=Lunch@1000 want:acd=Unavailable:Lunch@1000/deferred | acd Unavailable:Lunch@3000 | confirmed/confirmed',
  'latest | acd=Busy@800 sf=Lunch@1000 want:acd=Unavailable:Lunch@1000/deferred | acd AfterWork@2000          | recorded/held',
  'latest | acd=Busy@800 sf=Lunch@1000 want:acd=Unavailable:Lunch@1000/deferred | acd Busy@2000               | unchanged/unchanged',
  'latest | acd=Available@800 sf=Lunch@1000 want:acd=Unavailable:Lunch@1000 | acd Busy@2000                   | recorded/held',
  'latest | acd=Available@800 sf=Lunch@1000 want:acd=Unavailable:Lunch@1000/sending | acd Busy@2000           | recorded/held',
  'salesforce | acd=Available@800 sf=Lunch@1000 want:acd=Unavailable:Lunch@1000 | acd Busy@2000               | recorded/held',
  'acd    | acd=Available@800 sf=Lunch@1000 want:acd=Unavailable:Lunch@1000 | acd Busy@2000                   | recorded/held',
  'latest | acd=AfterWork@1200 sf=Lunch@1000 open:acd=Unavailable:Lunch/deferred | acd Busy@3000             | recorded/held',
  'latest | acd=AfterWork@1200 sf=Lunch@1000 want:acd=Unavailable:Lunch@1000/deferred | acd Available@3000  | recorded/queued →sf:Available_Chat',
  'latest | acd=AfterWork@1200 sf=Lunch@1000 want:acd=Unavailable:Lunch@1000/deferred | acd Unavailable:Break@3000 | recorded/queued →sf:Break',
  'acd    | acd=AfterWork@1200 sf=Lunch@1000 want:acd=Unavailable:Lunch@1000/deferred | acd Available@3000  | recorded/queued →sf:Available_Chat',
  'latest | acd=Available@1000 sf=Available_Chat@1000                    | acd Busy@2000                       | recorded/queued →sf:Busy_On_Call',
  'latest | acd=Busy@1000 sf=Busy_On_Call@1000                           | acd Available@2000                  | recorded/queued →sf:Available_Chat',
  // --- both sides at once: a change of the side a write is pending toward -----------------------------------------
  'latest | acd=Available@1000 sf=Lunch@2000 want:acd=Unavailable:Lunch@2000/sending | acd Unavailable:Break@3000 | recorded/queued →sf:Break',
  'latest | acd=Available@1000 sf=Lunch@2000 want:acd=Unavailable:Lunch@2000/sending | acd Unavailable:Break@1500 | recorded/conflict',
  'latest | acd=Available@1000 sf=Lunch@2000 want:acd=Unavailable:Lunch@2000/sending | acd Unavailable:Break@2000 | recorded/queued →sf:Break',
  'latest | acd=Available@1000 sf=Lunch@2000 want:acd=Unavailable:Lunch@2000 | acd Unavailable:Break@3000    | recorded/queued →sf:Break',
  'latest | acd=Available@1000 sf=Lunch@2000 want:acd=Unavailable:Lunch@2000 | acd Unavailable:Break@1500    | recorded/conflict',
  'acd    | acd=Available@1000 sf=Lunch@2000 want:acd=Unavailable:Lunch@2000/sending | acd Unavailable:Break@1500 | recorded/queued →sf:Break',
  'acd    | acd=Available@1000 sf=Lunch@2000 want:acd=Unavailable:Lunch@2000/sending | acd Unavailable:Break@3000 | recorded/queued →sf:Break',
  'salesforce | acd=Available@1000 sf=Lunch@2000 want:acd=Unavailable:Lunch@2000/sending | acd Unavailable:Break@3000 | recorded/conflict',
  'salesforce | acd=Available@1000 sf=Lunch@2000 want:acd=Unavailable:Lunch@2000/sending | acd Unavailable:Break@1500 | recorded/conflict',
  'salesforce | acd=Available@1000 sf=Lunch@2000 want:acd=Unavailable:Lunch@2000 | acd Unavailable:Break@3000 | recorded/conflict',
  'latest | acd=Unavailable:Lunch@2000 sf=Available_Chat@1000 want:sf=Lunch@2000/sent | sf Break@3000        | recorded/queued →acd:Unavailable:Break',
  'latest | acd=Unavailable:Lunch@2000 sf=Available_Chat@1000 want:sf=Lunch@2000/sent | sf Break@1500        | recorded/queued →acd:Unavailable:Break',
  'latest | acd=Unavailable:Lunch@2000 sf=Available_Chat@1000 want:sf=Lunch@2000/sent | sf Break@1001        | recorded/queued →acd:Unavailable:Break',
  'latest | acd=Unavailable:Lunch@2000 sf=Available_Chat@500 want:sf=Lunch@2000/sent | sf Break@1000         | recorded/conflict',
  'latest | acd=Unavailable:Lunch@2000 sf=Available_Chat@500 want:sf=Lunch@2000 | sf Break@900               | recorded/conflict',
  'latest | acd=Unavailable:Lunch@2000 sf=Available_Chat@1000 want:sf=Lunch@2000 | sf Break@3000             | recorded/queued →acd:Unavailable:Break',
  'acd    | acd=Unavailable:Lunch@2000 sf=Available_Chat@1000 want:sf=Lunch@2000/sent | sf Break@3000        | recorded/conflict',
  'acd    | acd=Unavailable:Lunch@2000 sf=Available_Chat@500 want:sf=Lunch@2000/sent | sf Break@900          | recorded/conflict',
  'salesforce | acd=Unavailable:Lunch@2000 sf=Available_Chat@500 want:sf=Lunch@2000/sent | sf Break@900      | recorded/queued →acd:Unavailable:Break',
  'salesforce | acd=Unavailable:Lunch@2000 sf=Available_Chat@1000 want:sf=Lunch@2000/sent | sf Break@3000    | recorded/queued →acd:Unavailable:Break',
  // --- a write of ours landing after a real change overtook it ----------------------------------------------------
  'latest | acd=Unavailable:Break@3000 sf=Break@3000 open:sf=Lunch/sent*  | sf Lunch@4000                      | late-landing/superseded →sf:Break',
  'latest | acd=Unavailable:Break@3000 sf=Break@3000 open:acd=Unavailable:Lunch/sending* | acd Unavailable:Lunch@4000 | late-landing/superseded →acd:Unavailable:Break',
  'latest | acd=AfterWork@3000 sf=Busy_On_Call@3000 open:acd=Unavailable:Lunch/sending* | acd Unavailable:Lunch@4000 | recorded/queued →sf:Lunch',
  'latest | acd=Unavailable:Break@3000 sf=Break@3000 open:sf=Lunch/sent   | sf Lunch@4000                      | echo/echo',
  'latest | acd=Unavailable:Break@3000 sf=Break@3000 open:sf=Lunch/sent* want:sf=Available_Chat@3500/sent | sf Lunch@4000 | echo/echo',
  // --- what the other side already shows or is about to ----------------------------------------------------------
  'latest | acd=Unavailable:Break@1500 sf=Available_Chat@1000 want:sf=Break@1500 | acd Unavailable:Lunch@2000  | recorded/queued →sf:Lunch',
  'latest | acd=Unavailable:Break@1600 sf=Available_Chat@1000 want:sf=Lunch@1500 | acd Unavailable:Lunch@2000  | recorded/no-change',
  'latest | acd=Unavailable:Break@1500 sf=Lunch@1000 want:sf=Break@1500/sent | acd Unavailable:Lunch@2000      | recorded/queued →sf:Lunch',
  'latest | acd=Unavailable:Lunch@1000 sf=Break@1000 open:acd=Unavailable:Break/sending | sf Lunch@2000         | recorded/queued →acd:Unavailable:Lunch',
  'latest | acd=Unavailable:Lunch@1000 sf=Break@1000 open:acd=Unavailable:Break/applied | sf Lunch@2000         | recorded/no-change',
  'latest | acd=Available@1000 sf=Available_Chat@1000 last:sf=99900        | acd Unavailable:Lunch@2000         | recorded/queued →sf:Lunch +200',
  'latest | acd=Available@1000 sf=Available_Chat@1000 last:sf=90000        | acd Unavailable:Lunch@2000         | recorded/queued →sf:Lunch +0',
  'latest | acd=Available@1000 sf=Available_Chat@1000 last:acd=99990       | sf Lunch@2000                      | recorded/queued →acd:Unavailable:Lunch +290',
  // --- drift repair's snapshots -----------------------------------------------------------------------------------
  'latest | acd=Unavailable:Lunch@1000 sf=Lunch@1000                      | snap sf Offline@undated read=50000 | recorded/queued →acd:Offline',
  'latest | acd=Available@5000 sf=Offline@1000                            | snap sf Offline@undated read=50000 | unchanged/unchanged',
  'latest | acd=Unavailable:Lunch@1000~60000 sf=Lunch@1000                | snap acd Available@900 read=50000  | stale/stale',
  'latest | acd=Unavailable:Lunch@5000~6000 sf=Lunch@1000                 | snap acd Available@900 read=50000  | recorded/queued →sf:Available_Chat',
  'latest | acd=Unavailable:Lunch@99999999~2000 sf=Lunch@1000             | snap acd Available@3000 read=50000 | recorded/queued →sf:Available_Chat',
  'latest | acd=Unavailable:Lunch@900 sf=Available_Chat@800 want:sf=Lunch@900/sent | snap sf Lunch@1500 read=50000 | confirmed/confirmed',
  'latest | acd=Available@1000 sf=Lunch@1000                              | snap acd Available@1000 read=50000 | unchanged/unchanged',
  'latest | acd=Unavailable:Lunch@1000 sf=Lunch@900 last:acd=60000        | snap acd Available@900 read=50000  | stale/stale',
  'latest |                                                               | snap acd Available@1000 read=50000 | recorded/first-sight',
  'latest | acd=Available@1000                                            | snap sf Lunch@undated read=50000   | recorded/first-sight',
];

// --- the table's little language -------------------------------------------------------------------------------

const tiers = (policy: string): CompiledRule => {
  const text = JSON.stringify({
    name: 'tiers', conflictPolicy: policy, assign: { teams: ['Tier 1'] },
    publisher: [
      { acd: { state: 'Available' }, salesforce: 'Available_Chat' },
      { acd: { state: 'Unavailable', code: 'Lunch' }, salesforce: 'Lunch' },
      { acd: { state: 'Unavailable', code: 'Break' }, salesforce: 'Break' },
      { acd: { state: 'Unavailable' }, salesforce: 'Busy' },
      { acd: { state: 'Busy' }, salesforce: 'Busy_On_Call' },
      { acd: { state: 'AfterWork' }, salesforce: 'Busy_On_Call' },
      { acd: { state: 'Offline' }, salesforce: 'Offline' },
    ],
    subscriber: [
      { salesforce: 'Available_Chat', acd: { state: 'Available' } },
      { salesforce: 'Available_All', acd: { state: 'Available' } },
      { salesforce: 'Lunch', acd: { state: 'Unavailable', code: 'Lunch' } },
      { salesforce: 'Break', acd: { state: 'Unavailable', code: 'Break' } },
      { salesforce: 'Busy', acd: { state: 'Unavailable', code: 'System' } },
      { salesforce: 'Chat_Done', acd: { previous: true } },
      { salesforce: 'Offline', acd: { state: 'Offline' } },
    ],
  });
  const result = validateRuleFiles([{ file: 'tiers.json', text }]);
  if (!result.ruleSet) throw new Error(JSON.stringify(result.errors));
  return result.ruleSet.rules[0];
};
const RULES: Record<string, CompiledRule> = { latest: tiers('latest'), acd: tiers('acd'), salesforce: tiers('salesforce') };

const SETTINGS: CoreSettings = { echoWindowMs: 600_000, deferredWindowMs: 8 * 3_600_000, burstWindowMs: 300, confirmTimeoutMs: 15_000, confirmAttempts: 3 };
const AGENT: ResolvedAgent = { agentId: 'a-1', salesforceUserId: '005A', teamId: 't1', teamName: 'Tier 1' };

const sideOf = (name: string): Side => (name === 'sf' ? 'salesforce' : 'acd');
const acd = (key: string): AcdState => {
  const s = parseAcdStateKey(key);
  if (!s) throw new Error(`bad ACD state ${key}`);
  return s;
};
const valueFor = (side: Side, key: string) => (side === 'acd' ? acd(key) : key);

interface Setup { record: AgentRecord; rule?: CompiledRule; agent: ResolvedAgent }

function parseSetup(policy: string, text: string): Setup {
  const record = emptyAgentRecord();
  let rule: CompiledRule | undefined = RULES[policy];
  let agent = AGENT;
  for (const token of text.split(/\s+/).filter(Boolean)) {
    let m: RegExpExecArray | null;
    if ((m = /^(acd|sf)=([^@]+)@(\d+)(?:#(\d+))?(?:~(\d+))?(?:!(\S+))?$/.exec(token))) {
      const side = sideOf(m[1]);
      record[side].obs = {
        value: valueFor(side, m[2]), key: m[2], at: Number(m[3]), receivedAt: m[5] ? Number(m[5]) : Number(m[3]), eventId: `o-${m[1]}`,
        ...(m[4] ? { seq: Number(m[4]) } : {}), ...(m[6] ? { byWrite: m[6] } : {}),
      };
      if (side === 'acd' && ['Available', 'Unavailable', 'Offline'].includes(acd(m[2]).state)) record.settledAcd = acd(m[2]);
    } else if ((m = /^want:(acd|sf)=([^@]+)@(\d+)(?:\/(\w+))?$/.exec(token))) {
      const side = sideOf(m[1]);
      record.ver += 1;
      const writeId = `w-${m[1]}`;
      record[side].want = {
        value: valueFor(side, m[2]), key: m[2], version: record.ver, writeId, sourceSide: side === 'acd' ? 'salesforce' : 'acd',
        sourceEventId: 'src', sourceAt: Number(m[3]), receivedAt: Number(m[3]), rule: 'tiers', reason: 'sync',
      };
      if (m[4]) record[side].writes.push(openWrite(side, m[2], writeId, record.ver, m[4] as WritePhase, Number(m[3]) + 5));
    } else if ((m = /^open:(acd|sf)=([^/]+)\/(\w+)([*^]?)$/.exec(token))) {
      const side = sideOf(m[1]);
      const n = record[side].writes.filter((x) => x.writeId.startsWith('old-')).length;
      const w = openWrite(side, m[2], `old-${m[1]}${n ? n + 1 : ''}`, 0, m[3] as WritePhase, 500);
      if (m[4] === '*') w.overtaken = true;
      if (m[4] === '^') w.until = NOW - 1;
      record[side].writes.unshift(w);
    } else if ((m = /^prev=(\S+)$/.exec(token))) record.prevAcd = { state: acd(m[1]), writeId: 'p' };
    else if ((m = /^settled=(\S+)$/.exec(token))) record.settledAcd = acd(m[1]);
    else if ((m = /^last:(acd|sf)=(\d+)$/.exec(token))) record[sideOf(m[1])].lastWriteAt = Number(m[2]);
    else if (token === 'norule') rule = undefined;
    else if (token === 'unlinked') agent = { ...AGENT, salesforceUserId: undefined };
    else throw new Error(`unknown setup token ${token}`);
  }
  return { record, rule, agent };
}

function openWrite(side: Side, key: string, writeId: string, version: number, phase: WritePhase, at: number): OpenWrite {
  return {
    writeId, key, value: valueFor(side, key), version, phase, at, until: NOW + 600_000,
    ...(side === 'salesforce' ? { send: 1, deadline: NOW + 15_000 } : {}),
  };
}

function parseEvent(text: string): { change: InboundChange; snapshot?: IngestContext['snapshot'] } {
  const words = text.split(/\s+/).filter(Boolean);
  const snap = words[0] === 'snap';
  if (snap) words.shift();
  const side = sideOf(words[0]);
  const m = /^([^@]+)@(\d+|undated)$/.exec(words[1]);
  if (!m) throw new Error(`bad event ${text}`);
  const opts = Object.fromEntries(words.slice(2).map((w) => (w.startsWith('#') ? ['seq', w.slice(1)] : w.split('='))));
  const at = m[2] === 'undated' ? 0 : Number(m[2]);
  const receivedAt = opts.recv ? Number(opts.recv) : Math.min(Math.max(at, 1), NOW);
  const eventId = opts.id ?? 'e-new';
  const change: InboundChange = side === 'acd'
    ? { side, eventId, agentId: AGENT.agentId, occurredAt: at, receivedAt, state: acd(m[1]), ...(opts.seq ? { sequence: Number(opts.seq) } : {}), ...(opts.req ? { requestId: opts.req } : {}), ...(opts.prev ? { previous: acd(opts.prev) } : {}) }
    : { side, eventId, userId: AGENT.salesforceUserId as string, occurredAt: at, receivedAt, status: m[1] };
  return { change, snapshot: snap ? { readAt: Number(opts.read), undated: m[2] === 'undated' } : undefined };
}

describe(`${ingest.name}: the decision table (${INGEST_TABLE.length} rows)`, () => {
  it.each(INGEST_TABLE)('%s', (row) => {
    const [policy, setupText, eventText, expectText] = row.split('|').map((s) => s.trim());
    const { record, rule, agent } = parseSetup(policy, setupText);
    const { change, snapshot } = parseEvent(eventText);
    const t = ingest(record, change, { now: NOW, agent, rule, settings: SETTINGS, newWriteId: () => 'w-new', snapshot });

    const [verdict, wantText, delayText] = expectText.split(/\s+/);
    expect(`${t.verdict.observed}/${t.verdict.outcome}`).toBe(verdict);
    const wanted = (['acd', 'salesforce'] as const).filter((s) => t.record[s].want?.writeId === 'w-new');
    if (wantText) {
      const [, sideName, key] = /^→(acd|sf):(.+)$/.exec(wantText) ?? [];
      const side = sideOf(sideName);
      expect(wanted).toEqual([side]);
      expect(pendingWant(t.record[side])?.key).toBe(key);
      const trigger = t.effects.find((e) => e.kind === 'trigger' && e.target === side);
      expect(trigger).toBeDefined();
      if (delayText) expect(trigger).toMatchObject({ delayMs: Number(delayText.slice(1)) });
    } else {
      expect(wanted).toEqual([]);
      // Without a new want, a trigger only nudges a want already pending toward that side.
      for (const e of t.effects) if (e.kind === 'trigger') expect(pendingWant(t.record[e.target])).toBeDefined();
    }
    // Whatever happened, the record says what the reporting side now shows (unless the report was dropped).
    if (['recorded', 'echo', 'confirmed', 'late-landing'].includes(t.verdict.observed)) expect(t.record[change.side].obs?.eventId).toBe(change.eventId);
    if (['stale', 'duplicate'].includes(t.verdict.observed)) expect(t.record).toEqual(record);
    // No path ever wants a state the contact center only reports.
    const towardAcd = pendingWant(t.record.acd);
    if (towardAcd) expect(['Available', 'Unavailable', 'Offline']).toContain((towardAcd.value as AcdState).state);
    // Every decision leaves an audit record, except a repeat of what was known.
    if (!['unchanged', 'duplicate'].includes(t.verdict.observed) && !(snapshot && ['no-change', 'first-sight'].includes(t.verdict.outcome))) expect(t.audit.length).toBeGreaterThan(0);
  });
});

/*
 * Writes: begin (is one needed?), the vendor's answer, the confirmation deadline, and drift repair.
 * Columns: setup (as above) | step | expected verdict | expected facts about the record afterwards.
 */
const WRITE_TABLE: string[] = [
  'acd=Available@1000 sf=Lunch@1000                                      | begin acd            | nothing   | -',
  'acd=Unavailable:Lunch@1000 sf=Lunch@1000 want:acd=Unavailable:Lunch@900 | begin acd          | already   | done',
  'acd=Unavailable:Lunch@1000 sf=Lunch@1000 want:acd=Unavailable:Lunch@900 open:acd=Available/sending | begin acd | write | open=sending prev=Unavailable:Lunch',
  'acd=Available@1000 sf=Lunch@1000 want:acd=Unavailable:Lunch@900       | begin acd            | write     | open=sending prev=Available',
  'acd=Busy@1000 sf=Lunch@1000 settled=Unavailable:Break want:acd=Unavailable:Lunch@900 | begin acd | write | open=sending prev=Unavailable:Break',
  'acd=AfterWork@1000 sf=Lunch@1000 settled=Available want:acd=Unavailable:Lunch@900 | begin acd | write  | open=sending prev=Available',
  'acd=Available@1000 sf=Lunch@1000 want:acd=Unavailable:Lunch@900/deferred | begin acd         | waiting-contact | pending',
  'acd=Available@1000 sf=Lunch@1000 want:acd=Unavailable:Lunch@900/sending | begin acd          | write     | open=sending',
  'acd=Available@1000 sf=Lunch@1000 want:acd=Unavailable:Lunch@900 last:acd=99900 | begin acd   | wait      | pending',
  'acd=Available@1000 sf=Lunch@1000 want:acd=Busy@900                    | begin acd            | refused   | done',
  'acd=Unavailable:Lunch@1000 sf=Available_Chat@1000 want:sf=Lunch@900/sent | begin salesforce     | await-confirm | pending',
  'acd=Unavailable:Lunch@1000 sf=Available_Chat@1000 want:sf=Lunch@900   | begin salesforce     | write     | open=sending',
  'acd=Available@1000 sf=Lunch@1000 want:acd=Unavailable:Lunch@1500/sending | answer acd applied | applied  | done obs=Unavailable:Lunch',
  'acd=Available@1000~99000 sf=Lunch@1000 want:acd=Unavailable:Lunch@900/sending | answer acd applied | applied | done obs=Available',
  'acd=Unavailable:Break@1000~99000!w-old sf=Lunch@1000 want:acd=Unavailable:Lunch@900/sending | answer acd applied | applied | done obs=Unavailable:Lunch',
  'acd=Busy@1000 sf=Lunch@1000 want:acd=Unavailable:Lunch@900/sending    | answer acd deferred  | deferred  | pending open=deferred',
  'acd=Available@1000 sf=Lunch@1000 want:acd=Unavailable:Lunch@900/sending | answer acd failed  | failed    | done no-open',
  'acd=Available@1000 sf=Lunch@1000 want:acd=Unavailable:Lunch@900/sending | answer acd retrying | retrying | pending open=sending',
  'acd=Unavailable:Lunch@1000 sf=Available_Chat@1000 want:sf=Lunch@900/sending | answer salesforce sent | sent | pending open=sent',
  'acd=Unavailable:Lunch@1000 sf=Lunch@1000                               | answer salesforce sent | sent  | no-open',
  'acd=Unavailable:Lunch@1000 sf=Available_Chat@1000 want:sf=Lunch@900/sending | answer salesforce console-closed | console-closed | pending no-open',
  'acd=Unavailable:Lunch@1000 sf=Lunch@1000 want:sf=Lunch@900/sent       | confirm              | confirmed | done no-open',
  'acd=Unavailable:Lunch@1000 sf=Available_Chat@1000 want:sf=Lunch@900/sent | confirm           | resend    | pending open=sending',
  'acd=Unavailable:Lunch@1000 sf=Available_Chat@1000 want:sf=Break@900   | confirm              | nothing   | pending',
  'acd=Available@5000 sf=Lunch@1000                                      | repair               | repaired  | want=sf:Available_Chat',
  'acd=Available@1000 sf=Lunch@5000                                      | repair               | repaired  | want=acd:Unavailable:Lunch',
  'acd=Available@1500~3000 sf=Lunch@1000~2000                            | repair               | repaired  | want=sf:Available_Chat',
  'acd=Available@1500~2000 sf=Lunch@1000~3000                            | repair               | repaired  | want=acd:Unavailable:Lunch',
  'acd=Available@1000 sf=Available_All@5000                              | repair               | in-step   | -',
  'acd=Available@1000 sf=Lunch@5000 want:acd=Unavailable:Lunch@900/deferred | repair            | busy      | -',
  'acd=Unavailable:System@1000 sf=Chat_Done@5000 prev=Available          | repair               | cannot    | -',
  'acd=Available@1000                                                    | repair               | unknown   | -',
  'acd=Available@1000 sf=Lunch@5000 open:sf=Available_Chat/sent^         | repair               | repaired  | want=acd:Unavailable:Lunch',
  'acd=Available@1000 sf=Lunch@5000 open:sf=Available_Chat/sent          | repair               | busy      | -',
];

function runStep(record: AgentRecord, step: string) {
  const [verb, sideName, answer] = step.split(/\s+/);
  const ctx = { now: NOW, agentId: AGENT.agentId, settings: SETTINGS };
  const side = sideName as Side;
  switch (verb) {
    case 'begin': {
      const t = beginWrite(record, side, ctx);
      return { verdict: t.verdict.kind, record: t.record };
    }
    case 'answer': {
      const writeId = side === 'acd' ? 'w-acd' : 'w-sf';
      const a: WriteAnswer = answer === 'sent' ? { kind: 'sent', send: 1 } : answer === 'console-closed' ? { kind: 'console-closed', detail: 'closed', recheckMs: 300_000 }
        : answer === 'failed' || answer === 'retrying' || answer === 'rate-limited'
        ? { kind: answer, detail: 'x' } : { kind: answer as 'applied' | 'deferred' };
      const t = answerWrite(record, side, writeId, a, ctx);
      return { verdict: t.verdict, record: t.record };
    }
    case 'confirm': {
      const t = confirmDue(record, 'w-sf', 1, ctx);
      return { verdict: t.verdict, record: t.record };
    }
    default: {
      const t = repairDrift(record, { now: NOW, agent: AGENT, rule: RULES.latest, settings: SETTINGS, runId: 'r', newWriteId: () => 'w-new' });
      return { verdict: t.verdict, record: t.record };
    }
  }
}

describe('beginWrite / answerWrite / confirmDue / repairDrift: the write table', () => {
  it.each(WRITE_TABLE)('%s', (row) => {
    const [setupText, step, verdict, facts] = row.split('|').map((s) => s.trim());
    const { record } = parseSetup('latest', setupText);
    const side: Side = / (acd|salesforce)/.exec(step)?.[1] as Side ?? (step === 'confirm' ? 'salesforce' : 'acd');
    const out = runStep(record, step);
    expect(out.verdict).toBe(verdict);
    const s = out.record[side];
    for (const fact of facts.split(/\s+/).filter((f) => f !== '-')) {
      const [name, value] = fact.split('=');
      if (name === 'done') expect(pendingWant(s)).toBeUndefined();
      else if (name === 'pending') expect(pendingWant(s)).toBeDefined();
      else if (name === 'open') expect(s.writes.find((w) => w.writeId === s.want?.writeId)?.phase).toBe(value);
      else if (name === 'no-open') expect(s.writes.find((w) => w.writeId === s.want?.writeId)).toBeUndefined();
      else if (name === 'prev') expect(out.record.prevAcd?.state).toEqual(acd(value));
      else if (name === 'obs') expect(s.obs?.key).toBe(value);
      else if (name === 'want') {
        const [t, key] = [value.slice(0, value.indexOf(':')), value.slice(value.indexOf(':') + 1)];
        expect(pendingWant(out.record[sideOf(t)])).toMatchObject({ key, writeId: 'w-new', reason: 'reconcile' });
      } else throw new Error(`unknown fact ${fact}`);
    }
    // No want toward the contact center is ever a contact state, and no write is left pending with nothing to end it.
    const towardAcd = pendingWant(out.record.acd);
    if (towardAcd && verdict !== 'refused') expect(['Available', 'Unavailable', 'Offline']).toContain((towardAcd.value as AcdState).state);
  });
});

describe('ingest: Omni-Channel work (workload rows)', () => {
  const blended = (): CompiledRule => {
    const base = RULES.latest;
    const text = JSON.stringify({
      name: 'blended', assign: { teams: ['Tier 1'] },
      publisher: base.publisher.map((r) => ({ acd: r.acd, salesforce: r.salesforce })),
      subscriber: base.subscriber.map((r) => ({ salesforce: r.salesforce, acd: r.acd })),
      workload: [
        { channel: 'sfdc_liveagent', atCapacity: true, acd: { state: 'Unavailable', code: 'Full' } },
        { channel: 'sfdc_liveagent', acd: { state: 'Unavailable', code: 'Chat' } },
      ],
    });
    const result = validateRuleFiles([{ file: 'blended.json', text }]);
    if (!result.ruleSet) throw new Error(JSON.stringify(result.errors));
    return result.ruleSet.rules[0];
  };
  const rule = blended();
  let n = 0;
  const ctx = (): IngestContext => ({ now: NOW, agent: AGENT, rule, settings: SETTINGS, newWriteId: () => `w-${++n}` });
  const work = (status: string, at: number, chats: number, load = chats, capacity = 3): InboundChange => ({
    side: 'salesforce', eventId: `s-${at}`, userId: '005A', occurredAt: at, receivedAt: at, status,
    workload: { channels: chats > 0 ? { sfdc_liveagent: chats } : {}, load, capacity },
  });
  const wantAcd = (record: AgentRecord) => pendingWant(record.acd)?.key;

  it('open chat work replaces Available with the row\'s state, and the state from before comes back when the work drops', () => {
    const { record } = parseSetup('latest', 'acd=Available@1000 sf=Available_Chat@1000');
    const busy = ingest(record, work('Available_Chat', 2000, 1), ctx());
    expect(busy.verdict).toEqual({ observed: 'unchanged', outcome: 'queued' });
    expect(wantAcd(busy.record)).toBe('Unavailable:Chat');
    expect(busy.record.workOverlay).toMatchObject({ row: 'workload[1]', key: 'Unavailable:Chat', restore: { state: 'Available' } });
    expect(busy.effects).toEqual([{ kind: 'trigger', target: 'acd', delayMs: 0 }]);
    // At capacity the first row (more specific, listed first) takes over.
    const full = ingest(busy.record, work('Available_Chat', 3000, 3), ctx());
    expect(wantAcd(full.record)).toBe('Unavailable:Full');
    const done = ingest(full.record, work('Available_Chat', 4000, 0), ctx());
    expect(done.verdict.outcome).toBe('queued');
    expect(wantAcd(done.record)).toBe('Available');
    expect(done.record.workOverlay).toBeUndefined();
    expect(done.audit.at(-1)?.detail).toMatch(/work dropped.*Available is set back/);
  });

  it('work changes nothing for an agent who is not Available on the contact center', () => {
    const { record } = parseSetup('latest', 'acd=Unavailable:Lunch@1000 sf=Lunch@1000');
    const t = ingest(record, work('Lunch', 2000, 1), ctx());
    expect(t.verdict.outcome).toBe('no-change');
    expect(t.audit.at(-1)?.detail).toMatch(/not Available: nothing to replace/);
    expect(wantAcd(t.record)).toBeUndefined();
    expect(t.record.work).toMatchObject({ channels: { sfdc_liveagent: 1 }, at: 2000 });
  });

  it('a status that maps to Available while work is open sets the row\'s state instead', () => {
    const { record } = parseSetup('latest', 'acd=Unavailable:Lunch@1000 sf=Lunch@1000');
    const t = ingest(record, work('Available_Chat', 2000, 1), ctx());
    expect(t.verdict).toEqual({ observed: 'recorded', outcome: 'queued' });
    expect(wantAcd(t.record)).toBe('Unavailable:Chat');
    expect(t.record.workOverlay?.restore).toEqual({ state: 'Available' });
  });

  it('the agent\'s own choice during the work stands: no restore when the work drops', () => {
    const { record } = parseSetup('latest', 'acd=Available@1000 sf=Available_Chat@1000');
    const busy = ingest(record, work('Available_Chat', 2000, 1), ctx());
    const lunch = ingest(busy.record, work('Lunch', 3000, 1), ctx());
    expect(wantAcd(lunch.record)).toBe('Unavailable:Lunch');
    expect(lunch.record.workOverlay).toBeUndefined();
    const done = ingest(lunch.record, work('Lunch', 4000, 0), ctx());
    expect(done.verdict.outcome).toBe('unchanged');
    expect(wantAcd(done.record)).toBe('Unavailable:Lunch');
  });

  it('the work dropping after the contact center moved on leaves the contact center alone', () => {
    const { record } = parseSetup('latest', 'acd=Available@1000 sf=Available_Chat@1000');
    const busy = ingest(record, work('Available_Chat', 2000, 1), ctx());
    const moved = { ...busy.record, acd: { ...busy.record.acd, want: undefined, writes: [], done: busy.record.ver, obs: { value: { state: 'Offline' }, key: 'Offline', at: 2500, receivedAt: 2500, eventId: 'x' } } } as AgentRecord;
    const done = ingest(moved, work('Available_Chat', 4000, 0), ctx());
    expect(done.verdict.outcome).toBe('no-change');
    expect(done.record.workOverlay).toBeUndefined();
    expect(wantAcd(done.record)).toBeUndefined();
  });

  it('an older read of the work is ignored, and drift repair sees the overlay as in step', () => {
    const { record } = parseSetup('latest', 'acd=Available@1000 sf=Available_Chat@1000');
    const busy = ingest(record, work('Available_Chat', 3000, 1), ctx());
    const old = ingest(busy.record, { ...work('Available_Chat', 2000, 0), eventId: 's-old' }, ctx());
    expect(old.record.work?.at).toBe(3000);
    expect(wantAcd(old.record)).toBe('Unavailable:Chat');
    const settled = { ...busy.record, acd: { ...busy.record.acd, want: undefined, writes: [], done: busy.record.ver, obs: { value: { state: 'Unavailable', code: 'Chat' }, key: 'Unavailable:Chat', at: 3500, receivedAt: 3500, eventId: 'y' } } } as AgentRecord;
    const repair = repairDrift(settled, { now: NOW, agent: AGENT, rule, settings: SETTINGS, runId: 'r', newWriteId: () => 'w' });
    expect(repair.verdict).toBe('in-step');
  });

  it('a rule without a workload table records the work and decides nothing from it', () => {
    const { record } = parseSetup('latest', 'acd=Available@1000 sf=Available_Chat@1000');
    const t = ingest(record, work('Available_Chat', 2000, 2), { ...ctx(), rule: RULES.latest });
    expect(t.verdict.outcome).toBe('unchanged');
    expect(pendingWant(t.record.acd)).toBeUndefined();
  });
});

describe('ingest: sequences of reports', () => {
  const ctx = (rule = RULES.latest): IngestContext => ({ now: NOW, agent: AGENT, rule, settings: SETTINGS, newWriteId: () => `w-${Math.random()}` });
  const acdChange = (key: string, at: number, eventId: string, extra: Partial<InboundChange> = {}): InboundChange =>
    ({ side: 'acd', eventId, agentId: 'a-1', occurredAt: at, receivedAt: at, state: acd(key), ...extra } as InboundChange);

  it('a contact center that queues no next state: the engine holds the write during the contact and sends it when the contact ends', () => {
    const settings: CoreSettings = { ...SETTINGS, acdRefusesOnContact: true };
    const writeCtx = { now: NOW, agentId: AGENT.agentId, settings };
    const { record } = parseSetup('latest', 'acd=Busy@1000 sf=Lunch@2000 want:acd=Unavailable:Lunch@2000');
    const begun = beginWrite(record, 'acd', writeCtx);
    expect(begun.verdict).toEqual({ kind: 'waiting-contact' });
    expect(begun.record.acd.writes).toMatchObject([{ writeId: 'w-acd', phase: 'deferred', held: true }]);
    expect(begun.audit).toMatchObject([{ outcome: 'deferred', writeId: 'w-acd' }]);
    // Still on the contact: asking again changes nothing.
    expect(beginWrite(begun.record, 'acd', writeCtx).verdict).toEqual({ kind: 'waiting-contact' });
    // Wrap-up is still a contact state: the write stays held.
    const wrap = ingest(begun.record, acdChange('AfterWork', 3000, 'e1'), { ...ctx(), settings });
    expect(wrap.verdict.outcome).toBe('held');
    expect(wrap.record.acd.writes).toMatchObject([{ held: true }]);
    // The contact center puts the agent back to Available after the contact: not the agent's choice, so it is not
    // synced to Salesforce, and the held write goes out now.
    const ended = ingest(wrap.record, acdChange('Available', 4000, 'e2'), { ...ctx(), settings });
    expect(ended.verdict).toEqual({ observed: 'recorded', outcome: 'held' });
    expect(ended.effects).toEqual([{ kind: 'trigger', target: 'acd', delayMs: 0 }]);
    expect(ended.record.acd.writes).toEqual([]);
    expect(pendingWant(ended.record.salesforce)).toBeUndefined();
    const sent = beginWrite(ended.record, 'acd', writeCtx);
    expect(sent.verdict).toMatchObject({ kind: 'write', want: { key: 'Unavailable:Lunch' } });
  });

  it('a write the contact center refused because the agent was on a contact is held, not failed', () => {
    const { record } = parseSetup('latest', 'acd=Available@1000 sf=Lunch@2000 want:acd=Unavailable:Lunch@2000/sending');
    const t = answerWrite(record, 'acd', 'w-acd', { kind: 'deferred', held: true }, { now: NOW, agentId: AGENT.agentId, settings: SETTINGS });
    expect(t.record.acd.writes).toMatchObject([{ writeId: 'w-acd', phase: 'deferred', held: true }]);
    expect(pendingWant(t.record.acd)).toBeDefined();
    expect(t.audit[0].detail).toMatch(/sent again when the contact ends/);
  });

  it('a vendor that queues the next state: the contact end without our state means the agent chose, and the deferred write ends', () => {
    const { record } = parseSetup('latest', 'acd=Busy@1000 sf=Lunch@2000 want:acd=Unavailable:Lunch@2000/deferred');
    const t = ingest(record, acdChange('Available', 4000, 'e2'), ctx());
    expect(t.record.acd.writes).toEqual([]);
    expect(t.verdict.outcome).not.toBe('held');
  });

  it('an echo matches at most one report: the same state again after it is the agent, not us', () => {
    const { record } = parseSetup('latest', 'acd=Available@1000 sf=Lunch@1000 open:acd=Unavailable:Lunch/applied');
    const first = ingest(record, acdChange('Unavailable:Lunch', 2000, 'e1'), ctx());
    expect(first.verdict.observed).toBe('echo');
    const away = ingest(first.record, acdChange('Available', 3000, 'e2'), ctx());
    expect(away.verdict).toEqual({ observed: 'recorded', outcome: 'queued' });
    const back = ingest(away.record, acdChange('Unavailable:Lunch', 4000, 'e3'), ctx());
    expect(back.verdict).toEqual({ observed: 'recorded', outcome: 'queued' });
  });

  it('writes are reported in order: a report of the second write closes the first', () => {
    const { record } = parseSetup('latest', 'acd=Available@1000 sf=Lunch@1000 open:acd=Unavailable:Lunch/sending open:acd=Unavailable:Break/sending');
    const t = ingest(record, acdChange('Unavailable:Lunch', 2000, 'e1'), ctx());
    // open writes were unshifted: Break is the older one here, Lunch the newer; Lunch's report closes both.
    expect(t.verdict.observed).toBe('echo');
    expect(t.record.acd.writes).toEqual([]);
  });

  it('the echo of an earlier write, after a later write was answered as applied, leaves the later value', () => {
    const { record } = parseSetup('latest', 'acd=Unavailable:Lunch@1000!old-acd sf=Lunch@1000 open:acd=Unavailable:Lunch/applied open:acd=Available/applied');
    const t = ingest(record, acdChange('Available', 1500, 'e1'), ctx());
    expect(t.verdict.observed).toBe('echo');
    expect(t.record.acd.obs).toMatchObject({ key: 'Unavailable:Lunch', byWrite: 'old-acd', at: 1500 });
    const next = ingest(t.record, { side: 'salesforce', eventId: 's1', userId: '005A', occurredAt: 2000, receivedAt: 2000, status: 'Available_Chat' }, ctx());
    expect(next.verdict.outcome).toBe('queued');
  });

  it('a write that failed retryably is not sent again before its backoff, whatever nudges its sync meanwhile', () => {
    const settings = { ...SETTINGS, retryBackoffMs: 50 };
    const { record } = parseSetup('latest', 'acd=Available@1000 sf=Lunch@5000 want:acd=Unavailable:Lunch@5000');
    const begun = beginWrite(record, 'acd', { now: NOW, agentId: 'a-1', settings, attempt: 1 });
    expect(begun.verdict.kind).toBe('write');
    const failed = answerWrite(begun.record, 'acd', 'w-acd', { kind: 'retrying', detail: 'HTTP 503' }, { now: NOW + 5, agentId: 'a-1', settings, attempt: 1 });
    // Drift repair (or a repeat of the decision) nudges the want already on its way.
    const again = repairDrift(failed.record, { now: NOW + 10, agent: AGENT, rule: RULES.latest, settings, runId: 'r', newWriteId: () => 'w' });
    expect(again.effects).toEqual([{ kind: 'trigger', target: 'acd', delayMs: 0 }]);
    // The nudged run waits out the backoff of the failed attempt (a trigger for then), it does not send.
    const early = beginWrite(again.record, 'acd', { now: NOW + 20, agentId: 'a-1', settings, attempt: 1 });
    expect(early.verdict).toEqual({ kind: 'wait', delayMs: 35 });
    expect(early.effects).toEqual([{ kind: 'trigger', target: 'acd', delayMs: 35 }]);
    // The retry, once the backoff is over, sends the same write.
    const retry = beginWrite(again.record, 'acd', { now: NOW + 55, agentId: 'a-1', settings, attempt: 2 });
    expect(retry.verdict).toMatchObject({ kind: 'write', want: { writeId: 'w-acd' } });
    // Its second failure holds it twice as long (the queue's exponential backoff).
    const second = answerWrite(retry.record, 'acd', 'w-acd', { kind: 'retrying', detail: 'HTTP 503' }, { now: NOW + 60, agentId: 'a-1', settings, attempt: 2 });
    expect(beginWrite(second.record, 'acd', { now: NOW + 100, agentId: 'a-1', settings }).verdict).toEqual({ kind: 'wait', delayMs: 60 });
  });

  it('pending work is nudged, never stranded: by drift repair, by a repeat of its decision, by a confirm that must re-send', () => {
    const { record } = parseSetup('latest', 'acd=Available@1000 sf=Lunch@5000 want:acd=Unavailable:Lunch@5000');
    const repair = repairDrift(record, { now: NOW, agent: AGENT, rule: RULES.latest, settings: SETTINGS, runId: 'r', newWriteId: () => 'w' });
    expect(repair.verdict).toBe('busy');
    expect(repair.effects).toEqual([{ kind: 'trigger', target: 'acd', delayMs: 0 }]);
    const again = ingest(record, { side: 'salesforce', eventId: 's2', userId: '005A', occurredAt: 6000, receivedAt: 6000, status: 'Lunch' }, ctx());
    expect(again.verdict.outcome).toBe('unchanged');
    const { record: sent } = parseSetup('latest', 'acd=Unavailable:Lunch@1000 sf=Available_Chat@1000 want:sf=Lunch@900/sent');
    const due = confirmDue(sent, 'w-sf', 1, { now: NOW, agentId: 'a-1', settings: SETTINGS });
    expect(due.verdict).toBe('resend');
    expect(due.effects).toEqual([{ kind: 'trigger', target: 'salesforce', delayMs: 0 }]);
    // The sync job then sends it again as send 2, with its own attempts.
    const begun = beginWrite(due.record, 'salesforce', { now: NOW, agentId: 'a-1', settings: SETTINGS });
    expect(begun.verdict).toMatchObject({ kind: 'write', send: 2 });
  });

  it('a deferred write the contact center dropped is written again when the conflict policy keeps it, and the audit says it was dropped', () => {
    const setup = 'acd=AfterWork@1200 sf=Lunch@1000 want:acd=Unavailable:Lunch@1000/deferred';
    const keep = ingest(parseSetup('salesforce', setup).record, acdChange('Available', 3000, 'e1'), ctx(RULES.salesforce));
    expect(keep.verdict.outcome).toBe('conflict');
    expect(keep.effects).toContainEqual({ kind: 'trigger', target: 'acd', delayMs: 0 });
    const lose = ingest(parseSetup('latest', setup).record, acdChange('Available', 3000, 'e1'), ctx());
    expect(lose.audit.find((r) => r.outcome === 'superseded')?.detail).toMatch(/deferred write of Unavailable:Lunch was dropped by the contact center/);
  });

  it('a change made before our write began, read after it was applied: the conflict policy decides, and the side is put back if the agent wins', () => {
    // Our Lunch write (decided from a Salesforce change at 2000) began at 2005 and was applied.
    const setup = 'acd=Available@1000 sf=Lunch@2000 want:acd=Unavailable:Lunch@2000/applied';
    const newer = ingest(parseSetup('latest', setup).record, acdChange('Unavailable:Break', 2003, 'e1'), ctx());
    expect(newer.verdict.outcome).toBe('queued');
    expect(pendingWant(newer.record.acd)).toMatchObject({ key: 'Unavailable:Break', row: 'restore-overwritten' });
    expect(pendingWant(newer.record.salesforce)).toMatchObject({ key: 'Break' });
    const older = ingest(parseSetup('latest', setup).record, acdChange('Unavailable:Break', 1500, 'e1'), ctx());
    expect(older.verdict.outcome).toBe('conflict');
    expect(older.record.acd.obs).toMatchObject({ key: 'Unavailable:Lunch' });
    expect(pendingWant(older.record.salesforce)).toBeUndefined();
  });

  it('a sender clock ahead of ours is clamped: it cannot make the next real change stale', () => {
    const { record } = parseSetup('latest', 'acd=Available@1000 sf=Available_Chat@1000');
    const ahead = ingest(record, acdChange('Unavailable:Lunch', 400 * 86_400_000, 'e1', { receivedAt: 2000 }), ctx());
    expect(ahead.record.acd.obs?.at).toBe(2000);
    const next = ingest(ahead.record, acdChange('Available', 3000, 'e2'), ctx());
    expect(next.verdict.observed).toBe('recorded');
  });

  it('a repeated undated snapshot keeps the time the state began', () => {
    const { record } = parseSetup('latest', 'acd=Available@5000 sf=Offline@1000');
    const sf: InboundChange = { side: 'salesforce', eventId: 'snap', userId: '005A', occurredAt: 0, receivedAt: 50_000, status: 'Offline' };
    const t = ingest(record, sf, { ...ctx(), snapshot: { readAt: 50_000, undated: true } });
    expect(t.record.salesforce.obs?.at).toBe(1000);
    expect(repairDrift(t.record, { now: NOW, agent: AGENT, rule: RULES.latest, settings: SETTINGS, runId: 'r', newWriteId: () => 'w' }).record.salesforce.want)
      .toMatchObject({ key: 'Available_Chat' });
  });

  it('a call with a status picked meanwhile: deferred, held through wrap-up, confirmed when it lands, never synced back', () => {
    const start = parseSetup('latest', 'acd=Available@1000 sf=Available_Chat@1000').record;
    const call = ingest(start, acdChange('Busy', 2000, 'c1'), ctx());
    expect(call.verdict.outcome).toBe('queued'); // Salesforce shows Busy_On_Call
    const lunch = ingest(call.record, { side: 'salesforce', eventId: 's1', userId: '005A', occurredAt: 3000, receivedAt: 3000, status: 'Lunch' }, ctx());
    expect(lunch.verdict.outcome).toBe('queued');
    const begun = beginWrite(lunch.record, 'acd', { now: 3100, agentId: 'a-1', settings: SETTINGS });
    expect(begun.verdict.kind).toBe('write');
    expect(begun.record.prevAcd?.state).toEqual({ state: 'Available' });
    const writeId = (begun.verdict as { want: { writeId: string } }).want.writeId;
    const deferred = answerWrite(begun.record, 'acd', writeId, { kind: 'deferred' }, { now: 3200, agentId: 'a-1', settings: SETTINGS });
    const wrap = ingest(deferred.record, acdChange('AfterWork', 4000, 'c2'), ctx());
    expect(wrap.verdict.outcome).toBe('held');
    expect(wrap.effects).toEqual([]);
    const landed = ingest(wrap.record, acdChange('Unavailable:Lunch', 5000, 'c3'), ctx());
    expect(landed.verdict.outcome).toBe('confirmed');
    expect(landed.effects.filter((e) => e.kind === 'trigger')).toEqual([]);
    expect(pendingWant(landed.record.acd)).toBeUndefined();
    expect(landed.record.salesforce.obs?.key).toBe('Lunch');
  });
});
