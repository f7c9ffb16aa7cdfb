import { Injectable } from '@nestjs/common';

/** Open while the daemon takes inbound changes; closed first at shutdown (the webhook answers 503). */
@Injectable()
export class IntakeGate {
  private open = false;
  /** Last change accepted per side (epoch ms), for /v1/status. */
  readonly lastEvent: { acd?: number; salesforce?: number } = {};

  get isOpen(): boolean { return this.open; }
  openIntake(): void { this.open = true; }
  close(): void { this.open = false; }
}
