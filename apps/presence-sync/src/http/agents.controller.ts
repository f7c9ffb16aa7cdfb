import { BadRequestException, Controller, Get, NotFoundException, Param, Query } from '@nestjs/common';
import { AuditLog } from '@presence-sync/domain';
import { DirectoryService } from '../services/directory.service';

/** Records per answer: the default, and the most one request may ask for. */
export const AUDIT_LIMIT_DEFAULT = 50;
export const AUDIT_LIMIT_MAX = 10_000;
/** The longest agent id or e-mail looked up (e-mail addresses are at most 254 characters). */
export const AUDIT_AGENT_REF_MAX = 256;

/**
 * `?limit=` as a whole number from 1 to AUDIT_LIMIT_MAX; absent: the default. Anything else is refused with the
 * reason, so a typo is never silently answered with some other number of records.
 */
export function auditLimit(raw: unknown): number {
  if (raw === undefined) return AUDIT_LIMIT_DEFAULT;
  const expected = `limit must be a whole number from 1 to ${AUDIT_LIMIT_MAX} (default ${AUDIT_LIMIT_DEFAULT})`;
  // Given twice (`?limit=1&limit=2`) or as an object (`?limit[a]=1`), the query parser hands over a non-string.
  if (typeof raw !== 'string') throw new BadRequestException(`${expected}; give it once`);
  const shown = raw.length > 20 ? `${raw.slice(0, 20)}…` : raw;
  if (!/^\d{1,6}$/.test(raw)) throw new BadRequestException(`${expected}; got "${shown}"`);
  const n = Number(raw);
  if (n < 1 || n > AUDIT_LIMIT_MAX) throw new BadRequestException(`${expected}; got ${n}`);
  return n;
}

/** The audit trail of one agent, newest first. */
@Controller('v1/agents')
export class AgentsController {
  constructor(private readonly audit: AuditLog, private readonly directory: DirectoryService) {}

  @Get(':agentId/audit')
  async auditOf(@Param('agentId') agentId: string, @Query('limit') limit?: unknown): Promise<unknown> {
    if (agentId.length > AUDIT_AGENT_REF_MAX) throw new BadRequestException(`the agent id or e-mail is longer than ${AUDIT_AGENT_REF_MAX} characters`);
    const n = auditLimit(limit);
    const agent = this.directory.current().find(agentId);
    const id = agent?.agentId ?? agentId;
    const records = await this.audit.list(id, n);
    if (!agent && records.length === 0) throw new NotFoundException(`no agent "${agentId}" in the directory and no audit records for it`);
    return { agentId: id, salesforceUserId: agent?.salesforceUserId, records };
  }
}
