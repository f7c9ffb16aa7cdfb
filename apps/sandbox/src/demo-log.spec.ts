import { DemoLog, formatLogLine } from './demo-log';

const at = new Date(2026, 0, 5, 7, 9, 4).getTime();

describe('formatLogLine', () => {
  it('turns a JSON log line into time, level, context, message and the other fields', () => {
    const line = JSON.stringify({
      level: 40, time: at, service: 'presence-sync', context: 'Salesforce', msg: 'presence changes may have been missed: asking for a drift repair',
      reason: 'resubscribed for new events only (replay id -1)',
    });
    expect(formatLogLine(line)).toBe('07:09:04 warning Salesforce: presence changes may have been missed: asking for a drift repair (reason: resubscribed for new events only (replay id -1))');
  });

  it('shows objects as JSON and leaves out what every line has', () => {
    expect(formatLogLine(JSON.stringify({ level: 50, time: at, pid: 1, hostname: 'h', msg: 'rules reload rejected', errors: ['a.json:1:2: bad'], errorCount: 1 })))
      .toBe('07:09:04 error rules reload rejected (errors: ["a.json:1:2: bad"]; errorCount: 1)');
  });

  it('keeps a line that is not a JSON object as it is', () => {
    expect(formatLogLine('plain text\n')).toBe('plain text');
    expect(formatLogLine('[1,2]')).toBe('[1,2]');
  });
});

describe(DemoLog.name, () => {
  it('holds the lines until released, then writes them and every later one readable', () => {
    const out: string[] = [];
    const log = new DemoLog((l) => out.push(l));
    log.write(`${JSON.stringify({ level: 40, time: at, msg: 'first' })}\n`);
    log.write(`${JSON.stringify({ level: 30, time: at, msg: 'second' })}\n`);
    expect(out).toEqual([]);
    log.release();
    log.write(`${JSON.stringify({ level: 50, time: at, msg: 'third' })}\n`);
    expect(out).toEqual(['07:09:04 warning first', '07:09:04 info second', '07:09:04 error third']);
  });
});
