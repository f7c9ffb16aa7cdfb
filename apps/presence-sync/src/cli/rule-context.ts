import { loadConfig, loadRuleCheckSettings, loadSalesforceSettings, type AppConfig, type RuleCheckSettings, type SalesforceSettings } from '@presence-sync/config';
import { CheckpointStore, type ContactCenterPort } from '@presence-sync/domain';
import { connectorLimits, type RuleSetLoadOptions } from '@presence-sync/rules';
import { JsforceSalesforceAdapter, SalesforceSession } from '@presence-sync/salesforce';
import { connectorCapabilities, createContactCenter } from '../contact-center.factory';
import { ruleCatalog, ruleCheckOptions, type CatalogRead } from '../services/rule-check';

/** Settings as the environment gives them. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * What happened to one side's catalogs: read; not configured (no settings name it); skipped (`--offline`); or
 * configured but not read (unreachable, refused, or its settings are invalid: `RuleContext.problems` says why).
 */
export type CatalogState = 'read' | 'not configured' | 'offline' | 'not reachable';

/** Everything the `rules` commands check rules against, as the daemon would with the same settings. */
export interface RuleContext {
  settings: RuleCheckSettings;
  /** The options of `loadRuleSet`, built by the daemon's own function (`ruleCheckOptions`). */
  options: RuleSetLoadOptions;
  catalogs: { salesforce: CatalogState; contactCenter: CatalogState };
  /** One line per side that is configured but could not be read, saying why. */
  problems: string[];
  /** The daemon's settings, when they load (explain reads the previous state from its Redis). */
  config?: AppConfig;
}

/** A Salesforce session for a command, or why there is none (one line). `close` releases what it opened. */
export type OpenSalesforceSession = (settings: SalesforceSettings) => Promise<{ session: SalesforceSession; close(): void } | { problem: string }>;

export interface RuleContextOptions {
  /** Skip the catalogs on purpose: only the files, the settings and the connector are checked. */
  offline?: boolean;
  /** How to log in to Salesforce (refresh-token mode needs the daemon's Redis); default: a new session. */
  openSalesforce?: OpenSalesforceSession;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));
/** A settings error may name several settings, one per line: one line here. */
const oneLine = (text: string) => text.split('\n').join('; ');

/** Read-only use: the adapter is only asked for catalogs, never to stream, so there is no replay id to keep. */
class NoCheckpoints extends CheckpointStore {
  async get(): Promise<string | undefined> {
    return undefined;
  }

  async set(): Promise<void> {}
}

const defaultOpen: OpenSalesforceSession = async (settings) => ({ session: new SalesforceSession(settings), close: () => undefined });

/** Statuses (and service channels when they can be read) through the daemon's Salesforce adapter. */
async function readSalesforce(settings: SalesforceSettings, open: OpenSalesforceSession): Promise<CatalogRead['salesforce'] | string> {
  const opened = await open(settings);
  if ('problem' in opened) return opened.problem;
  try {
    const adapter = new JsforceSalesforceAdapter({ settings, checkpoints: new NoCheckpoints(), session: opened.session });
    const statuses = await adapter.listStatuses();
    // As in the directory refresh: unreadable channels leave only the channel check out.
    const serviceChannels = await adapter.listServiceChannels().catch(() => undefined);
    return { statuses, serviceChannels };
  } catch (error) {
    return message(error);
  } finally {
    opened.close();
  }
}

/** Agents and teams through the configured connector (built as the daemon builds it, without starting it). */
async function readContactCenter(connector: ContactCenterPort): Promise<CatalogRead['acd'] | string> {
  try {
    const [teams, agents] = await Promise.all([connector.listTeams(), connector.listAgents()]);
    return { teams, agents };
  } catch (error) {
    return message(error);
  }
}

/**
 * The rule-check settings, the connector's capabilities and the live catalogs, read the way the daemon reads them.
 * A bad rule-check setting throws its `ConfigError` (one line per setting); anything else that keeps a catalog
 * from being read is a `problems` line, and the catalog's warning says why it is missing.
 */
export async function loadRuleContext(env: Env, options: RuleContextOptions = {}): Promise<RuleContext> {
  const settings = loadRuleCheckSettings(env);
  const connector = connectorLimits(settings.connector, connectorCapabilities(settings.connector));
  const build = (read: CatalogRead, catalogs: RuleContext['catalogs'], problems: string[], config?: AppConfig): RuleContext => {
    const why = (state: CatalogState, notConfigured: string) =>
      state === 'not configured' ? `not configured (${notConfigured})` : state === 'offline' ? 'skipped (--offline)' : state === 'not reachable' ? 'not reachable' : undefined;
    const missing = {
      salesforce: why(catalogs.salesforce, 'SALESFORCE_MODE is not live'),
      contactCenter: why(catalogs.contactCenter, 'no ACD_CONNECTOR, ACD_BASE_URL or ACD_TOKEN setting'),
    };
    return { settings, options: ruleCheckOptions(settings, connector, ruleCatalog(read, missing)), catalogs, problems, config };
  };
  if (options.offline) return build({}, { salesforce: 'offline', contactCenter: 'offline' }, []);

  const problems: string[] = [];
  const read: CatalogRead = {};
  const catalogs: RuleContext['catalogs'] = { salesforce: 'not configured', contactCenter: 'not configured' };

  let config: AppConfig | undefined;
  let connectorPort: ContactCenterPort | undefined;
  if (settings.contactCenterConfigured) {
    try {
      config = loadConfig(env);
      connectorPort = createContactCenter(config);
    } catch (error) {
      catalogs.contactCenter = 'not reachable';
      problems.push(`contact-center catalogs (${settings.connector} connector) not read: ${oneLine(message(error))}`);
    }
  } else {
    // Explain may still read the previous state from the daemon's Redis when the rest of the settings load.
    try {
      config = loadConfig(env);
    } catch {
      config = undefined;
    }
  }

  let salesforceSettings: SalesforceSettings | undefined;
  if (settings.salesforceConfigured) {
    try {
      salesforceSettings = loadSalesforceSettings(env);
    } catch (error) {
      catalogs.salesforce = 'not reachable';
      problems.push(`Salesforce catalogs (SALESFORCE_MODE=live) not read: ${oneLine(message(error))}`);
    }
  }

  const [acd, salesforce] = await Promise.all([
    connectorPort ? readContactCenter(connectorPort) : undefined,
    salesforceSettings ? readSalesforce(salesforceSettings, options.openSalesforce ?? defaultOpen) : undefined,
  ]);
  if (typeof acd === 'string') {
    catalogs.contactCenter = 'not reachable';
    problems.push(`contact-center catalogs (${settings.connector} connector) not reachable: ${oneLine(acd)}`);
  } else if (acd) {
    catalogs.contactCenter = 'read';
    read.acd = acd;
  }
  if (typeof salesforce === 'string') {
    catalogs.salesforce = 'not reachable';
    problems.push(`Salesforce catalogs (SALESFORCE_MODE=live at ${salesforceSettings?.loginUrl}) not reachable: ${oneLine(salesforce)}`);
  } else if (salesforce) {
    catalogs.salesforce = 'read';
    read.salesforce = salesforce;
  }
  return build(read, catalogs, problems, config);
}
