export { ContactCenterReadError, type ContactCenterReadFailure } from '@presence-sync/domain';
export {
  DEFAULT_RETRY_AFTER_MS,
  DEFAULT_TIMEOUT_MS,
  GENERIC_MAX_ANSWER_BYTES,
  GenericContactCenterClient,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  type GenericContactCenterClientOptions,
} from './generic-contact-center.client';
export { GENERIC_MAX_TEXT_LENGTH } from './generic-contract.schema';
export {
  checkGenericHeaders,
  GENERIC_MAX_BODY_BYTES,
  GENERIC_MAX_EVENTS_PER_REQUEST,
  GENERIC_MAX_REPORTED_ERRORS,
  GENERIC_SIGNATURE_HEADER,
  GENERIC_SIGNATURE_TOLERANCE_SEC,
  GENERIC_TIMESTAMP_HEADER,
  parseGenericEvents,
  signGenericWebhook,
  verifyGenericSignature,
  type GenericEventError,
  type GenericEventsParse,
  type GenericHeaderCheckInput,
  type GenericParseOptions,
  type SignatureCheck,
  type VerifyGenericSignatureInput,
} from './generic-webhook';
export {
  declaredBodyTooLarge,
  readWebhookBody,
  WEBHOOK_BODY_TIMEOUT_MS,
  WebhookBodyBudget,
  type ReadWebhookBodyOptions,
  type WebhookBodyRead,
  type WebhookBodyRefusal,
  type WebhookBodySource,
} from './webhook-body.reader';
export { GENERIC_WEBHOOK_PATH, GenericWebhookIntake } from './generic-webhook.intake';
