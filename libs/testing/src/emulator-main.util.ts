// What every emulator's standalone entry (`npm run emulator:<vendor>`) does the same way: read its flags, check a
// port, and run until Ctrl-C or SIGTERM, with a bad argument or a failed start as one line and exit code 1.

/**
 * Reads the command line: each flag of `valued` takes the next argument (`--port 8443`), each of `switches` none.
 * An unknown flag or a missing value throws an Error of one line.
 */
export function readFlags(argv: readonly string[], valued: Record<string, (value: string) => void>, switches: Record<string, () => void> = {}): void {
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const take = valued[flag];
    const toggle = switches[flag];
    if (take) {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${flag} needs a value`);
      take(value);
    } else if (toggle) toggle();
    else throw new Error(`unknown argument ${flag}`);
  }
}

/** Throws unless `port` is a TCP port number (0: a free one). */
export function checkPort(flag: string, port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`${flag} must be 0–65535`);
}

/**
 * Runs an emulator's entry: `start` starts it and prints what it prints; the process then stops it on Ctrl-C or
 * SIGTERM (a second signal while stopping is ignored). A failure of `start` prints `<name>: <message>` and exits 1.
 */
export function runEmulatorMain(name: string, start: () => Promise<{ stop(): Promise<void> }>): void {
  start().then((emulator) => {
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      void emulator.stop().then(() => process.exit(0));
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  }, (error: unknown) => {
    console.error(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
