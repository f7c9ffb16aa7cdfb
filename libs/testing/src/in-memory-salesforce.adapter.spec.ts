import { InboundSink, type InboundChange, type IntakeResult, type PresenceCommand } from '@presence-sync/domain';
import { InMemorySalesforce } from './in-memory-salesforce.adapter';

const command = (userId: string, n: number, status = 'Lunch'): PresenceCommand => ({ commandId: `c-${n}`, userId, status, expiresAt: Date.now() + 60_000 });

/** A sink that keeps what it is handed. */
class Collector extends InboundSink {
  readonly changes: InboundChange[] = [];
  async accept(changes: InboundChange[]): Promise<IntakeResult> {
    this.changes.push(...changes);
    return { accepted: changes.length, duplicates: 0 };
  }
}

describe(InMemorySalesforce.name, () => {
  it('event ids of two instances never collide (a restarted daemon on the same Redis is not de-duplicated away)', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const sf = new InMemorySalesforce();
      const [user] = sf.addUsersForEmails(['a@example.com']);
      const sink = new Collector();
      await sf.start(sink);
      sf.agentSetStatus(user.userId, 'Lunch');
      sf.agentSetStatus(user.userId, 'Break');
      await sf.drained();
      ids.push(...sink.changes.map((c) => c.eventId));
    }
    expect(ids).toHaveLength(4);
    expect(new Set(ids).size).toBe(4);
    expect(ids[0]).toMatch(/^usp-[0-9a-f]{12}-1$/);
  });

  it('keeps only the latest commands', async () => {
    const sf = new InMemorySalesforce({ maxCommandsKept: 3 });
    const [user] = sf.addUsersForEmails(['a@example.com']);
    for (let n = 1; n <= 5; n++) await sf.sendStatus(command(user.userId, n));
    expect(sf.commands.map((c) => c.commandId)).toEqual(['c-3', 'c-4', 'c-5']);
  });

  it('applies a command id once, as the relay does', async () => {
    const sf = new InMemorySalesforce();
    const [user] = sf.addUsersForEmails(['a@example.com']);
    sf.holdCommands(user.userId);
    await sf.sendStatus(command(user.userId, 1, 'Lunch'));
    await sf.sendStatus(command(user.userId, 2, 'Break'));
    await sf.sendStatus(command(user.userId, 1, 'Lunch'));
    sf.releaseCommands(user.userId);
    expect(sf.applied).toBe(2);
    expect(sf.statusOf(user.userId)).toBe('Break');
  });
});
