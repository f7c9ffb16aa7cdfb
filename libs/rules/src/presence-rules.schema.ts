import { ACD_STATES, SETTABLE_ACD_STATES } from '@presence-sync/domain';
import { CONFLICT_POLICIES } from './rule-types';

/*
 * The JSON Schema (draft-07: the draft every editor supports fully) of one rule file.
 *
 * `rules/presence-rules.schema.json` is this object as `JSON.stringify(schema, null, 2)` plus a newline, so
 * editors validate and complete rule files. presence-rules.schema.spec.ts fails when the two differ;
 * regenerate the file with:
 *   PRESENCE_RULES_WRITE_SCHEMA=1 npx jest --selectProjects unit -- libs/rules/src/presence-rules.schema.spec.ts
 *
 * Inline subschemas instead of `$ref` on purpose: draft-07 ignores keywords next to `$ref`, which would lose
 * the per-place descriptions editors show. `patternErrorMessage` and `defaultSnippets` are VS Code's
 * extensions; the validator reads `patternErrorMessage` too, so editor and CLI say the same thing.
 */

const salesforceStatus = (description: string) => ({
  type: 'string',
  description,
  minLength: 1,
  maxLength: 80,
  pattern: '^[A-Za-z][A-Za-z0-9_]*$',
  patternErrorMessage:
    'must be a status DeveloperName (letters, digits and "_", starting with a letter, e.g. "Available_Chat"), not its label',
  examples: ['Available_Chat', 'Offline'],
});

const acdCode = {
  type: 'string',
  description:
    'The vendor reason code name (e.g. a CXone unavailable code or a Webex idle code). Meaningful for Unavailable, and AfterWork where the vendor has codes.',
  minLength: 1,
};

const assignee = (description: string) => ({ type: 'string', description, minLength: 1 });

