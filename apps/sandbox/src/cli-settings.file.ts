import { rmSync, writeFileSync } from 'node:fs';

/**
 * Where `npm run demo` writes the settings the CLI needs while it runs (in the directory it was started from):
 * `npx presence-sync --settings-file .presence-sync-demo.env rules explain …`. Removed when the demo stops.
 */
export const DEMO_SETTINGS_FILE = '.presence-sync-demo.env';

/** A value as `NAME=value` keeps it: plain when it is safe, else in single quotes (no escapes are read there). */
function quoted(name: string, value: string): string {
  if (/[\r\n]/.test(value)) throw new Error(`setting ${name}: a value on several lines cannot be written to a settings file`);
  if (/^[^\s#'"`\\]*$/.test(value)) return value;
  if (!value.includes("'")) return `'${value}'`;
  throw new Error(`setting ${name}: a value with both quotes and spaces cannot be written to a settings file`);
}

/** `NAME=value` lines under a comment, sorted by name; `util.parseEnv` and `--settings-file` read them back. */
export function formatSettingsFile(settings: Readonly<Record<string, string>>, comment: string): string {
  const lines = Object.keys(settings).sort().map((name) => `${name}=${quoted(name, settings[name])}`);
  return `${comment.split('\n').map((line) => `# ${line}`).join('\n')}\n${lines.join('\n')}\n`;
}

/** Writes the file readable by its owner only (it holds the emulators' credentials). */
export function writeSettingsFile(path: string, settings: Readonly<Record<string, string>>, comment: string): void {
  writeFileSync(path, formatSettingsFile(settings, comment), { mode: 0o600 });
}

export function removeSettingsFile(path: string): void {
  rmSync(path, { force: true });
}
