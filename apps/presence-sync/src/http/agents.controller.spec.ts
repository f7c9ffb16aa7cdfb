import { BadRequestException } from '@nestjs/common';
import { AUDIT_LIMIT_DEFAULT, AUDIT_LIMIT_MAX, auditLimit } from './agents.controller';

describe(auditLimit.name, () => {
  it('takes a whole number from 1 to the maximum, and the default when absent', () => {
    expect(auditLimit(undefined)).toBe(AUDIT_LIMIT_DEFAULT);
    expect(auditLimit('1')).toBe(1);
    expect(auditLimit('20')).toBe(20);
    expect(auditLimit(String(AUDIT_LIMIT_MAX))).toBe(AUDIT_LIMIT_MAX);
  });

  it.each([
    ['abc', /; got "abc"$/],
    ['', /; got ""$/],
    ['0', /; got 0$/],
    ['-5', /; got "-5"$/],
    ['2.5', /; got "2\.5"$/],
    ['1e3', /; got "1e3"$/],
    [String(AUDIT_LIMIT_MAX + 1), new RegExp(`; got ${AUDIT_LIMIT_MAX + 1}$`)],
    ['9'.repeat(40), /; got "9{20}…"$/],
    [['1', '2'], /; give it once$/],
    [{ a: '1' }, /; give it once$/],
  ])('refuses %j with the reason', (raw, reason) => {
    expect(() => auditLimit(raw)).toThrow(BadRequestException);
    expect(() => auditLimit(raw)).toThrow(new RegExp(`^limit must be a whole number from 1 to ${AUDIT_LIMIT_MAX} \\(default ${AUDIT_LIMIT_DEFAULT}\\)`));
    expect(() => auditLimit(raw)).toThrow(reason);
  });
});
