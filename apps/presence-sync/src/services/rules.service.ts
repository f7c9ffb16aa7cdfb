import { basename } from 'node:path';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { watch, type FSWatcher } from 'chokidar';
import type { AppConfig } from '@presence-sync/config';
import { ContactCenterPort } from '@presence-sync/domain';
import { connectorLimits, formatIssues, isRuleFileName, loadRuleSet, type ConnectorLimits, type RuleSet } from '@presence-sync/rules';
import { RuleSetSource } from '@presence-sync/sync';
import { APP_CONFIG } from '../tokens';
import { DirectoryService } from './directory.service';
import { ruleCheckOptions } from './rule-check';

export interface RulesStatus {
  dir: string;
  version?: string;
  rules: number;
  files: string[];
  loadedAt?: number;
  /**
   * Errors of the last load that was rejected (the previous good set stays in force): the first
   * RULES_MAX_ERRORS_SHOWN, then `(and K more)`. `errorCount` is the full count.
   */
  errors: string[];
  errorCount: number;
  /** Like `errors`. */
  warnings: string[];
  warningCount: number;
}

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** File names a reload's log line lists at most (a bulk copy of hundreds of files is then counted). */
const MAX_CHANGED_NAMES = 20;

/** A rules directory that is invalid at boot. */
export class RulesBootError extends Error {}

/**
 * The rule set in force. Loads `RULES_DIR` at boot (errors stop the boot) and on every change of the
 * directory; a bad change keeps the last good set and reports its errors.
 */
@Injectable()
export class RulesService extends RuleSetSource {
  private readonly logger = new Logger(RulesService.name);
  private ruleSet?: RuleSet;
  private watcher?: FSWatcher;
  private reloadTimer?: NodeJS.Timeout;
  private reloading: Promise<void> = Promise.resolve();
  /** Rule files the watcher saw change since the last reload (names), for the reload's log line. */
  private readonly changedFiles = new Set<string>();
  /** The warnings last logged: a reload that finds the same ones does not log them again. */
  private loggedWarnings = '';
  readonly status: RulesStatus;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly directory: DirectoryService,
    @Optional() private readonly contactCenter?: ContactCenterPort,
  ) {
    super();
    this.status = { dir: config.rules.dir, rules: 0, files: [], errors: [], errorCount: 0, warnings: [], warningCount: 0 };
  }

  current(): RuleSet | undefined {
    return this.ruleSet;
  }

  /** What the connector can set: rules wanting anything else are refused (`rules validate` checks the same). */
  private connectorLimits(): ConnectorLimits | undefined {
    return this.contactCenter ? connectorLimits(this.contactCenter.name, this.contactCenter.capabilities) : undefined;
  }

  /** Loads the rules at boot; throws `RulesBootError` with one readable line when they are invalid. */
  async loadAtBoot(): Promise<void> {
    let ok: boolean;
    try {
      ok = await this.load();
    } catch (error) {
      // Not a mistake in the rules (those are issues): still one line that names the directory.
      throw new RulesBootError(`rules in ${this.config.rules.dir} could not be loaded: ${errorMessage(error)}`);
    }
    if (ok) {
      this.logger.log({ msg: 'rules loaded', dir: this.config.rules.dir, version: this.status.version, rules: this.status.rules, files: this.status.files.length, warnings: this.status.warningCount });
    } else {
      const first = this.status.errors[0] ?? 'unknown error';
      const more = this.status.errorCount > 1 ? ` (and ${this.status.errorCount - 1} more)` : '';
      throw new RulesBootError(`rules in ${this.config.rules.dir} are invalid: ${first}${more}; run "npx presence-sync rules validate ${this.config.rules.dir}" for every error`);
    }
    if (this.config.rules.watch) await this.watch();
  }

  /** Loads and validates the directory now; on success swaps the rule set in. */
  async load(): Promise<boolean> {
    const result = await loadRuleSet(this.config.rules.dir, ruleCheckOptions(this.config.rules, this.connectorLimits(), this.directory.catalog()));
    // Capped the same way as in the CLI: a file with a million mistakes must not make a megabyte of status.
    this.status.warnings = formatIssues(result.warnings, result.warningCount);
    this.status.warningCount = result.warningCount;
    if (!result.ruleSet) {
      this.status.errors = formatIssues(result.errors, result.errorCount);
      this.status.errorCount = result.errorCount;
      return false;
    }
    this.ruleSet = result.ruleSet;
    Object.assign(this.status, { version: result.ruleSet.version, rules: result.ruleSet.rules.length, files: result.ruleSet.files, loadedAt: Date.now(), errors: [], errorCount: 0 });
    // The periodic reload after each directory refresh finds the same warnings again: they are logged once.
    const warnings = this.status.warnings.join('\n');
    if (warnings !== this.loggedWarnings) for (const w of this.status.warnings) this.logger.warn({ msg: 'rules warning', warning: w });
    this.loggedWarnings = warnings;
    return true;
  }

  /**
   * Re-validates after the directory changed, or on a file change; keeps the last good set on errors. Never
   * rejects: reloads run one after another on one chain, and a rejected link would skip every later reload
   * (hot reload would silently stop) and surface as an unhandled rejection from the watcher's timer.
   */
  reload(): Promise<void> {
    // reloadOnce catches what it can; the catch here also covers a logger that throws, so the chain never breaks.
    this.reloading = this.reloading.then(() => this.reloadOnce()).catch(() => undefined);
    return this.reloading;
  }

  private async reloadOnce(): Promise<void> {
    const changed = [...this.changedFiles].sort();
    this.changedFiles.clear();
    const before = this.ruleSet?.version;
    try {
      const ok = await this.load();
      // One line per reload that changed something (an edit, or rules that now compile differently); the reload
      // after each directory refresh that changes nothing stays quiet.
      if (ok && (changed.length > 0 || this.status.version !== before)) {
        this.logger.log({
          msg: 'rules reloaded', version: this.status.version, previousVersion: before, rules: this.status.rules, files: this.status.files.length,
          changed: changed.length > MAX_CHANGED_NAMES ? [...changed.slice(0, MAX_CHANGED_NAMES), `(and ${changed.length - MAX_CHANGED_NAMES} more)`] : changed,
          warnings: this.status.warningCount,
        });
      }
      if (!ok) this.logger.error({ msg: 'rules reload rejected; the last good rules stay in force', version: this.ruleSet?.version, errors: this.status.errors, errorCount: this.status.errorCount });
    } catch (error) {
      // A fault (not bad rules, which are issues): the last good rules stay, and the status says why.
      this.status.errors = [`${this.config.rules.dir}: the rules could not be reloaded: ${errorMessage(error)}`];
      this.status.errorCount = 1;
      this.logger.error({ msg: 'rules reload failed; the last good rules stay in force', version: this.ruleSet?.version, err: error });
    }
  }

  /** Resolves once the watcher has read the directory, so no edit after boot goes unseen. */
  private async watch(): Promise<void> {
    this.watcher = watch(this.config.rules.dir, { ignoreInitial: true, depth: 0, awaitWriteFinish: { stabilityThreshold: 150, pollInterval: 50 } });
    this.watcher.on('all', (_event, path) => {
      if (!isRuleFileName(basename(path))) return;
      this.changedFiles.add(basename(path));
      clearTimeout(this.reloadTimer);
      this.reloadTimer = setTimeout(() => void this.reload(), 100);
    });
    const watcher = this.watcher;
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  }

  async stop(): Promise<void> {
    clearTimeout(this.reloadTimer);
    await this.watcher?.close();
    this.watcher = undefined;
    await this.reloading;
  }
}
