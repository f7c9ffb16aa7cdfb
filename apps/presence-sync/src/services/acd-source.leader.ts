import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import type { AppConfig } from '@presence-sync/config';
import { ContactCenterPort, type InboundSink } from '@presence-sync/domain';
import { APP_CONFIG, REDIS } from '../tokens';
import { LeasedSource, type LeasedSourceStatus } from './leased-source';

/**
 * The contact center's change source, for a connector that polls or streams (`ContactCenterPort.source`), run
 * on the one replica holding `{prefix}:lease:acd-source`: every replica polling would spend the vendor's rate
 * limit N times for the same changes. A webhook-fed connector has no source; this then does nothing.
 */
@Injectable()
export class AcdSourceLeader {
  private readonly leased?: LeasedSource;

  constructor(@Inject(APP_CONFIG) config: AppConfig, @Inject(REDIS) redis: Redis, contactCenter: ContactCenterPort) {
    const source = contactCenter.source;
    if (source) {
      this.leased = new LeasedSource(redis, {
        what: `${contactCenter.name} change source`, leaseKey: `${config.redis.prefix}:lease:acd-source`, leaseTtlMs: config.salesforce.streamLeaseTtlMs, source,
      }, AcdSourceLeader.name);
    }
  }

  get present(): boolean {
    return this.leased !== undefined;
  }

  get isActive(): boolean {
    return this.leased?.isActive ?? false;
  }

  async start(sink: InboundSink, onGap: (reason: string) => void): Promise<void> {
    await this.leased?.start(sink, onGap);
  }

  async stop(): Promise<void> {
    await this.leased?.stop();
  }

  async status(): Promise<LeasedSourceStatus | null> {
    return this.leased ? this.leased.status() : null;
  }
}
