import { basename } from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { watch, type FSWatcher } from 'chokidar';
import type { AppConfig } from '@presence-sync/config';
import { formatIssue, isRuleFileName, loadRuleSet, type RuleSet } from '@presence-sync/rules';
import { RuleSetSource } from '@presence-sync/sync';
import { APP_CONFIG } from '../tokens';
import { DirectoryService } from './directory.service';

export interface RulesStatus {
  dir: string;
  version?: string;
  rules: number;
  files: string[];
  loadedAt?: number;
  /** Errors of the last load that was rejected (the previous good set stays in force). */
  errors: string[];
  warnings: string[];
}

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
  readonly status: RulesStatus;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig, private readonly directory: DirectoryService) {
    super();
    this.status = { dir: config.rules.dir, rules: 0, files: [], errors: [], warnings: [] };
  }

  current(): RuleSet | undefined {
    return this.ruleSet;
  }

  /** Loads the rules at boot; throws `RulesBootError` with one readable line when they are invalid. */
  async loadAtBoot(): Promise<void> {
    const ok = await this.load();
    if (!ok) {
      const first = this.status.errors[0] ?? 'unknown error';
      const more = this.status.errors.length > 1 ? ` (and ${this.status.errors.length - 1} more)` : '';
      throw new RulesBootError(`rules in ${this.config.rules.dir} are invalid: ${first}${more}; run "npx presence-sync rules validate ${this.config.rules.dir}" for every error`);
    }
    if (this.config.rules.watch) await this.watch();
  }

  /** Loads and validates the directory now; on success swaps the rule set in. */
  async load(): Promise<boolean> {
    const result = await loadRuleSet(this.config.rules.dir, { catalog: this.directory.catalog(), defaultUnavailableCode: this.config.rules.defaultUnavailableCode });
    this.status.warnings = result.warnings.map(formatIssue);
    if (!result.ruleSet) {
      this.status.errors = result.errors.map(formatIssue);
      return false;
    }
    const changed = result.ruleSet.version !== this.ruleSet?.version;
    this.ruleSet = result.ruleSet;
    Object.assign(this.status, { version: result.ruleSet.version, rules: result.ruleSet.rules.length, files: result.ruleSet.files, loadedAt: Date.now(), errors: [] });
    if (changed) this.logger.log({ msg: 'rules loaded', version: result.ruleSet.version, rules: result.ruleSet.rules.length, warnings: this.status.warnings.length });
    for (const w of this.status.warnings) this.logger.warn({ msg: 'rules warning', warning: w });
    return true;
  }

  /** Re-validates after the directory changed, or on a file change; keeps the last good set on errors. */
  reload(): Promise<void> {
    this.reloading = this.reloading.then(async () => {
      const ok = await this.load();
      if (!ok) this.logger.error({ msg: 'rules reload rejected; the last good rules stay in force', version: this.ruleSet?.version, errors: this.status.errors });
    });
    return this.reloading;
  }

  /** Resolves once the watcher has read the directory, so no edit after boot goes unseen. */
  private async watch(): Promise<void> {
    this.watcher = watch(this.config.rules.dir, { ignoreInitial: true, depth: 0, awaitWriteFinish: { stabilityThreshold: 150, pollInterval: 50 } });
    this.watcher.on('all', (_event, path) => {
      if (!isRuleFileName(basename(path))) return;
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
