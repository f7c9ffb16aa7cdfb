import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import type { AppConfig } from '@presence-sync/config';
import { ChangeSource } from '@presence-sync/domain';
import { JsforceSalesforceAdapter } from '@presence-sync/salesforce';
import { APP_CONFIG, REDIS, SALESFORCE_STREAM } from '../tokens';
import { LeasedSource, type LeasedSourceStatus } from './leased-source';
import { MetricsService } from './metrics.service';

export type StreamLeaderStatus = LeasedSourceStatus;

/**
 * The Salesforce presence stream, run on the one replica holding `{prefix}:lease:salesforce-stream`: Salesforce
 * would deliver every event to every subscriber. It resumes after the replay id stored in Redis.
 */
@Injectable()
export class StreamLeader extends LeasedSource {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(REDIS) redis: Redis,
    @Inject(SALESFORCE_STREAM) stream: ChangeSource,
    metrics: MetricsService,
  ) {
    super(redis, {
      what: 'Salesforce presence stream',
      leaseKey: `${config.redis.prefix}:lease:salesforce-stream`,
      leaseTtlMs: config.salesforce.streamLeaseTtlMs,
      source: stream,
      // The live adapter's CometD subscription; the in-memory org has none to lose.
      connected: () => (stream instanceof JsforceSalesforceAdapter ? stream.stream.subscribed : true),
      giveUpAfterMs: config.salesforce.streamGiveUpMs,
      onRole: (active) => metrics.setStreamActive(active),
    }, StreamLeader.name);
  }
}
