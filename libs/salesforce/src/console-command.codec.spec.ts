import { PermanentWriteError, type PresenceCommand } from '@presence-sync/domain';
import { encodeConsoleCommand, MAX_PUSH_PAYLOAD_BYTES, toConsoleCommand } from './console-command.codec';

const base: PresenceCommand = { userId: '005xx000001Sv6AAAS', status: 'Lunch', commandId: '6f1c2b9e-7d0a-4c3e-9f5b-1a2b3c4d5e6f', expiresAt: 1795271795794 };

describe(toConsoleCommand.name, () => {
  it('encodes setStatus with the status id and DeveloperName (docs/salesforce-command-protocol.md)', () => {
    const payload = encodeConsoleCommand(toConsoleCommand(base, '0N5xx0000000001AAA'));
    expect(JSON.parse(payload)).toEqual({
      v: 1, type: 'setStatus', commandId: base.commandId, userId: base.userId, statusId: '0N5xx0000000001AAA', status: 'Lunch', expiresAt: base.expiresAt,
    });
  });

  it('encodes Offline as a logout without a status', () => {
    const payload = JSON.parse(encodeConsoleCommand(toConsoleCommand({ ...base, status: 'Offline' })));
    expect(payload).toEqual({ v: 1, type: 'logout', commandId: base.commandId, userId: base.userId, expiresAt: base.expiresAt });
  });

  it('refuses a status without an id as unknown-status', () => {
    expect(() => toConsoleCommand(base, undefined)).toThrow(PermanentWriteError);
    expect(() => toConsoleCommand(base, undefined)).toThrow(/no presence status named Lunch/);
  });
});

describe(encodeConsoleCommand.name, () => {
  it('stays far below the 3,000-byte push limit for real commands', () => {
    expect(Buffer.byteLength(encodeConsoleCommand(toConsoleCommand(base, '0N5xx0000000001AAA')))).toBeLessThan(300);
  });

  it('accepts exactly 3,000 bytes and refuses more, permanently', () => {
    const command = toConsoleCommand(base, '0N5xx0000000001AAA');
    const overhead = Buffer.byteLength(JSON.stringify({ ...command, status: '' }));
    const fits = { ...command, status: 'S'.repeat(MAX_PUSH_PAYLOAD_BYTES - overhead) };
    expect(Buffer.byteLength(encodeConsoleCommand(fits))).toBe(MAX_PUSH_PAYLOAD_BYTES);
    const tooLong = { ...command, status: 'S'.repeat(MAX_PUSH_PAYLOAD_BYTES - overhead + 1) };
    expect(() => encodeConsoleCommand(tooLong)).toThrow(PermanentWriteError);
    expect(() => encodeConsoleCommand(tooLong)).toThrow(/3001 bytes; a push payload may have at most 3000/);
  });

  it('counts bytes, not characters', () => {
    const command = toConsoleCommand(base, '0N5xx0000000001AAA');
    const overhead = Buffer.byteLength(JSON.stringify({ ...command, status: '' }));
    // 'é' is two bytes in UTF-8: half as many characters fill the limit.
    const wide = { ...command, status: 'é'.repeat(Math.floor((MAX_PUSH_PAYLOAD_BYTES - overhead) / 2) + 1) };
    expect(() => encodeConsoleCommand(wide)).toThrow(PermanentWriteError);
  });
});