export const PRESENCE_RULES_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'presence-sync rule file',
  description:
    'One named rule: how an agent state maps to a Salesforce Omni-Channel status (publisher) and back (subscriber), how Omni-Channel work changes the agent state (workload), and which teams and users it applies to. See docs/rules.md.',
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    $schema: {
      type: 'string',
      description: 'Path or URL of this schema, for editors (e.g. "./presence-rules.schema.json").',
    },
    name: {
      type: 'string',
      description: 'Unique rule name shown in logs, audit and explain output, e.g. "tier1-blended".',
      minLength: 1,
      maxLength: 64,
      pattern: '^[a-z0-9][a-z0-9_-]*$',
      patternErrorMessage: 'must be a short name of lowercase letters, digits, "-" and "_" (e.g. "tier1-blended")',
    },
    description: { type: 'string', description: 'Free text for admins; not used by the daemon.' },
    skipUnavailableCodeValidation: {
      type: 'boolean',
      default: false,
      description:
        'false: every Unavailable code in this rule must be enabled for every assigned team, and a Salesforce status with no subscriber row changes nothing. true: the rule may be assigned to any team; a status with no subscriber row, or whose code the team lacks, sets the default Unavailable (DEFAULT_UNAVAILABLE_CODE).',
    },
    conflictPolicy: {
      type: 'string',
      enum: [...CONFLICT_POLICIES],
      default: 'latest',
      description:
        'Who wins when a change arrives from one side while a sync toward that side is unconfirmed: "latest" (the newer event by its source time), "acd" or "salesforce".',
    },
    publisher: {
      type: 'array',
      description:
        'Contact center -> Salesforce: when the ACD shows this state, Salesforce shows this status. The most specific row wins: a row with a code beats a row without one.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['acd', 'salesforce'],
        properties: {
          acd: {
            type: 'object',
            description: 'The ACD state this row matches. Without "code" it matches the state with any code.',
            additionalProperties: false,
            required: ['state'],
            properties: {
              state: { type: 'string', enum: [...ACD_STATES], description: 'The observed ACD state.' },
              code: acdCode,
            },
          },
          salesforce: salesforceStatus(
            'The Salesforce status (DeveloperName) to show, or "Offline" to log the agent out of Omni-Channel.',
          ),
        },
        defaultSnippets: [
          { label: 'publisher row', body: { acd: { state: '${1:Available}' }, salesforce: '${2:Available_Chat}' } },
        ],
      },
    },
    subscriber: {
      type: 'array',
      description:
        'Salesforce -> contact center: when the agent picks this Salesforce status, the ACD is set to this state.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['salesforce', 'acd'],
        properties: {
          salesforce: salesforceStatus(
            'The Salesforce status (DeveloperName) this row matches, or "Offline" (logged out of Omni-Channel).',
          ),
          acd: {
            type: 'object',
            description:
              'The ACD state to set: { "state": ..., "code": ... }, or { "previous": true } to restore the state the agent had before the daemon last changed it.',
            additionalProperties: false,
            properties: {
              state: {
                type: 'string',
                enum: [...SETTABLE_ACD_STATES],
                description: 'The state to set. Busy and AfterWork can be observed but not set.',
              },
              code: acdCode,
              previous: {
                type: 'boolean',
                const: true,
                description: 'Restore the ACD state the agent had just before the daemon last changed it.',
              },
            },
            if: { required: ['previous'] },
            then: { properties: { state: false, code: false } },
            else: { required: ['state'] },
          },
        },
        defaultSnippets: [
          { label: 'subscriber row', body: { salesforce: '${1:Available_Chat}', acd: { state: '${2:Available}' } } },
          { label: 'subscriber row (restore previous)', body: { salesforce: '${1:Chat_Done}', acd: { previous: true } } },
        ],
      },
    },
    workload: {
      type: 'array',
      description:
        'Salesforce Omni-Channel work -> contact center: while the agent has open work of a service channel, or is at capacity, an agent who would be Available on the ACD is set to this state instead; when no row matches any more, the state from before is restored. The first matching row in file order wins.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['acd'],
        properties: {
          channel: {
            type: 'string',
            description:
              'A service channel DeveloperName (e.g. "sfdc_liveagent"): the row matches while the agent has at least one open work item (AgentWork Assigned or Opened) of this channel.',
            minLength: 1,
            maxLength: 80,
            pattern: '^[A-Za-z][A-Za-z0-9_]*$',
            patternErrorMessage:
              'must be a service channel DeveloperName (letters, digits and "_", starting with a letter, e.g. "sfdc_liveagent"), not its label',
            examples: ['sfdc_liveagent', 'sfdc_case'],
          },
          atCapacity: {
            type: 'boolean',
            const: true,
            description:
              'true: the row matches while the agent\'s open work uses all of the configured Omni-Channel capacity. With "channel", both must hold.',
          },
          acd: {
            type: 'object',
            description:
              'The ACD state to set while the row matches, instead of Available. Available makes a row that keeps the agent available (an exception before a broader row).',
            additionalProperties: false,
            required: ['state'],
            properties: {
              state: {
                type: 'string',
                enum: ['Available', 'Unavailable'],
                description: 'Unavailable (usually with a code) or Available. Work never logs the agent out: Offline is not allowed.',
              },
              code: acdCode,
            },
          },
        },
        if: { not: { required: ['channel'] } },
        then: { required: ['atCapacity'] },
        defaultSnippets: [
          { label: 'workload row (channel)', body: { channel: '${1:sfdc_liveagent}', acd: { state: 'Unavailable', code: '${2:Chat}' } } },
          { label: 'workload row (at capacity)', body: { atCapacity: true, acd: { state: 'Unavailable', code: '${1:Busy_Omni}' } } },
        ],
      },
    },
    assign: {
      type: 'object',
      description:
        'Who this rule applies to. A user assignment beats a team assignment; one team or user may appear in one rule only.',
      additionalProperties: false,
      properties: {
        teams: { type: 'array', items: assignee('A contact-center team name or team id.') },
        users: {
          type: 'array',
          items: assignee('An ACD agent id or e-mail (compared without regard to case).'),
        },
      },
    },
  },
} as const;

/** The shipped file's exact text (two-space JSON and a final newline). */
export function presenceRulesSchemaText(): string {
  return `${JSON.stringify(PRESENCE_RULES_SCHEMA, null, 2)}\n`;
}
