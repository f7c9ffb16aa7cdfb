import { LoginThrottle } from './login-throttle';

describe(LoginThrottle.name, () => {
  let now = 0;
  const throttle = () => new LoginThrottle({ maxFailures: 3, windowMs: 1000, maxClients: 2 }, () => now);
  beforeEach(() => { now = 0; });

  it('refuses a client after maxFailures within the window, until the window ends', () => {
    const t = throttle();
    for (let i = 1; i <= 3; i++) expect(t.failed('a')).toBe(i);
    expect(t.retryAfterMs('a')).toBe(1000);
    expect(t.retryAfterMs('b')).toBe(0);
    now = 400;
    expect(t.retryAfterMs('a')).toBe(600);
    now = 1000;
    expect(t.retryAfterMs('a')).toBe(0);
    expect(t.failed('a')).toBe(1);
  });

  it('a successful login clears the count', () => {
    const t = throttle();
    t.failed('a');
    t.failed('a');
    t.succeeded('a');
    expect(t.failed('a')).toBe(1);
  });

  it('remembers at most maxClients, forgetting the oldest', () => {
    const t = throttle();
    for (let i = 0; i < 3; i++) { t.failed('a'); t.failed('b'); }
    t.failed('c');
    expect(t.retryAfterMs('a')).toBe(0);
    expect(t.retryAfterMs('b')).toBe(1000);
  });
});
