import { RepeatLimitedLog, type LogLine } from './repeat-limited.log';

function recorder() {
  const lines: { level: string; line: LogLine }[] = [];
  const logger = {
    error: (line: object) => lines.push({ level: 'error', line: line as LogLine }),
    warn: (line: object) => lines.push({ level: 'warn', line: line as LogLine }),
    log: (line: object) => lines.push({ level: 'log', line: line as LogLine }),
  };
  return { lines, logger };
}

describe(RepeatLimitedLog.name, () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('writes the first line of a kind, counts the rest and reports them in one summary per interval', () => {
    const { lines, logger } = recorder();
    const log = new RepeatLimitedLog(logger, 1000);
    for (let i = 0; i < 500; i++) log.warn('401', { msg: 'webhook rejected', status: 401 });
    log.error('redis', { msg: 'Redis connection error', error: 'ECONNREFUSED' });
    expect(lines).toEqual([
      { level: 'warn', line: { msg: 'webhook rejected', status: 401 } },
      { level: 'error', line: { msg: 'Redis connection error', error: 'ECONNREFUSED' } },
    ]);
    jest.advanceTimersByTime(1000);
    expect(lines.slice(2)).toEqual([{ level: 'warn', line: { msg: 'webhook rejected', status: 401, repeated: 499, intervalMs: 1000 } }]);
    // Still flooding: one summary per interval, no new first line.
    for (let i = 0; i < 30; i++) log.warn('401', { msg: 'webhook rejected', status: 401 });
    jest.advanceTimersByTime(1000);
    expect(lines.slice(3)).toEqual([{ level: 'warn', line: { msg: 'webhook rejected', status: 401, repeated: 30, intervalMs: 1000 } }]);
  });

  it('forgets a kind that stayed quiet for an interval: its next line is written at once', () => {
    const { lines, logger } = recorder();
    const log = new RepeatLimitedLog(logger, 1000);
    log.warn('k', { msg: 'a' });
    jest.advanceTimersByTime(1000);
    jest.advanceTimersByTime(1000);
    log.warn('k', { msg: 'a' });
    expect(lines.map((l) => l.line)).toEqual([{ msg: 'a' }, { msg: 'a' }]);
  });

  it('close() writes the pending summary and stops its timer', () => {
    const { lines, logger } = recorder();
    const log = new RepeatLimitedLog(logger, 1000);
    log.warn('k', { msg: 'a' });
    log.warn('k', { msg: 'a' });
    log.close();
    expect(lines.map((l) => l.line)).toEqual([{ msg: 'a' }, { msg: 'a', repeated: 1, intervalMs: 1000 }]);
    expect(jest.getTimerCount()).toBe(0);
  });
});
