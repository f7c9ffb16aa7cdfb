import { DeadlineExceeded, settledWithin, withDeadline } from './deadline';

describe('deadlines', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('withDeadline gives the work\'s result, or DeadlineExceeded with the message once the time is up', async () => {
    await expect(withDeadline(Promise.resolve(7), 100)).resolves.toBe(7);
    await expect(withDeadline(Promise.reject(new Error('boom')), 100)).rejects.toThrow('boom');
    const late = withDeadline(new Promise(() => undefined), 100, 'too slow');
    jest.advanceTimersByTime(100);
    await expect(late).rejects.toEqual(new DeadlineExceeded('too slow'));
  });

  it('settledWithin tells whether the work finished in time, failed or not', async () => {
    await expect(settledWithin(Promise.reject(new Error('x')), 100)).resolves.toBe(true);
    const never = settledWithin(new Promise(() => undefined), 100);
    jest.advanceTimersByTime(100);
    await expect(never).resolves.toBe(false);
  });
});
