/**
 * Salesforce record ids: a 3-character key prefix (`005` User, `0Bz` UserServicePresence, …), then 12 more
 * case-sensitive characters; the API answers with the 18-character form, whose last 3 characters encode the
 * case of the first 15 so that case-insensitive tools can tell ids apart. Clients may send either form.
 */
const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

export const KEY_PREFIX = {
  organization: '00D',
  user: '005',
  servicePresenceStatus: '0N5',
  userServicePresence: '0Bz',
  pushTopic: '0IF',
  streamingChannel: '0M6',
  profile: '00e',
  permissionSet: '0PS',
  permissionSetAssignment: '0Pa',
  setupEntityAccess: '0J0',
  objectPermissions: '110',
  serviceChannel: '0N9',
  agentWork: '0Bc',
  queryLocator: '01g',
} as const;

/** The 18-character form of a 15- or 18-character id. */
export function toId18(id: string): string {
  if (id.length === 18) return id;
  if (id.length !== 15) throw new Error(`not a Salesforce id: ${id}`);
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = id.charAt(chunk * 5 + i);
      if (c >= 'A' && c <= 'Z') bits |= 1 << i;
    }
    suffix += SUFFIX_ALPHABET.charAt(bits);
  }
  return id + suffix;
}

/** Whether two ids name the same record (15 vs 18 characters; the first 15 are case-sensitive). */
export function sameId(a: string | null | undefined, b: string | null | undefined): boolean {
  if (!a || !b || (a.length !== 15 && a.length !== 18) || (b.length !== 15 && b.length !== 18)) return false;
  return a.slice(0, 15) === b.slice(0, 15);
}

export function looksLikeId(value: string): boolean {
  return /^[a-zA-Z0-9]{15}(?:[A-Z0-5]{3})?$/.test(value);
}

/** Hands out ids per key prefix, deterministically (a counter), in the 18-character form. */
export class SalesforceIdFactory {
  private readonly counters = new Map<string, number>();

  next(prefix: string): string {
    const n = (this.counters.get(prefix) ?? 0) + 1;
    this.counters.set(prefix, n);
    return SalesforceIdFactory.format(prefix, n);
  }

  /** Makes sure later ids of that prefix do not collide with a seeded one numbered `n`. */
  reserve(prefix: string, n: number): void {
    if (n > (this.counters.get(prefix) ?? 0)) this.counters.set(prefix, n);
  }

  /** `prefix` + the number in base 36 (upper case), zero-padded to 15 characters, in the 18-character form. */
  static format(prefix: string, n: number): string {
    return toId18(prefix + n.toString(36).toUpperCase().padStart(15 - prefix.length, '0'));
  }
}
