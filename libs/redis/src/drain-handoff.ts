/** The drain of this process, as intake sees it (PartitionDrain). */
export interface LocalDrain {
  /** Whether it works the partition and has room for the inbox (no side effect). */
  wouldTake(partition: number, inbox: string): boolean;
  /** Takes the inbox up if it still would; false if not. */
  handOver(partition: number, inbox: string): boolean;
}

/**
 * Intake's short way to the drain of this process. A replica that queues a change of a partition it works (its
 * lease in `{prefix}:{pn}:owner` holds `owner`), while its drain has a free slot, does not mark the inbox ready in
 * Redis for its own blocking read to take out again: the intake script sees the lease is ours, leaves the ready
 * set alone, and intake hands the inbox to the drain here. That is one command and one round trip less per
 * change. Without a free slot the inbox is marked ready, so a backlog stays in Redis where it is measured.
 *
 * Nothing can be stranded by it: the change is in its inbox before intake answers; a replica that takes the
 * partition over marks every inbox holding changes ready after it has the lease; and when the drain here does not
 * work the partition (any more), intake marks the inbox ready after all.
 */
export class DrainHandoff {
  private drain?: LocalDrain;

  /** @param owner this replica's lease token (PartitionOwnership's replica id) */
  constructor(readonly owner: string) {}

  /** The drain of this process. */
  attach(drain: LocalDrain): void {
    this.drain = drain;
  }

  /**
   * The token intake's script compares with the partition's lease: ours when the drain here would take the inbox
   * now, else none (the script marks the inbox ready itself, as without a hand-off).
   */
  tokenFor(partition: number, inbox: string): string {
    return this.drain?.wouldTake(partition, inbox) ? this.owner : '';
  }

  /** Hands an inbox to the drain here; false if it does not take it (mark it ready instead). */
  handOver(partition: number, inbox: string): boolean {
    return this.drain?.handOver(partition, inbox) ?? false;
  }
}
