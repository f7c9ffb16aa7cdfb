import { Inject, Injectable, Logger } from '@nestjs/common';
import type { AppConfig } from '@presence-sync/config';
import { ContactCenterPort, SalesforcePort, type SalesforceStatusDefinition } from '@presence-sync/domain';
import type { Catalog } from '@presence-sync/rules';
import { AgentDirectory, DirectorySource } from '@presence-sync/sync';
import { APP_CONFIG } from '../tokens';
import { ruleCatalog } from './rule-check';
import { readAgentMapFile } from './agent-map.file';

/**
 * The agent directory: contact-center agents and teams, Salesforce users and statuses, linked by e-mail or
 * by the explicit map file. Refreshed on a schedule and when an event names an agent it does not know.
 */
@Injectable()
export class DirectoryService extends DirectorySource {
  private readonly logger = new Logger(DirectoryService.name);
  private directory = AgentDirectory.empty();
  private refreshing?: Promise<boolean>;
  /** Why the last refresh failed, if it did (shown on /v1/status). */
  lastError?: string;
  /** The status catalog as last read, or undefined if Salesforce could not be reached. */
  private statuses?: SalesforceStatusDefinition[];
  /** Service channel DeveloperNames as last read, or undefined if they could not be read. */
  private serviceChannels?: string[];
  private channelError?: string;
  private catalogsReachable = { acd: false, salesforce: false };

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly contactCenter: ContactCenterPort,
    private readonly salesforce: SalesforcePort,
  ) {
    super();
  }

  current(): AgentDirectory {
    return this.directory;
  }

  /** The catalogs for rule validation; a part that could not be read is left out (a warning, not a pass). */
  catalog(): Catalog {
    const d = this.directory;
    return ruleCatalog({
      acd: this.catalogsReachable.acd ? { agents: d.agents(), teams: d.teams } : undefined,
      salesforce: this.catalogsReachable.salesforce && this.statuses ? { statuses: this.statuses, serviceChannels: this.serviceChannels } : undefined,
    });
  }

  /** Refreshes now (concurrent calls share one refresh). Resolves false, and keeps the last directory, on failure. */
  refresh(): Promise<boolean> {
    this.refreshing ??= this.doRefresh().finally(() => { this.refreshing = undefined; });
    return this.refreshing;
  }

  /** Refreshes if the directory is older than `maxAgeMs` (an event named an unknown agent). */
  async refreshIfOlderThan(maxAgeMs: number): Promise<boolean> {
    if (Date.now() - this.directory.builtAt < maxAgeMs) return false;
    return this.refresh();
  }

  private async doRefresh(): Promise<boolean> {
    const started = Date.now();
    const [acd, sf, map, channels] = await Promise.allSettled([
      Promise.all([this.contactCenter.listAgents(), this.contactCenter.listTeams()]),
      Promise.all([this.salesforce.listUsers(), this.salesforce.listStatuses()]),
      this.readMap(),
      this.salesforce.listServiceChannels(),
    ]);
    const problems: string[] = [];
    if (acd.status === 'rejected') problems.push(`contact center: ${reason(acd.reason)}`);
    if (sf.status === 'rejected') problems.push(`Salesforce: ${reason(sf.reason)}`);
    if (map.status === 'rejected') problems.push(`map file: ${reason(map.reason)}`);
    if (acd.status === 'rejected' || sf.status === 'rejected' || map.status === 'rejected') {
      this.lastError = problems.join('; ');
      this.logger.warn({ msg: 'directory refresh failed; keeping the last directory', error: this.lastError });
      return false;
    }
    const [agents, teams] = acd.value;
    const [users, statuses] = sf.value;
    this.directory = new AgentDirectory({ agents, teams, users, statuses, explicitMap: map.value });
    this.statuses = statuses;
    // Only workload rows need them: unreadable channels (Omni-Channel off, no access) leave the rule check's
    // warning in place and fail nothing else.
    this.serviceChannels = channels.status === 'fulfilled' ? channels.value : undefined;
    const channelError = channels.status === 'rejected' ? reason(channels.reason) : undefined;
    // Once per cause, not on every refresh: an org without Omni-Channel access would repeat it forever.
    if (channelError && channelError !== this.channelError) this.logger.warn({ msg: 'service channels could not be read; workload rows are not checked against them', error: channelError });
    this.channelError = channelError;
    this.catalogsReachable = { acd: true, salesforce: true };
    this.lastError = undefined;
    const s = this.directory.stats;
    for (const p of s.mapProblems) this.logger.warn({ msg: 'agent map file', problem: p });
    this.logger.log({ msg: 'directory refreshed', agents: s.agents, linked: s.linked, unlinked: s.unlinked, teams: s.teams, ms: Date.now() - started });
    return true;
  }

  private async readMap(): Promise<Record<string, string> | undefined> {
    const file = this.config.directory.agentMapFile;
    return file ? readAgentMapFile(file) : undefined;
  }
}

function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
