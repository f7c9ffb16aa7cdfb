import type { SalesforceStatusDefinition } from '@presence-sync/domain';

/** Ids compare on their first 15 characters: the 18-character form only adds a case-safe checksum. */
const idKey = (id: string): string => id.slice(0, 15);

/**
 * The `ServicePresenceStatus` catalog, cached: status id ↔ DeveloperName. Refreshed when asked (the directory
 * refresh) and when an unknown id or name shows up — at most once per `minRefreshIntervalMs`, so an event
 * that names a deleted status cannot make every event cost a query. Concurrent refreshes share one query.
 */
export class StatusCatalog {
  private byId = new Map<string, SalesforceStatusDefinition>();
  private byName = new Map<string, SalesforceStatusDefinition>();
  private all: SalesforceStatusDefinition[] = [];
  private loaded = false;
  private lastRefresh = Number.NEGATIVE_INFINITY;
  private inFlight?: Promise<SalesforceStatusDefinition[]>;

  constructor(
    private readonly load: () => Promise<SalesforceStatusDefinition[]>,
    private readonly minRefreshIntervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Queries the catalog now (shared with a query already running). */
  refresh(): Promise<SalesforceStatusDefinition[]> {
    if (this.inFlight) return this.inFlight;
    const run = (async () => {
      const statuses = await this.load();
      this.all = statuses;
      this.byId = new Map(statuses.map((s) => [idKey(s.id), s]));
      this.byName = new Map(statuses.map((s) => [s.developerName, s]));
      this.loaded = true;
      this.lastRefresh = this.now();
      return statuses;
    })();
    this.inFlight = run.finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** The cached catalog, loading it the first time. */
  async list(): Promise<SalesforceStatusDefinition[]> {
    if (!this.loaded) await this.refresh();
    return [...this.all];
  }

  /** From the cache only (no query). */
  cachedNameOf(statusId: string): string | undefined {
    return this.byId.get(idKey(statusId))?.developerName;
  }

  /** The DeveloperName of a status id; an unknown id refreshes the catalog (rate-limited) and looks again. */
  async nameOf(statusId: string): Promise<string | undefined> {
    return (await this.lookup(() => this.byId.get(idKey(statusId))))?.developerName;
  }

  /** The id of a status DeveloperName; an unknown name refreshes the catalog (rate-limited) and looks again. */
  async idOf(developerName: string): Promise<string | undefined> {
    return (await this.lookup(() => this.byName.get(developerName)))?.id;
  }

  private async lookup(find: () => SalesforceStatusDefinition | undefined): Promise<SalesforceStatusDefinition | undefined> {
    if (!this.loaded) await this.refresh();
    const hit = find();
    if (hit) return hit;
    if (this.now() - this.lastRefresh < this.minRefreshIntervalMs) return undefined;
    await this.refresh();
    return find();
  }
}
