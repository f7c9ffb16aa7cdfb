import { indexOpenWork, OPEN_WORK_SOQL, openWorkSoql, type AgentWorkRecord } from './agent-work.reader';

const A = '005000000000001AAA';
const B = '005000000000002AAA';
const item = (user: string, channel: string | null, weight: number | null, percentage: number | null = null): AgentWorkRecord => ({
  UserId: user, ServiceChannelId: `0N9${channel ?? 'x'}`, ServiceChannel: channel === null ? null : { DeveloperName: channel }, CapacityWeight: weight, CapacityPercentage: percentage,
});

describe(indexOpenWork.name, () => {
  it.each<[string, AgentWorkRecord[], string, { channels: Record<string, number>; load: number }]>([
    ['no open work', [], A, { channels: {}, load: 0 }],
    ['items per channel, load = Σ weight', [item(A, 'sfdc_liveagent', 1), item(A, 'sfdc_liveagent', 1), item(A, 'sfdc_case', 2), item(B, 'sfdc_case', 2)], A,
      { channels: { sfdc_liveagent: 2, sfdc_case: 1 }, load: 4 }],
    ['percentage-based items add their percentage', [item(A, 'sfdc_phone', null, 100)], A, { channels: { sfdc_phone: 1 }, load: 100 }],
    ['a channel that cannot be read is named by its id', [item(A, null, 1)], A, { channels: { '0N9x': 1 }, load: 1 }],
    ['found by the 15-character id too', [item(A, 'sfdc_case', 2)], A.slice(0, 15), { channels: { sfdc_case: 1 }, load: 2 }],
  ])('%s', (_name, records, user, expected) => {
    expect(indexOpenWork(records).of(user)).toEqual(expected);
  });

  it('adds the capacity of the presence row (0 when unknown)', () => {
    const index = indexOpenWork([item(A, 'sfdc_liveagent', 1)]);
    expect(index.workload(A, 3)).toEqual({ channels: { sfdc_liveagent: 1 }, load: 1, capacity: 3 });
    expect(index.workload(B, null)).toEqual({ channels: {}, load: 0, capacity: 0 });
  });
});

describe(openWorkSoql.name, () => {
  it('asks for open work only (Assigned or Opened), of everyone or of some users', () => {
    expect(openWorkSoql()).toBe(OPEN_WORK_SOQL);
    expect(OPEN_WORK_SOQL).toMatch(/FROM AgentWork WHERE Status IN \('Assigned', 'Opened'\)$/);
    expect(openWorkSoql([A, "x'y"])).toBe(`${OPEN_WORK_SOQL} AND UserId IN ('${A}', 'x\\'y')`);
  });
});
