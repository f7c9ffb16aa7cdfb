import { createPrivateKey, sign } from 'node:crypto';

/** The grant type of Salesforce's OAuth 2.0 JWT bearer flow (RFC 7523). */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** Salesforce rejects assertions whose `exp` is more than three minutes away. */
const LIFETIME_SEC = 180;

export interface JwtBearerClaims {
  /** The connected app's consumer key. */
  clientId: string;
  /** The Salesforce username the token is for. */
  username: string;
  /** The authorization server: the login URL (production, test, or the site URL). */
  audience: string;
  /** PEM of the RSA key whose certificate is on the connected app. */
  privateKey: string;
  /** Epoch ms; injectable so tests can pin it. */
  now?: number;
}

const b64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

/**
 * Builds the signed assertion of the JWT bearer flow: header `{"alg":"RS256"}`, claims `iss` (client id),
 * `sub` (username), `aud` (login URL), `exp` (now + 3 min), signed RS256 with node:crypto (no JWT library).
 */
export function buildJwtBearerAssertion(claims: JwtBearerClaims): string {
  const issuedAt = Math.floor((claims.now ?? Date.now()) / 1000);
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
  const payload = b64url(JSON.stringify({ iss: claims.clientId, sub: claims.username, aud: claims.audience, exp: issuedAt + LIFETIME_SEC }));
  const signingInput = `${header}.${payload}`;
  const signature = sign('RSA-SHA256', Buffer.from(signingInput), createPrivateKey(claims.privateKey));
  return `${signingInput}.${b64url(signature)}`;
}
