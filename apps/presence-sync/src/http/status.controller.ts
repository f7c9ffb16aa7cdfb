import { Controller, Get } from '@nestjs/common';
import { IntakeGate } from '../services/intake-gate.service';
import { DirectoryService } from '../services/directory.service';
import { RulesService } from '../services/rules.service';
import { AcdSourceLeader } from '../services/acd-source.leader';
import { StreamLeader } from '../services/stream-leader.service';
import { PartitionOwnership } from '../services/partition-ownership';
import { SyncActivityService } from '../services/sync-activity.service';
import { ContactCenterPort } from '@presence-sync/domain';
import { ContactCenterProbe } from './contact-center.probe';

/** The operator's status page data (liveness, readiness and metrics are in HealthController). */
@Controller()
export class StatusController {
  constructor(
    private readonly rules: RulesService,
    private readonly directory: DirectoryService,
    private readonly gate: IntakeGate,
    private readonly streamLeader: StreamLeader,
    private readonly acdSource: AcdSourceLeader,
    private readonly contactCenter: ContactCenterPort,
    private readonly activity: SyncActivityService,
    private readonly probe: ContactCenterProbe,
    private readonly ownership: PartitionOwnership,
  ) {}

  @Get('v1/status')
  async status(): Promise<unknown> {
    const dir = this.directory.current();
    const ruleSet = this.rules.current();
    const api = await this.probe.check();
    let unassigned = 0;
    if (ruleSet) for (const a of dir.agents()) if (!ruleSet.ruleFor(a)) unassigned++;
    return {
      rules: this.rules.status,
      // Several replicas: which one consumes the Salesforce presence stream (the others stand by).
      salesforceStream: await this.streamLeader.status(),
      // The contact-center connector; `source` only for one that polls or streams (null: webhook-fed).
      // `api`: whether its API answers (the probe /dependencies uses, at most once per 5 s); not part of /ready.
      contactCenter: {
        connector: this.contactCenter.name, intake: this.contactCenter.webhook ? `webhook ${this.contactCenter.webhook.path}` : 'source', source: await this.acdSource.status(),
        api: { up: api.up, checkedAt: new Date(api.checkedAt).toISOString(), error: api.up ? null : api.reason },
      },
      // The partitions this replica works (of `count`), and the live replicas it last saw.
      partitions: { count: this.ownership.partitionCount, working: this.ownership.partitions, replica: this.ownership.replicaId, liveReplicas: this.ownership.liveMembers },
      // This replica's intake: `open`, or `draining` / `closed` while it stops.
      intake: this.gate.state,
      // Write latency over the last minute (p50 / p95 / max per direction) and each queue's depth.
      sync: await this.activity.summary(),
      lastEvent: {
        acd: this.gate.lastEvent.acd ? new Date(this.gate.lastEvent.acd).toISOString() : null,
        salesforce: this.gate.lastEvent.salesforce ? new Date(this.gate.lastEvent.salesforce).toISOString() : null,
      },
      agents: {
        ...dir.stats,
        // "mapped" = linked to a Salesforce user (the wording); linked/unlinked stay for existing readers.
        mapped: dir.stats.linked, unmapped: dir.stats.unlinked,
        unassigned, refreshedAt: dir.builtAt ? new Date(dir.builtAt).toISOString() : null, lastError: this.directory.lastError ?? null,
      },
    };
  }
}
