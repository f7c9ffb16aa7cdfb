import { MASK, SecretMaskingStream } from './secret-masking.stream';

describe(SecretMaskingStream.name, () => {
  it('masks every secret, raw and JSON-escaped, and leaves other text alone', () => {
    const written: string[] = [];
    const stream = new SecretMaskingStream(['hunter2-pass', 'quote"d\\secret'], { write: (s: string) => written.push(s) });
    stream.write(`${JSON.stringify({ msg: 'auth failed', args: ['hunter2-pass'], other: 'quote"d\\secret', keep: 'hunter' })}\n`);
    const line = JSON.parse(written[0]) as Record<string, unknown>;
    expect(line).toEqual({ msg: 'auth failed', args: [MASK], other: MASK, keep: 'hunter' });
  });
});
