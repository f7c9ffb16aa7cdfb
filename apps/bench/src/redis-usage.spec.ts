import { addUsage, parseRedisUsage, usageBetween } from './redis-usage';

const INFO = [
  '# CPU',
  'used_cpu_sys:1.250000',
  'used_cpu_user:2.500000',
  'used_cpu_sys_children:9.000000',
  'used_cpu_user_children:9.000000',
  '',
  '# Commandstats',
  'cmdstat_get:calls=7,usec=2,usec_per_call=0.29,rejected_calls=0,failed_calls=0',
  'cmdstat_evalsha:calls=3,usec=279,usec_per_call=93.00,rejected_calls=0,failed_calls=1',
  'cmdstat_eval:calls=1,usec=279,usec_per_call=279.00,rejected_calls=0,failed_calls=0',
  'cmdstat_config|get:calls=2,usec=9,usec_per_call=4.50,rejected_calls=0,failed_calls=0',
  'cmdstat_info:calls=40,usec=900,usec_per_call=22.50,rejected_calls=0,failed_calls=0',
  'cmdstat_zadd:calls=12,usec=40,usec_per_call=3.33,rejected_calls=1,failed_calls=0',
].join('\r\n');

describe('parseRedisUsage', () => {
  it('sums the calls of every command, scripts and subcommands included, but not INFO', () => {
    expect(parseRedisUsage(INFO)).toEqual({ commands: 7 + 3 + 1 + 2 + 12, scriptCalls: 4, cpuMs: 3750 });
  });

  it('reads nothing from text that is not INFO', () => {
    expect(parseRedisUsage('ERR unknown section\n')).toEqual({ commands: 0, scriptCalls: 0, cpuMs: 0 });
  });

  it('sums nodes and takes the difference of two readings', () => {
    const one = parseRedisUsage(INFO);
    const two = addUsage(one, one);
    expect(two).toEqual({ commands: 50, scriptCalls: 8, cpuMs: 7500 });
    expect(usageBetween(one, two)).toEqual(one);
  });
});
