import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';

/** How often the watcher's timer is due. */
const TICK_MS = 500;
/**
 * Liveness fails while the event loop runs this late (ms). Far above a garbage collection's pause or a busy
 * moment under load, and above the worker lock (WORKER_LOCK_DURATION_MS, 5 s): a loop this late has already lost
 * its jobs' locks and its stream lease, and serves its webhook with seconds of delay.
 */
export const EVENT_LOOP_LAG_LIMIT_MS = 5_000;

/**
 * Measures how late the event loop runs: a timer due every 500 ms notes how late it fired. A loop blocked for
 * good answers no probe at all (the probe's timeout covers that); this catches one that runs only now and then.
 */
@Injectable()
export class EventLoopWatcher implements OnModuleInit, OnModuleDestroy {
  private timer?: ReturnType<typeof setInterval>;
  private due = 0;
  private lastLagMs = 0;

  onModuleInit(): void {
    this.start();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  start(now = Date.now()): void {
    this.due = now + TICK_MS;
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  /** The timer fired at `now`. */
  tick(now = Date.now()): void {
    this.lastLagMs = Math.max(0, now - this.due);
    this.due = now + TICK_MS;
  }

  /** How late the loop runs: the last tick's delay, or the current tick's if it is overdue by more. */
  lagMs(now = Date.now()): number {
    return Math.max(this.lastLagMs, now - this.due, 0);
  }
}
