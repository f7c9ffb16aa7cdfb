import { readFileSync } from 'node:fs';

/**
 * ` ("<why>")`, to show why a daemon stopped: the last line of its log that names an error (a crash ends with a
 * stack and the Node version, its reason is above them), else the last line; empty when the log is empty.
 */
export function lastLine(logFile: string): string {
  let text = '';
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return '';
  }
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('at '));
  const reason = [...lines].reverse().find((l) => /\b(error|cannot|refused|failed|invalid)\b/i.test(l)) ?? lines.at(-1);
  return reason ? ` ("${reason.slice(0, 300)}")` : '';
}
