import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PRESENCE_RULES_SCHEMA, presenceRulesSchemaText } from './presence-rules.schema';

const SHIPPED = join(__dirname, '..', '..', '..', 'rules', 'presence-rules.schema.json');

describe('PRESENCE_RULES_SCHEMA', () => {
  // The regeneration switch lives in the test so that the file and the const can never be produced two ways.
  if (process.env.PRESENCE_RULES_WRITE_SCHEMA === '1') writeFileSync(SHIPPED, presenceRulesSchemaText());

  it('is shipped byte-identical as rules/presence-rules.schema.json', () => {
    expect(readFileSync(SHIPPED, 'utf8')).toBe(presenceRulesSchemaText());
  });

  it('parses back to the same object', () => {
    expect(JSON.parse(readFileSync(SHIPPED, 'utf8'))).toEqual(PRESENCE_RULES_SCHEMA);
  });

  it('has no oneOf/anyOf, whose errors would list every branch to the admin', () => {
    expect(presenceRulesSchemaText()).not.toMatch(/"(oneOf|anyOf)"/);
  });

  it('documents every top-level field for editors', () => {
    for (const [field, schema] of Object.entries(PRESENCE_RULES_SCHEMA.properties)) {
      expect({ field, description: typeof schema.description }).toEqual({ field, description: 'string' });
    }
  });
});
