import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import type { AppConfig } from '@presence-sync/config';
import { AmazonConnectConnector } from '@presence-sync/connector-amazon-connect';
import type { ContactCenterPort } from '@presence-sync/domain';
import type { Catalog } from '@presence-sync/rules';
import type { DirectoryService } from './directory.service';
import { RulesService } from './rules.service';

const rule = (name: string, status: string) =>
  JSON.stringify({ name, publisher: [{ acd: { state: 'Available' }, salesforce: status }], assign: { teams: ['t'] } });

/** The part of DirectoryService the rules need; `failing` makes the catalog throw (a bug, not bad input). */
class FakeDirectory {
  failing = false;
  catalog(): Catalog {
    if (this.failing) throw new Error('directory exploded');
    return {};
  }
}

describe(RulesService.name, () => {
  let dir: string;
  let directory: FakeDirectory;
  let service: RulesService;
  let logged: unknown[];
  let info: unknown[];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'presence-rules-service-'));
    directory = new FakeDirectory();
    logged = [];
    jest.spyOn(Logger.prototype, 'error').mockImplementation((entry: unknown) => void logged.push(entry));
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    info = [];
    jest.spyOn(Logger.prototype, 'log').mockImplementation((entry: unknown) => void info.push(entry));
    const config = { rules: { dir, watch: false } } as AppConfig;
    service = new RulesService(config, directory as unknown as DirectoryService);
  });
  afterEach(async () => {
    await service.stop();
    jest.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the last good rules when a reload throws, and later reloads still work', async () => {
    writeFileSync(join(dir, 'a.json'), rule('a', 'Available_Chat'));
    await service.loadAtBoot();
    const good = service.current()?.version;
    expect(good).toBeDefined();

    directory.failing = true;
    writeFileSync(join(dir, 'a.json'), rule('a', 'Busy'));
    await expect(service.reload()).resolves.toBeUndefined();
    expect(service.current()?.version).toBe(good);
    expect(service.status.errors).toEqual([`${dir}: the rules could not be reloaded: directory exploded`]);
    expect(logged).toContainEqual(expect.objectContaining({ msg: 'rules reload failed; the last good rules stay in force', version: good }));

    directory.failing = false;
    await service.reload();
    expect(service.current()?.version).not.toBe(good);
    expect(service.status.errors).toEqual([]);
  });

  it('refuses plain Unavailable toward Amazon Connect at boot (its capabilities say a code is needed)', async () => {
    const connect = { name: 'amazon-connect', capabilities: AmazonConnectConnector.capabilities } as ContactCenterPort;
    const config = { rules: { dir, watch: false } } as AppConfig;
    const toConnect = new RulesService(config, directory as unknown as DirectoryService, connect);
    writeFileSync(join(dir, 'a.json'), JSON.stringify({ name: 'a', subscriber: [{ salesforce: 'Away', acd: { state: 'Unavailable' } }], assign: { teams: ['t'] } }));
    await expect(toConnect.loadAtBoot()).rejects.toThrow(/subscriber\[0\]\.acd: the amazon-connect connector cannot set Unavailable without a code/);
    writeFileSync(join(dir, 'a.json'), JSON.stringify({ name: 'a', subscriber: [{ salesforce: 'Away', acd: { state: 'Unavailable', code: 'Away' } }], assign: { teams: ['t'] } }));
    await expect(toConnect.loadAtBoot()).resolves.toBeUndefined();
  });

  it('logs each reload that changes something in one info line (files, rules, which files changed), and stays quiet otherwise', async () => {
    const config = { rules: { dir, watch: true } } as AppConfig;
    const watched = new RulesService(config, directory as unknown as DirectoryService);
    try {
      writeFileSync(join(dir, 'a.json'), rule('a', 'Available_Chat'));
      writeFileSync(join(dir, 'b.json'), rule('b', 'Busy').replace('"t"', '"u"'));
      await watched.loadAtBoot();
      expect(info).toEqual([expect.objectContaining({ msg: 'rules loaded', rules: 2, files: 2 })]);
      const first = watched.status.version;

      writeFileSync(join(dir, 'a.json'), rule('a', 'Busy'));
      const deadline = Date.now() + 8000;
      while (!info.some((e) => (e as { msg?: string }).msg === 'rules reloaded') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(info[1]).toEqual({ msg: 'rules reloaded', version: watched.status.version, previousVersion: first, rules: 2, files: 2, changed: ['a.json'], warnings: 3 });

      // (The 3 warnings: no catalog here.) The reload after a directory refresh that changes nothing writes no line.
      await watched.reload();
      expect(info).toHaveLength(2);
    } finally {
      await watched.stop();
    }
  });

  it('shows the first N errors and how many more, on the status and in the log', async () => {
    writeFileSync(join(dir, 'a.json'), rule('a', 'Available_Chat'));
    await service.loadAtBoot();
    const rows = Array.from({ length: 500 }, () => ({ acd: { state: 'Nope' }, salesforce: 'X' }));
    writeFileSync(join(dir, 'a.json'), JSON.stringify({ name: 'a', publisher: rows }));
    await service.reload();
    expect(service.status.errorCount).toBe(500);
    expect(service.status.errors).toHaveLength(51);
    expect(service.status.errors[50]).toBe('(and 450 more)');
    expect(logged).toContainEqual(expect.objectContaining({ msg: 'rules reload rejected; the last good rules stay in force', errors: service.status.errors }));
  });
});
