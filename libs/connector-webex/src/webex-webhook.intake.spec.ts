import { signWebexBody, WebexWebhookIntake } from './webex-webhook.intake';

const SECRET = 'intake-spec-secret-0123456789-abcdef';
const CODES: Record<string, string> = { 'code-lunch': 'Lunch' };
const intake = new WebexWebhookIntake(SECRET, (id) => CODES[id]);

function delivery(body: unknown, secret = SECRET): { raw: Buffer; headers: Record<string, string> } {
  const raw = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  return { raw, headers: { 'x-webexcc-signature': signWebexBody(raw, secret) } };
}

const envelope = (type: string, data: Record<string, unknown>) => ({
  id: 'evt-1', specversion: '1.0', type, source: '/com/cisco/wxcc/sub-1', comciscoorgid: 'org-1', datacontenttype: 'application/json', data,
});

describe(WebexWebhookIntake.name, () => {
  it.each([
    ['agent:state_change', { agentId: 'a1', currentState: 'idle', idleCodeId: 'code-lunch', createdTime: 1000 }, { state: 'Unavailable', code: 'Lunch' }],
    ['agent:state_change', { agentId: 'a1', currentState: 'idle', idleCodeId: 'unknown', idleCodeName: 'Break', createdTime: 1000 }, { state: 'Unavailable', code: 'Break' }],
    ['agent:state_change', { agentId: 'a1', currentState: 'Available', createdTime: '1000' }, { state: 'Available' }],
    ['agent:state_change', { agentId: 'a1', currentState: 'connected', createdTime: 1000 }, { state: 'Busy' }],
    ['agent:state_change', { agentId: 'a1', currentState: 'wrapup', wrapUpAuxCodeId: 'w', createdTime: 1000 }, { state: 'AfterWork' }],
    ['agent:login', { agentId: 'a1', createdTime: 1000 }, { state: 'Unavailable' }],
    ['agent:logout', { agentId: 'a1', createdTime: 1000 }, { state: 'Offline' }],
  ])('%s %j → %j', (type, data, state) => {
    const { raw, headers } = delivery(envelope(type, data));
    const parsed = intake.parse(raw, headers, 2000);
    expect(parsed).toEqual({ ok: true, changes: [{ side: 'acd', eventId: 'evt-1', agentId: 'a1', occurredAt: 1000, state, receivedAt: 2000 }] });
  });

  it('counts event types and states it does not need as ignored', () => {
    for (const body of [envelope('task:new', { taskId: 't' }), envelope('agent:state_change', { agentId: 'a1', currentState: 'wrapup-done', createdTime: 1 })]) {
      const { raw, headers } = delivery(body);
      expect(intake.parse(raw, headers, 2)).toEqual({ ok: true, changes: [], ignored: 1 });
    }
  });

  it('refuses a missing, malformed or wrong signature with 401', () => {
    const { raw } = delivery(envelope('agent:logout', { agentId: 'a1', createdTime: 1 }));
    expect(intake.checkHeaders({}).ok).toBe(false);
    expect(intake.checkHeaders({ 'x-webexcc-signature': 'sha256=abc' })).toMatchObject({ ok: false, status: 401 });
    const wrong = delivery(envelope('agent:logout', { agentId: 'a1', createdTime: 1 }), 'another-secret-of-enough-length-000');
    expect(intake.parse(raw, wrong.headers, 1)).toMatchObject({ ok: false, status: 401 });
  });

  it('rejects a malformed body as a whole with every problem', () => {
    const bad = delivery({ id: 'evt-2', type: 'agent:state_change', data: { agentId: 7, idleCodeId: 3 } });
    const parsed = intake.parse(bad.raw, bad.headers, 1);
    expect(parsed).toMatchObject({ ok: false, status: 400 });
    const paths = (parsed as { errors: Array<{ path: string }> }).errors.map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['data.agentId', 'data.createdTime', 'data.currentState', 'data.idleCodeId']));
    const notJson = delivery('{"id":');
    expect(intake.parse(notJson.raw, notJson.headers, 1)).toMatchObject({ ok: false, status: 400 });
  });
});
