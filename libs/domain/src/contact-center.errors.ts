import { PresenceSyncError } from './errors';

/** Why a read (`listAgents`, `listTeams`) failed. */
export type ContactCenterReadFailure =
  | 'unauthorized' // 401/403: the token is wrong or lacks rights; retrying will not help
  | 'bad-response' // the body does not have the contract's shape
  | 'http-error' // another unexpected status
  | 'server-error' // 5xx, after the client's own retries
  | 'network' // connection refused / reset, after the client's own retries
  | 'timeout'; // no complete answer in time, after the client's own retries

/**
 * A failed catalog read. Writes use the domain's write errors instead; reads have no queue behind them, so
 * the caller (boot, reconcile) only needs to know whether trying again later can help.
 */
export class ContactCenterReadError extends PresenceSyncError {
  constructor(
    readonly reason: ContactCenterReadFailure,
    message: string,
    readonly httpStatus?: number,
  ) {
    super(message);
  }

  get retryable(): boolean {
    return this.reason === 'server-error' || this.reason === 'network' || this.reason === 'timeout';
  }
}
