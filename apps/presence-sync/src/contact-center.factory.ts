import type Redis from 'ioredis';
import type { AppConfig } from '@presence-sync/config';
import { Logger } from '@nestjs/common';
import { GenericContactCenterClient } from '@presence-sync/contact-center';
import { CxoneConnector } from '@presence-sync/connector-cxone';
import { AmazonConnectConnector, RedisTokenBucket } from '@presence-sync/connector-amazon-connect';
import { GenesysConnector } from '@presence-sync/connector-genesys';
import { WebexConnector } from '@presence-sync/connector-webex';
import { ConfigError, type ConnectorCapabilities, type ConnectorLogger, type ConnectorName, type ContactCenterPort } from '@presence-sync/domain';
import { RedisCheckpointStore, RedisKeys, RedisRefreshTokenStore } from '@presence-sync/redis';

/**
 * What a connector may need from the daemon. The CLI builds connectors without Redis (it only reads catalogs);
 * a connector that keeps rotating tokens across replicas needs both.
 */
export interface ConnectorDeps {
  redis?: Redis;
  keys?: RedisKeys;
}

/** The connector `ACD_CONNECTOR` names, built from its settings (loaded and checked by `loadConfig`). */
export function createContactCenter(config: AppConfig, deps: ConnectorDeps = {}): ContactCenterPort {
  const acd = config.acd;
  switch (acd.connector) {
    case 'generic': {
      const generic = acd.generic;
      if (!generic) throw new ConfigError('invalid setting ACD_CONNECTOR: generic needs ACD_BASE_URL, ACD_TOKEN and ACD_WEBHOOK_SECRET, and none were loaded');
      return new GenericContactCenterClient({
        baseUrl: generic.baseUrl, token: generic.token, timeoutMs: acd.timeoutMs, webhookSecret: generic.webhookSecret, webhookToleranceSec: acd.webhookToleranceSec,
      });
    }
    case 'cxone': {
      const cxone = acd.cxone;
      if (!cxone) throw new ConfigError('invalid setting ACD_CONNECTOR: cxone needs the CXONE_* settings, and none were loaded');
      return new CxoneConnector({
        ...cxone, timeoutMs: acd.timeoutMs, logger: nestLogger('CxoneConnector'),
        // The poll watermark lives in Redis, so a restart or another replica taking the lease resumes where it stopped.
        checkpoints: deps.redis && deps.keys ? new RedisCheckpointStore(deps.redis, deps.keys) : undefined,
      });
    }
    case 'webex': {
      const webex = acd.webex;
      if (!webex) throw new ConfigError('invalid setting ACD_CONNECTOR: webex needs the WEBEX_* settings, and none were loaded');
      return new WebexConnector({
        ...webex, timeoutMs: acd.timeoutMs,
        // The current refresh token is kept in Redis (sealed with SECRETS_KEY) for every replica and restart, under
        // its own prefix so it never meets the Salesforce one. Without Redis (the CLI) the configured token is used.
        refreshTokens: deps.redis && deps.keys ? new RedisRefreshTokenStore(deps.redis, new RedisKeys(`${deps.keys.prefix}:webex`), webex.storeKey, { vendor: 'Webex' }) : undefined,
      });
    }
    case 'genesys': {
      const genesys = acd.genesys;
      if (!genesys) throw new ConfigError('invalid setting ACD_CONNECTOR: genesys needs the GENESYS_* settings, and none were loaded');
      const { afterCallWork, ...account } = genesys;
      return new GenesysConnector({
        ...account, timeoutMs: acd.timeoutMs, source: { afterCallWork },
        logger: nestLogger('GenesysConnector'),
      });
    }
    case 'amazon-connect': {
      const connect = acd.amazonConnect;
      if (!connect) throw new ConfigError('invalid setting ACD_CONNECTOR: amazon-connect needs the AMAZON_CONNECT_* settings, and none were loaded');
      return new AmazonConnectConnector({
        ...connect, logger: nestLogger('AmazonConnectConnector'),
        // One token bucket for all replicas (the account's API rate is per account and region), and the shard
        // checkpoints in Redis, so the replica that takes the lease resumes where the last one stopped.
        limiter: deps.redis && deps.keys ? new RedisTokenBucket(deps.redis, `${deps.keys.prefix}:amazon-connect:rate`, connect.requestsPerSecond, connect.burst) : undefined,
        checkpoints: deps.redis && deps.keys ? new RedisCheckpointStore(deps.redis, deps.keys) : undefined,
      });
    }
  }
}

/**
 * What the connector `ACD_CONNECTOR` names can do, without building it (no settings, no network): `rules validate`
 * checks rules against it even offline, exactly as the daemon does with the connector it built.
 */
export function connectorCapabilities(name: ConnectorName): ConnectorCapabilities {
  switch (name) {
    case 'generic':
      return GenericContactCenterClient.capabilities;
    case 'cxone':
      return CxoneConnector.capabilities;
    case 'webex':
      return WebexConnector.capabilities;
    case 'genesys':
      return GenesysConnector.capabilities;
    case 'amazon-connect':
      return AmazonConnectConnector.capabilities;
  }
}

/** A connector's log lines through Nest's logger (pino). */
function nestLogger(context: string): ConnectorLogger {
  const logger = new Logger(context);
  return {
    debug: (msg, fields) => logger.debug({ msg, ...fields }),
    info: (msg, fields) => logger.log({ msg, ...fields }),
    warn: (msg, fields) => logger.warn({ msg, ...fields }),
  };
}
