import { z } from 'zod';
import { ACD_STATES, type AcdState } from '@presence-sync/domain';

/*
 * Zod schemas of the generic connector, contract v1 (docs: shared spec "contact-center.md"), shared by the
 * webhook parser and the HTTP client. Messages are phrased to follow a JSON path, e.g.
 * `events[3].state.state: must be one of Available, Unavailable, Busy, AfterWork, Offline`, because senders
 * read them in a 400 body or an operator reads them in a log, never next to the schema.
 */

/** Builds a zod error callback: a missing field reads "is required", anything else "must be <expected>". */
function expected(what: string): (issue: { input?: unknown }) => string {
  return (issue) => (issue.input === undefined ? 'is required' : `must be ${what}`);
}

/**
 * Longest value of every free-text field of contract v1 (ids and codes), in UTF-16 code units. Without a cap a
 * signed sender could put megabytes into an agent id, which is copied into Redis keys, jobs, audit records
 * and log lines. 256 holds any vendor id we know of (UUIDs, ARNs, URNs) with room to spare.
 */
export const GENERIC_MAX_TEXT_LENGTH = 256;

const stateNameList = ACD_STATES.join(', ');

/**
 * In unicode mode `\p{Cs}` matches a surrogate only when it is not half of a pair. JSON may carry one as a
 * `\udXXX` escape; stored in Redis (UTF-8) it turns into U+FFFD, so two different ids would become one key.
 */
const LONE_SURROGATE = /\p{Cs}/u;

export const nonEmptyString = (what = 'a non-empty string') =>
  z.string({ error: expected(what) }).min(1, { error: 'must not be empty' });

/**
 * An id or code as the webhook takes it: non-empty, capped, well-formed UTF-16. The cap aborts the checks
 * after it, so a megabyte value costs one comparison and yields one short problem.
 */
export const boundedText = (what = 'a non-empty string') =>
  nonEmptyString(what)
    .max(GENERIC_MAX_TEXT_LENGTH, { error: `must be at most ${GENERIC_MAX_TEXT_LENGTH} characters`, abort: true })
    .refine((value) => !LONE_SURROGATE.test(value), {
      error: 'must be well-formed UTF-16 (it holds a lone surrogate, e.g. an unpaired \\ud800 escape)',
    });

export const acdStateSchema = z.object(
  {
    state: z.enum(ACD_STATES, { error: expected(`one of ${stateNameList}`) }),
    code: boundedText().optional(),
  },
  { error: expected('an object like { "state": "Unavailable", "code": "Lunch" }') },
);

/** ISO-8601 date-time with `Z` or a `±hh:mm` offset; a local time without offset is ambiguous, so refused. */
export const isoDateTimeSchema = z.iso.datetime({
  offset: true,
  error: expected('an ISO-8601 date-time with a Z or ±hh:mm offset, e.g. 2026-11-21T10:15:02.120Z'),
});

export const genericEventSchema = z.object(
  {
    eventId: boundedText(),
    // The format bounds its length; how far ahead of the receive time it may be is checked by the parser.
    occurredAt: isoDateTimeSchema,
    agentId: boundedText(),
    state: acdStateSchema,
    previous: acdStateSchema.optional(),
    // z.int() is a safe integer (|n| <= 2^53 - 1), so a sequence survives a round trip through JSON and Redis.
    sequence: z.int({ error: 'must be a non-negative safe integer' }).min(0, {
      error: 'must be a non-negative safe integer',
    }).optional(),
    /** The `requestId` of our `PUT` that caused this change, when the contact center knows it. */
    requestId: boundedText().optional(),
  },
  { error: expected('an event object') },
);
export type GenericEventInput = z.infer<typeof genericEventSchema>;

/** `GET /agents`: `since` is not typed by the contract; ISO date-time or epoch ms are both taken. */
export const agentPageSchema = z.object(
  {
    agents: z.array(
      z.object(
        {
          agentId: nonEmptyString(),
          email: z.string({ error: expected('a string') }).optional().nullable(),
          teamId: z.string({ error: expected('a string') }).optional().nullable(),
          state: acdStateSchema.optional().nullable(),
          since: z
            .union([isoDateTimeSchema, z.number().int().nonnegative()], {
              error: expected('an ISO-8601 date-time or epoch milliseconds'),
            })
            .optional()
            .nullable(),
        },
        { error: expected('an agent object') },
      ),
      { error: expected('an array') },
    ),
    next: z.string({ error: expected('a string cursor or null') }).nullable().optional(),
  },
  { error: expected('an object like { "agents": [...], "next": null }') },
);

export const teamListSchema = z.object(
  {
    teams: z.array(
      z.object(
        {
          teamId: nonEmptyString(),
          name: z.string({ error: expected('a string') }),
          unavailableCodes: z.array(nonEmptyString(), { error: expected('an array of strings') }),
        },
        { error: expected('a team object') },
      ),
      { error: expected('an array') },
    ),
  },
  { error: expected('an object like { "teams": [...] }') },
);

export const appliedBodySchema = z.object({ state: acdStateSchema });

/** Joins a zod issue path the way a reader writes it: `events[3].state.code`. Empty for the root. */
export function formatPath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/** Copies an ACD state without absent keys, so results compare cleanly and serialise without `undefined`. */
export function toAcdState(input: { state: AcdState['state']; code?: string | null }): AcdState {
  return input.code ? { state: input.state, code: input.code } : { state: input.state };
}
