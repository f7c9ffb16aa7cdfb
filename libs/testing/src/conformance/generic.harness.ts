import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { GenericContactCenterClient } from '@presence-sync/contact-center';
import type { AcdState, AcdWebhookIntake, SettableAcdState } from '@presence-sync/domain';
import { ContactCenterEmulator } from '../contact-center-emulator';
import { RecordingSink, type ConformanceFault, type ConnectorHarness } from './connector-harness';
import { listenLocal } from '../listen.util';

const TEAM = { teamId: 't-conformance', name: 'Conformance', unavailableCodes: ['Lunch', 'Break'] };
/** Another team's code: it exists at the contact center, but not for the agents under test. */
const OTHER_TEAM = { teamId: 't-other', name: 'Other', unavailableCodes: ['Lunch', 'Training'] };
const WRAP_UP_CODE = 'Resolved';

/** The generic harness, with the emulator for checks the suite does not make. */
export interface GenericHarness extends ConnectorHarness {
  readonly emulator: ContactCenterEmulator;
}

/**
 * The daemon's webhook in miniature: the same order of judgement as its controller (headers before the body,
 * then signature and parse, then the sink), the same answers (202 `{accepted, duplicates}`, the intake's 4xx),
 * minus the transport limits the controller adds. While `down`, it answers 503 as the daemon does when it
 * cannot queue, so the emulator keeps the events and sends them again.
 */
class WebhookReceiver {
  down = false;
  private inFlight = 0;
  private readonly idle: Array<() => void> = [];
  private server?: Server;

  constructor(private readonly intake: AcdWebhookIntake, private readonly sink: RecordingSink) {}

  async start(): Promise<string> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    return `${await listenLocal(server)}${this.intake.path}`;
  }

  /** Resolves once no request is being handled. */
  drained(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inFlight++;
    try {
      const answer = await this.judge(req);
      const body = answer.body === undefined ? '' : JSON.stringify(answer.body);
      res.writeHead(answer.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    } catch (error) {
      res.writeHead(500).end(error instanceof Error ? error.message : String(error));
    } finally {
      if (--this.inFlight === 0) for (const done of this.idle.splice(0)) done();
    }
  }

  private async judge(req: IncomingMessage): Promise<{ status: number; body?: unknown }> {
    const path = new URL(req.url ?? '/', 'http://receiver').pathname;
    if (req.method !== 'POST' || path !== this.intake.path) return { status: 404, body: { error: 'not-found' } };
    const headers = this.intake.checkHeaders(req.headers, Date.now());
    if (!headers.ok) {
      req.resume();
      return { status: headers.status, body: { error: 'rejected', reason: headers.reason } };
    }
    const raw = await readBody(req, this.intake.maxBodyBytes);
    if (raw === undefined) return { status: 413, body: { error: 'too-large' } };
    if (this.down) return { status: 503, body: { error: 'unavailable', reason: 'delivery interrupted' } };
    const parsed = this.intake.parse(raw, req.headers, Date.now());
    if (!parsed.ok) return { status: parsed.status, body: { error: 'rejected', reason: parsed.reason, errors: parsed.errors } };
    const result = await this.sink.accept(parsed.changes);
    return this.intake.answer?.(result.accepted, result.duplicates) ?? { status: 202, body: result };
  }
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) over = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * The generic connector (contract v1) against its emulator, for the connector conformance suite. The emulator's
 * webhooks go to a local receiver that passes headers and raw bytes through `connector.webhook` into the
 * harness's `RecordingSink`.
 *
 * Contract v1 authenticates with a long-lived bearer token (`ACD_TOKEN`) that nobody rotates, so
 * `expireToken()` has nothing to revoke: the suite's token-expiry case only checks that reads and writes go on.
 */
export async function makeGenericHarness(): Promise<GenericHarness> {
  const token = `cc-conformance-${randomUUID()}`;
  const secret = `whsec-conformance-${randomUUID()}`;
  const agents = [
    { agentId: 'a-conf-1', email: 'ada.adams@example.com' },
    { agentId: 'a-conf-2', email: 'ben.becker@example.com' },
  ];
  const emulator = new ContactCenterEmulator({
    token,
    teams: [TEAM, OTHER_TEAM],
    agents: [
      ...agents.map((a) => ({ ...a, teamId: TEAM.teamId, state: { state: 'Available' as const } })),
      { agentId: 'a-conf-other', email: 'chloe.chen@example.com', teamId: OTHER_TEAM.teamId, state: { state: 'Available' } },
    ],
    // Two agents per page: the listing must follow its cursor to find everyone.
    pageSize: 2,
    basePath: '/cc/v1',
  });
  const { baseUrl } = await emulator.start();
  const connector = new GenericContactCenterClient({ baseUrl, token, webhookSecret: secret, readRetryDelayMs: 20 });
  const intake = connector.webhook;
  if (!intake) throw new Error('makeGenericHarness: the generic connector built no webhook intake');
  const received = new RecordingSink();
  const receiver = new WebhookReceiver(intake, received);
  // Retries every 10, 20, 40 … ms, twelve tries (about 40 s): an interruption in the suite lasts well under that.
  emulator.setWebhook({ url: await receiver.start(), secret, maxAttempts: 12, retryDelayMs: 10 });
  await connector.start();

  let failedBeforeInterrupt = 0;
  const settle = async () => {
    await emulator.flushWebhooks(15_000);
    await receiver.drained();
  };

  return {
    connector,
    emulator,
    received,
    agents,
    unknownAgentId: 'a-conf-unknown',
    team: { teamId: TEAM.teamId, codes: ['Lunch', 'Break'], disabledCode: 'Training' },
    secrets: [token, secret],
    reportsLogout: true,
    afterOutage: 'redelivers',
    async agentSets(agentId: string, state: SettableAcdState) {
      emulator.agentSetState(agentId, state);
    },
    async startContact(agentId: string) {
      emulator.startCall(agentId);
    },
    async endContact(agentId: string, options: { wrapUp?: boolean } = {}) {
      emulator.endCall(agentId, { wrapUp: options.wrapUp ?? false, wrapUpCode: WRAP_UP_CODE });
    },
    async endWrapUp(agentId: string) {
      emulator.endWrapUp(agentId);
    },
    async stateOf(agentId: string): Promise<AcdState> {
      const agent = emulator.getAgent(agentId);
      if (!agent) throw new Error(`makeGenericHarness: unknown agent ${agentId}`);
      return agent.state;
    },
    failNext(count: number, fault: ConformanceFault) {
      emulator.failNext(count, fault.status, { method: 'any', ...('retryAfterSec' in fault ? { retryAfterSec: fault.retryAfterSec } : {}) });
    },
    expireToken() {
      // Contract v1's bearer token does not expire (see above).
    },
    interruptDelivery() {
      failedBeforeInterrupt = emulator.webhookDeliveries.failedAttempts;
      receiver.down = true;
    },
    async resumeDelivery() {
      // The outage must have cost a delivery, or the case proves nothing about late delivery.
      if (emulator.webhookDeliveries.pending > 0) {
        await emulator.waitFor(() => emulator.webhookDeliveries.failedAttempts > failedBeforeInterrupt, 10_000, 'a delivery refused during the interruption');
      }
      receiver.down = false;
    },
    duplicateNext() {
      emulator.duplicateNextWebhook();
    },
    reorderNext() {
      emulator.reorderNextWebhook();
    },
    settle,
    async stop() {
      await connector.stop();
      await emulator.stop();
      await receiver.stop();
    },
  };
}
