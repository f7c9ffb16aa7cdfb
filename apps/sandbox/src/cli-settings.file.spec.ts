import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { formatSettingsFile, removeSettingsFile, writeSettingsFile } from './cli-settings.file';

describe(formatSettingsFile.name, () => {
  it('writes NAME=value lines that util.parseEnv (what --settings-file uses) reads back unchanged', () => {
    const settings = {
      ACD_BASE_URL: 'http://127.0.0.1:4010/v1', ACD_TOKEN: 'tok-abc=def', SALESFORCE_PASSWORD: 'pass word #1', RULES_DIR: 'rules',
      AWS_SECRET_ACCESS_KEY: 'a/b+c"d',
    };
    const text = formatSettingsFile(settings, 'written by npm run demo\nremoved when it stops');
    expect(text.split('\n').slice(0, 2)).toEqual(['# written by npm run demo', '# removed when it stops']);
    expect(parseEnv(text)).toEqual(settings);
  });

  it('refuses a value it could not write so that it reads back the same', () => {
    expect(() => formatSettingsFile({ X: 'a\nb' }, 'c')).toThrow(/setting X: a value on several lines/);
    expect(() => formatSettingsFile({ X: `it's "quoted" here` }, 'c')).toThrow(/setting X: /);
  });

  it('writes the file for its owner only, and removes it (twice is fine)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ps-settings-'));
    try {
      const file = join(dir, 'demo.env');
      writeSettingsFile(file, { A: '1' }, 'c');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(parseEnv(readFileSync(file, 'utf8'))).toEqual({ A: '1' });
      removeSettingsFile(file);
      removeSettingsFile(file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
