import { encryptSecret, generateSecretsKey, parseSecretsKey, SecretError, SECRETS_KEY_SETTING } from '@presence-sync/config';
import type { CliIo } from './rules.commands';

/** The CLI's output plus the way to read the value to encrypt (stdin, so it never lands in shell history). */
export interface SecretsIo extends CliIo {
  readStdin(): Promise<string>;
}

/** Exit codes: 0 done, 2 usage (no or bad key, nothing to encrypt). */
const OK = 0;
const USAGE = 2;

/** Drops the one newline `echo` or a heredoc adds; anything else is part of the secret. */
const withoutFinalNewline = (text: string): string => text.replace(/\r?\n$/, '');

/**
 * `presence-sync secrets encrypt [--value <v>]`: prints only the `enc:v1:…` text of the value, sealed with
 * `SECRETS_KEY`, for use as any secret setting. The value is read from stdin unless given (a value on the
 * command line ends up in the shell history: a warning says so).
 */
export async function runSecretsEncrypt(opts: { value?: string }, io: SecretsIo, env: Record<string, string | undefined> = process.env): Promise<number> {
  let key: Buffer;
  try {
    key = parseSecretsKey(env[SECRETS_KEY_SETTING]);
  } catch (e) {
    io.err(`error: ${e instanceof SecretError ? e.message : String(e)} (create one with \`presence-sync secrets generate-key\`)`);
    return USAGE;
  }
  let value: string;
  if (opts.value !== undefined) {
    io.err('warning: a value given on the command line is kept in the shell history; prefer piping it on stdin');
    value = opts.value;
  } else {
    value = withoutFinalNewline(await io.readStdin());
  }
  if (value === '') {
    io.err('error: nothing to encrypt (pipe the value on stdin, e.g. `printf %s "$VALUE" | presence-sync secrets encrypt`)');
    return USAGE;
  }
  io.out(encryptSecret(value, key));
  return OK;
}

/** `presence-sync secrets generate-key`: a new random `SECRETS_KEY` (64 hex characters). */
export function runSecretsGenerateKey(io: CliIo): number {
  io.out(generateSecretsKey());
  return OK;
}

/**
 * Reads all of a stream (default: the process's stdin) as UTF-8. On a terminal it first tells the user how
 * to end the input, since nothing is echoed as a prompt otherwise.
 */
export async function readAllStdin(
  stream: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin,
  hint: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<string> {
  if (stream.isTTY) hint('type the value, then press Ctrl-D (it is not stored anywhere)');
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
  return Buffer.concat(chunks).toString('utf8');
}
