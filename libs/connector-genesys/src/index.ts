export {
  GenesysConnector,
  genesysRetryAfterMs,
  viewOfUser,
  type GenesysConnectorOptions,
} from './genesys.connector';
export { GenesysApiClient, GenesysAuthError, GenesysNoAnswer, type GenesysAnswer, type GenesysApiClientOptions } from './genesys-api.client';
export { GenesysNotificationSource, topicsPerAgent, type GenesysSourceApi, type GenesysSourceOptions } from './genesys-notification.source';
export {
  AVAILABLE_PRESENCES,
  ON_CONTACT_ROUTING,
  parseGenesysDate,
  sinceOf,
  toAcdChange,
  toAcdState,
  type GenesysPresenceDefinition,
  type GenesysUserView,
} from './genesys-state.mapping';
export { FrameReader, GenesysWebSocket, WS_OPCODE, connectWebSocket, encodeFrame, websocketAccept } from './genesys-websocket';
