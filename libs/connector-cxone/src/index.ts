export {
  CXONE_ON_CONTACT_REASON,
  CxoneConnector,
  DEFAULT_CXONE_API_VERSION,
  DEFAULT_CXONE_POLL_INTERVAL_MS,
  DEFAULT_CXONE_RESUME_MAX_AGE_MS,
  parseRetryAfter,
  type CxoneConnectorOptions,
  type CxoneTeamCodes,
} from './cxone.connector';
export { CxoneApiClient, CxoneAuthError, tenantIdOfToken, type CxoneApiClientOptions } from './cxone-api.client';
export { isAfterContactWork, parseCxoneDate, stateEventId, toAcdChange, toAcdState, type CxoneAgentStateRecord } from './cxone-agent-state.mapping';
export { CxoneStatePoller, DEFAULT_CHECKPOINT_KEY, type CxoneStatePage, type CxoneStateReader, type CxoneStatePollerOptions } from './cxone-state.poller';
