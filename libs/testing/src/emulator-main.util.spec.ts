import { checkPort, readFlags } from './emulator-main.util';

describe(readFlags.name, () => {
  it('hands each flag its value and runs switches', () => {
    const seen: string[] = [];
    readFlags(['--port', '8443', '--no-consoles', '--users', 'a.txt'], {
      '--port': (v) => seen.push(`port=${v}`),
      '--users': (v) => seen.push(`users=${v}`),
    }, { '--no-consoles': () => seen.push('no-consoles') });
    expect(seen).toEqual(['port=8443', 'no-consoles', 'users=a.txt']);
  });

  it('refuses an unknown flag and a flag without its value, in one line', () => {
    expect(() => readFlags(['--prot', '1'], { '--port': () => undefined })).toThrow(/^unknown argument --prot$/);
    expect(() => readFlags(['--port'], { '--port': () => undefined })).toThrow(/^--port needs a value$/);
    // A switch takes no value: what follows it is the next flag.
    expect(() => readFlags(['--quiet', '3'], {}, { '--quiet': () => undefined })).toThrow(/^unknown argument 3$/);
  });
});

describe(checkPort.name, () => {
  it('takes 0 to 65535 and names the flag otherwise', () => {
    expect(() => checkPort('--port', 0)).not.toThrow();
    expect(() => checkPort('--port', 65_535)).not.toThrow();
    for (const bad of [-1, 65_536, 1.5, Number.NaN]) expect(() => checkPort('--kinesis-port', bad)).toThrow(/^--kinesis-port must be 0–65535$/);
  });
});
