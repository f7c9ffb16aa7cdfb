import type { BayeuxMessage, FayeClient, FayeClientInternals } from './faye-client.types';
import { closeFayeClient, MetaMonitorExtension, ReplayExtension } from './streaming-client';

const CHANNEL = '/topic/PresenceSyncUSP';
const pass = (ext: { incoming?: (m: BayeuxMessage, cb: (m: BayeuxMessage) => void) => void; outgoing?: (m: BayeuxMessage, cb: (m: BayeuxMessage) => void) => void }, stage: 'incoming' | 'outgoing', m: BayeuxMessage): BayeuxMessage | undefined => {
  let out: BayeuxMessage | undefined;
  ext[stage]?.(m, (x) => {
    out = x;
  });
  return out;
};

describe(ReplayExtension.name, () => {
  it('asks for the events after its replay id when subscribing to its channel only', () => {
    const replay = new ReplayExtension(CHANNEL, 41);
    expect(pass(replay, 'outgoing', { channel: '/meta/subscribe', subscription: CHANNEL, ext: { other: 1 } })?.ext).toEqual({ other: 1, replay: { [CHANNEL]: 41 } });
    expect(pass(replay, 'outgoing', { channel: '/meta/subscribe', subscription: '/topic/Other' })?.ext).toBeUndefined();
    expect(pass(replay, 'outgoing', { channel: '/meta/connect' })?.ext).toBeUndefined();
  });

  it('follows the events received, never going back', () => {
    const replay = new ReplayExtension(CHANNEL, -1);
    pass(replay, 'incoming', { channel: CHANNEL, data: { event: { replayId: 7 } } });
    pass(replay, 'incoming', { channel: CHANNEL, data: { event: { replayId: 5 } } });
    pass(replay, 'incoming', { channel: '/topic/Other', data: { event: { replayId: 99 } } });
    expect(replay.replayId).toBe(7);
    replay.set(-1);
    expect(replay.replayId).toBe(-1);
  });
});

describe(MetaMonitorExtension.name, () => {
  it('shows meta replies and always passes every message on, even when the observer throws', () => {
    const seen: string[] = [];
    const monitor = new MetaMonitorExtension((m) => {
      seen.push(m.channel);
      throw new Error('observer bug');
    });
    expect(pass(monitor, 'incoming', { channel: '/meta/connect', successful: true })).toBeDefined();
    expect(pass(monitor, 'incoming', { channel: CHANNEL, data: {} })).toBeDefined();
    expect(seen).toEqual(['/meta/connect']);
  });
});

describe(closeFayeClient.name, () => {
  function fake(state: number) {
    const destroyed: string[] = [];
    const timer = setTimeout(() => undefined, 60_000);
    let closed = 0;
    const client = {
      _state: state,
      _advice: { reconnect: 'retry' },
      _dispatcher: {
        proxy: {},
        close: () => {
          closed += 1;
        },
        _envelopes: new Map([['1', { timer, request: Promise.resolve({ destroy: () => destroyed.push('long-poll') }) }]]),
      },
      disconnect: jest.fn(() => ({ then: (ok: () => void) => ok() })),
    };
    return { client, destroyed, closed: () => closed };
  }

  it('disconnects a connected client politely, then aborts what is pending and stops faye for good', async () => {
    const f = fake(3);
    await closeFayeClient(f.client as unknown as FayeClient);
    await Promise.resolve();
    expect(f.client.disconnect).toHaveBeenCalledTimes(1);
    const internals = f.client as unknown as FayeClientInternals;
    expect(internals._advice.reconnect).toBe('none');
    expect(internals._state).toBe(4);
    expect(internals._dispatcher._envelopes.size).toBe(0);
    expect(f.destroyed).toEqual(['long-poll']);
    expect(f.closed()).toBe(1);
  });

  it('shuts down a client stuck in the handshake without a disconnect message, twice safely', async () => {
    const f = fake(2);
    await closeFayeClient(f.client as unknown as FayeClient);
    await closeFayeClient(f.client as unknown as FayeClient);
    expect(f.client.disconnect).not.toHaveBeenCalled();
    expect((f.client as unknown as FayeClientInternals)._state).toBe(4);
  });
});
