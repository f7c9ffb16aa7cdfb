export {
  DEFAULT_WEBEX_SUBSCRIPTION_NAME,
  DEFAULT_WEBEX_TOKEN_URL,
  secretFingerprint,
  WebexConnector,
  type WebexConnectorOptions,
} from './webex.connector';
export { NoAnswer, parseRetryAfter, vendorText, WebexApiClient, type WebexAnswer, type WebexApiClientOptions } from './webex-api.client';
export { refreshTokenOrigin, WebexAuthError, WebexTokenSource, type WebexTokenSourceOptions } from './webex-token.source';
export { isOnContact, rollUpChannels, WEBEX_RONA_CODE, webexStateToAcd } from './webex-state.mapping';
export {
  signWebexBody,
  WEBEX_AGENT_EVENT_TYPES,
  WEBEX_MAX_BODY_BYTES,
  WEBEX_SIGNATURE_HEADER,
  WEBEX_WEBHOOK_PATH,
  WebexWebhookIntake,
  type WebexCodeNames,
} from './webex-webhook.intake';
