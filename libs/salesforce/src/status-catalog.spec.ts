import type { SalesforceStatusDefinition } from '@presence-sync/domain';
import { StatusCatalog } from './status-catalog';

const LUNCH: SalesforceStatusDefinition = { id: '0N5000000000005AAA', developerName: 'Lunch', label: 'Lunch' };
const BREAK: SalesforceStatusDefinition = { id: '0N5000000000006AAA', developerName: 'Break', label: 'Break' };

function catalog(initial: SalesforceStatusDefinition[]) {
  let now = 0;
  let rows = initial;
  let queries = 0;
  const c = new StatusCatalog(async () => {
    queries += 1;
    return rows;
  }, 10_000, () => now);
  return {
    c,
    set: (r: SalesforceStatusDefinition[]) => { rows = r; },
    advance: (ms: number) => { now += ms; },
    queries: () => queries,
  };
}

describe(StatusCatalog.name, () => {
  it('maps ids and names both ways, comparing ids on 15 characters', async () => {
    const { c } = catalog([LUNCH]);
    expect(await c.nameOf('0N5000000000005AAA')).toBe('Lunch');
    expect(await c.nameOf('0N5000000000005')).toBe('Lunch');
    expect(await c.idOf('Lunch')).toBe(LUNCH.id);
    expect(c.cachedNameOf(LUNCH.id)).toBe('Lunch');
  });

  it('refreshes on an unknown id or name, at most once per interval', async () => {
    const t = catalog([LUNCH]);
    await t.c.list();
    expect(t.queries()).toBe(1);
    t.set([LUNCH, BREAK]);
    // Just loaded: an unknown name does not query again yet.
    expect(await t.c.idOf('Break')).toBeUndefined();
    expect(t.queries()).toBe(1);
    t.advance(10_000);
    expect(await t.c.idOf('Break')).toBe(BREAK.id);
    expect(t.queries()).toBe(2);
    expect(await t.c.nameOf(BREAK.id)).toBe('Break');
    expect(t.queries()).toBe(2);
  });

  it('shares one query between concurrent refreshes', async () => {
    const t = catalog([LUNCH]);
    await Promise.all([t.c.refresh(), t.c.refresh(), t.c.list()]);
    expect(t.queries()).toBe(1);
  });

  it('does not cache a failed load', async () => {
    let fail = true;
    const c = new StatusCatalog(async () => {
      if (fail) throw new Error('down');
      return [LUNCH];
    });
    await expect(c.list()).rejects.toThrow('down');
    fail = false;
    expect(await c.list()).toEqual([LUNCH]);
  });
});
