import { Injectable } from '@nestjs/common';

/**
 * `starting` → `open` (after boot) → `draining` (on SIGTERM with SHUTDOWN_DRAIN_MS: readiness fails, changes
 * are still taken) → `closed` (the stop: the webhook answers 503).
 */
export type IntakeState = 'starting' | 'open' | 'draining' | 'closed';

/** Whether the daemon takes inbound changes, and whether a load balancer should send it any. */
@Injectable()
export class IntakeGate {
  private current: IntakeState = 'starting';
  /** Last change accepted per side (epoch ms), for /v1/status. */
  readonly lastEvent: { acd?: number; salesforce?: number } = {};

  get state(): IntakeState { return this.current; }
  /** Changes are taken: open, and while draining (requests routed here before the balancer noticed). */
  get isOpen(): boolean { return this.current === 'open' || this.current === 'draining'; }
  /** Traffic should come here: open and not draining. */
  get isReady(): boolean { return this.current === 'open'; }
  openIntake(): void { this.current = 'open'; }
  /** Readiness off, intake still open; only from `open`. */
  drain(): void { if (this.current === 'open') this.current = 'draining'; }
  close(): void { this.current = 'closed'; }
}
