import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '@presence-sync/config';
import { ContactCenterPort } from '@presence-sync/domain';
import { APP_CONFIG } from '../tokens';
import { withDeadline } from '../deadline';

/** How long one probe result is reused: load balancers poll /ready every few seconds; the vendor is not hammered. */
export const CONTACT_CENTER_PROBE_TTL_MS = 5000;
/** The probe's own short timeout: a readiness answer must not wait the full ACD_TIMEOUT_MS. */
const PROBE_TIMEOUT_MS = 2000;

export type ProbeResult = { up: true; checkedAt: number } | { up: false; checkedAt: number; reason: string };

/** Whether the contact center answers: a cheap `listTeams()`, cached, with one call in flight at most. */
@Injectable()
export class ContactCenterProbe {
  private last?: ProbeResult;
  private inFlight?: Promise<ProbeResult>;

  constructor(private readonly contactCenter: ContactCenterPort, @Inject(APP_CONFIG) private readonly config: AppConfig) {}

  check(now = Date.now()): Promise<ProbeResult> {
    if (this.last && now - this.last.checkedAt < CONTACT_CENTER_PROBE_TTL_MS) return Promise.resolve(this.last);
    this.inFlight ??= this.probe().then((r) => {
      this.last = r;
      this.inFlight = undefined;
      return r;
    });
    return this.inFlight;
  }

  private async probe(): Promise<ProbeResult> {
    const timeoutMs = Math.min(PROBE_TIMEOUT_MS, this.config.acd.timeoutMs);
    try {
      await withDeadline(this.contactCenter.listTeams(), timeoutMs);
      return { up: true, checkedAt: Date.now() };
    } catch (e) {
      return { up: false, checkedAt: Date.now(), reason: e instanceof Error ? e.message : String(e) };
    }
  }
}
