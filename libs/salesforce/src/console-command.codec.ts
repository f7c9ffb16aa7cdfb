import { PermanentWriteError, SALESFORCE_OFFLINE, type PresenceCommand } from '@presence-sync/domain';

/** docs/salesforce-command-protocol.md: the version a relay understands. */
export const CONSOLE_COMMAND_VERSION = 1;

/** Salesforce's limit for a StreamingChannel push payload: 3,000 single-byte characters. */
export const MAX_PUSH_PAYLOAD_BYTES = 3000;

/** The command a console relay receives (docs/salesforce-command-protocol.md, "The payload"). */
export type ConsoleCommand =
  | { v: 1; type: 'setStatus'; commandId: string; userId: string; statusId: string; status: string; expiresAt: number }
  | { v: 1; type: 'logout'; commandId: string; userId: string; expiresAt: number };

/**
 * The relay command for a presence command: `Offline` is a `logout` (no status id); any other status is a
 * `setStatus` with the `ServicePresenceStatus` id the console toolkit needs.
 */
export function toConsoleCommand(command: PresenceCommand, statusId?: string): ConsoleCommand {
  const base = { v: CONSOLE_COMMAND_VERSION, commandId: command.commandId, userId: command.userId, expiresAt: command.expiresAt } as const;
  if (command.status === SALESFORCE_OFFLINE) return { ...base, type: 'logout' };
  if (!statusId) throw new PermanentWriteError('unknown-status', `Salesforce has no presence status named ${command.status}`);
  return { v: base.v, type: 'setStatus', commandId: base.commandId, userId: base.userId, statusId, status: command.status, expiresAt: base.expiresAt };
}

/**
 * The push payload: the command as a JSON string. More than 3,000 bytes cannot be pushed at all, so it is a
 * permanent failure (it can only happen with absurdly long ids or names).
 */
export function encodeConsoleCommand(command: ConsoleCommand): string {
  const payload = JSON.stringify(command);
  const bytes = Buffer.byteLength(payload, 'utf8');
  if (bytes > MAX_PUSH_PAYLOAD_BYTES) {
    throw new PermanentWriteError('payload-too-large', `the console command is ${bytes} bytes; a push payload may have at most ${MAX_PUSH_PAYLOAD_BYTES}`);
  }
  return payload;
}
