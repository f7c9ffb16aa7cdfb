import type { AcdState, ContactCenterPort, InboundChange, InboundSink, IntakeResult, SettableAcdState } from '@presence-sync/domain';

/** One agent every harness seeds: logged in, Available, in `ConnectorHarness.team`. */
export interface ConformanceAgent {
  agentId: string;
  email: string;
}

/** A fault the emulator answers the connector's next API calls with. */
export type ConformanceFault = { status: 429; retryAfterSec: number } | { status: 500 } | { status: 503 };

/**
 * What the connector conformance suite (test/support/connector-conformance.ts) needs from a connector and its
 * emulator. Each connector's harness drives its own vendor's emulator; the suite asserts the same behaviours
 * of every connector (docs/architecture.md, "Connectors").
 */
export interface ConnectorHarness {
  /** The connector under test, started, talking to the emulator. */
  readonly connector: ContactCenterPort;
  /**
   * Every change the connector delivered, in delivery order: the emulator's webhook deliveries passed through
   * `connector.webhook`, or what `connector.source` handed its sink.
   */
  readonly received: RecordingSink;
  /** At least two agents, in `team`. A third agent id the vendor does not know is `unknownAgentId`. */
  readonly agents: readonly ConformanceAgent[];
  readonly unknownAgentId: string;
  /** The team (id) the agents are in and two Unavailable codes enabled for it; `disabledCode` exists but is not enabled for it. */
  readonly team: { teamId: string; codes: readonly [string, string]; disabledCode?: string };
  /**
   * Values that must never show in `health().detail` (access tokens, client secrets, webhook secrets). Optional;
   * the suite checks none when absent.
   */
  readonly secrets?: readonly string[];
  /**
   * Whether the vendor reports an agent logging out at their desktop (`agentSets(id, { state: 'Offline' })`) as
   * an `Offline` change. Default true; a vendor whose events say nothing of logouts sets false.
   */
  readonly reportsLogout?: boolean;
  /**
   * What the vendor does with changes made while delivery was down: `redelivers` them (webhook retries, a
   * retained stream, a poll from a checkpoint, a backfill through the API), or reports a `gap` the engine's drift
   * repair must close.
   */
  readonly afterOutage: 'redelivers' | 'gap';
  /** The agent changes their own state at their desktop. */
  agentSets(agentId: string, state: SettableAcdState): Promise<void>;
  /** A contact is routed to the agent and connected (the vendor reports the agent as on a contact). */
  startContact(agentId: string): Promise<void>;
  /** The contact ends; with `wrapUp`, the agent goes into after-contact work first (with that wrap-up code where the vendor has codes). */
  endContact(agentId: string, options?: { wrapUp?: boolean }): Promise<void>;
  /** After-contact work ends: the agent is routable again, or in the state a deferred write asked for. */
  endWrapUp(agentId: string): Promise<void>;
  /** What the vendor holds for the agent now. */
  stateOf(agentId: string): Promise<AcdState>;
  /** The emulator answers the connector's next `count` API calls (reads or writes) with `fault`. */
  failNext(count: number, fault: ConformanceFault): void;
  /** The vendor revokes the connector's current access token; the connector must get a new one by itself. */
  expireToken(): void;
  /** The vendor stops delivering events (webhook deliveries fail, the stream drops, the poll fails). */
  interruptDelivery(): void;
  /** Delivery comes back. What was missed is either delivered late, or reported as a gap; `listAgents` shows it either way. */
  resumeDelivery(): Promise<void>;
  /** The vendor sends its next delivery twice. */
  duplicateNext(): void;
  /** The vendor holds its next delivery back and sends it after the one following it. */
  reorderNext(): void;
  /** Resolves once every delivery the emulator made so far has been handled by the connector. */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

/** A sink that keeps what it is given, with the duplicate rule of the real sink (side + event id). */
export class RecordingSink implements InboundSink {
  readonly changes: InboundChange[] = [];
  readonly gaps: string[] = [];
  private readonly seen = new Set<string>();
  duplicates = 0;

  async accept(changes: InboundChange[]): Promise<IntakeResult> {
    let accepted = 0;
    for (const change of changes) {
      const key = `${change.side}:${change.eventId}`;
      if (this.seen.has(key)) {
        this.duplicates++;
        continue;
      }
      this.seen.add(key);
      this.changes.push(change);
      accepted++;
    }
    return { accepted, duplicates: changes.length - accepted };
  }

  async recover(): Promise<number> {
    return 0;
  }

  /** For a change source's `onGap`. */
  readonly onGap = (reason: string): void => {
    this.gaps.push(reason);
  };

  /** The changes of one agent, in delivery order. */
  of(agentId: string): InboundChange[] {
    return this.changes.filter((c) => c.side === 'acd' && c.agentId === agentId);
  }
}
