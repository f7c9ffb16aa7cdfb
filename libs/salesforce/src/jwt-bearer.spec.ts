import { generateKeyPairSync, verify } from 'node:crypto';
import { buildJwtBearerAssertion } from './jwt-bearer';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const decode = (part: string): Record<string, unknown> => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;

describe(buildJwtBearerAssertion.name, () => {
  it('signs iss/sub/aud/exp with RS256', () => {
    const now = Date.parse('2026-03-02T10:00:00.000Z');
    const jwt = buildJwtBearerAssertion({ clientId: '3MVG9-client', username: 'int@acme.example', audience: 'https://login.salesforce.com', privateKey: PEM, now });
    const [header, payload, signature] = jwt.split('.');
    expect(decode(header)).toEqual({ alg: 'RS256', typ: 'JWT' });
    expect(decode(payload)).toEqual({ iss: '3MVG9-client', sub: 'int@acme.example', aud: 'https://login.salesforce.com', exp: now / 1000 + 180 });
    expect(verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(signature, 'base64url'))).toBe(true);
    expect(jwt).not.toMatch(/[=+/]/);
  });
});
