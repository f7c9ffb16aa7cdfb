import { Controller, Get, NotFoundException, Param, Query } from '@nestjs/common';
import { AuditLog } from '@presence-sync/domain';
import { DirectoryService } from '../services/directory.service';

/** The audit trail of one agent, newest first. */
@Controller('v1/agents')
export class AgentsController {
  constructor(private readonly audit: AuditLog, private readonly directory: DirectoryService) {}

  @Get(':agentId/audit')
  async auditOf(@Param('agentId') agentId: string, @Query('limit') limit?: string): Promise<unknown> {
    const agent = this.directory.current().find(agentId);
    const id = agent?.agentId ?? agentId;
    const n = Math.min(Math.max(Number(limit) || 50, 1), 10_000);
    const records = await this.audit.list(id, n);
    if (!agent && records.length === 0) throw new NotFoundException(`no agent "${agentId}" in the directory and no audit records for it`);
    return { agentId: id, salesforceUserId: agent?.salesforceUserId, records };
  }
}
