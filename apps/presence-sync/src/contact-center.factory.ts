import type Redis from 'ioredis';
import type { AppConfig } from '@presence-sync/config';
import { GenericContactCenterClient } from '@presence-sync/contact-center';
import { ConfigError, type ContactCenterPort } from '@presence-sync/domain';
import type { RedisKeys } from '@presence-sync/redis';

/**
 * What a connector may need from the daemon. The CLI builds connectors without Redis (it only reads catalogs);
 * a connector that keeps rotating tokens across replicas needs both.
 */
export interface ConnectorDeps {
  redis?: Redis;
  keys?: RedisKeys;
}

/** The connector `ACD_CONNECTOR` names, built from its settings (loaded and checked by `loadConfig`). */
export function createContactCenter(config: AppConfig, _deps: ConnectorDeps = {}): ContactCenterPort {
  const acd = config.acd;
  switch (acd.connector) {
    case 'generic': {
      const generic = acd.generic;
      if (!generic) throw new ConfigError('invalid setting ACD_CONNECTOR: generic needs ACD_BASE_URL, ACD_TOKEN and ACD_WEBHOOK_SECRET, and none were loaded');
      return new GenericContactCenterClient({
        baseUrl: generic.baseUrl, token: generic.token, timeoutMs: acd.timeoutMs, webhookSecret: generic.webhookSecret, webhookToleranceSec: acd.webhookToleranceSec,
      });
    }
    default:
      throw new ConfigError(`invalid setting ACD_CONNECTOR: the ${acd.connector} connector is not built into this version`);
  }
}
