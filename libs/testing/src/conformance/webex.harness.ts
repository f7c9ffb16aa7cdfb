import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { WEBEX_WEBHOOK_PATH, WebexConnector } from '@presence-sync/connector-webex';
import type { AcdState, AcdWebhookIntake, SettableAcdState } from '@presence-sync/domain';
import { InMemoryRefreshTokenStore } from '../in-memory-refresh-token.store';
import { WebexEmulator } from '../webex-emulator/webex-emulator';
import { webexAcdViewOf, webexIdOf } from '../webex-emulator/webex-sandbox.acd';
import { RecordingSink, type ConformanceFault, type ConnectorHarness } from './connector-harness';
import { listenLocal } from '../listen.util';

/** The Webex harness, with the emulator for checks the suite does not make. */
export interface WebexHarness extends ConnectorHarness {
  readonly emulator: WebexEmulator;
}

/**
 * The daemon's webhook in miniature (headers, then signature and body, then the sink; the intake's answers).
 * While `down` it answers 503, as the daemon does when it cannot queue, so the emulator tries again later.
 */
class WebhookReceiver {
  down = false;
  private inFlight = 0;
  private readonly idle: Array<() => void> = [];
  private server?: Server;

  /** `intake` is read per request: the connector that owns it is built once the receiver's URL is known. */
  constructor(private readonly intakeOf: () => AcdWebhookIntake | undefined, private readonly sink: RecordingSink) {}

  private get intake(): AcdWebhookIntake {
    const intake = this.intakeOf();
    if (!intake) throw new Error('webex harness: the connector has no webhook intake');
    return intake;
  }

  async start(): Promise<string> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    return `${await listenLocal(server)}${WEBEX_WEBHOOK_PATH}`;
  }

  drained(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
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
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    if (raw.length > this.intake.maxBodyBytes) return { status: 413, body: { error: 'too-large' } };
    if (this.down) return { status: 503, body: { error: 'unavailable' } };
    const parsed = this.intake.parse(raw, req.headers, Date.now());
    if (!parsed.ok) return { status: parsed.status, body: { error: 'rejected', reason: parsed.reason, errors: parsed.errors } };
    const result = await this.sink.accept(parsed.changes);
    return this.intake.answer?.(result.accepted, result.duplicates) ?? { status: 202, body: result };
  }
}

async function until(what: string, probe: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() >= deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const TEAM = 'Conformance';
const OTHER_TEAM = 'Other';

/**
 * The Webex connector against the Webex emulator, for the connector conformance suite: the daemon's subscription is
 * created by `connector.start()` pointing at a local receiver that passes headers and raw bytes through
 * `connector.webhook` into the harness's `RecordingSink`. Two records per page everywhere, so every listing pages.
 */
export async function makeWebexHarness(): Promise<WebexHarness> {
  const code = (name: string) => ({ id: webexIdOf('idle-code', name), name, workTypeCode: 'IDLE_CODE' as const, active: true });
  const teamId = webexIdOf('team', TEAM);
  const otherTeamId = webexIdOf('team', OTHER_TEAM);
  const profile = { id: webexIdOf('desktop-profile', TEAM), name: 'Conformance desktop', accessIdleCode: 'SPECIFIC' as const, idleCodes: [code('Lunch').id, code('Break').id] };
  const otherProfile = { id: webexIdOf('desktop-profile', OTHER_TEAM), name: 'Other desktop', accessIdleCode: 'SPECIFIC' as const, idleCodes: [code('Lunch').id, code('Training').id] };
  const agent = (email: string, team: string, profileId: string) => ({
    id: webexIdOf('user', email), email, firstName: email.split('.')[0], lastName: 'Conformance', teamId: team, agentProfileId: profileId, state: 'Available' as const,
  });
  const seeded = [agent('ada.adams@example.com', teamId, profile.id), agent('ben.becker@example.com', teamId, profile.id)];
  const emulator = new WebexEmulator({
    codes: [code('Lunch'), code('Break'), code('Training'), { id: webexIdOf('wrap-up-code', 'Resolved'), name: 'Resolved', workTypeCode: 'WRAP_UP_CODE', active: true }],
    teams: [{ id: teamId, name: TEAM }, { id: otherTeamId, name: OTHER_TEAM }],
    profiles: [profile, otherProfile],
    agents: [...seeded, agent('chloe.chen@example.com', otherTeamId, otherProfile.id)],
    maxPageSize: 2,
    searchPageSize: 2,
    deliveryAttempts: 12,
    deliveryRetryMs: 10,
  });
  await emulator.start();
  const secret = 'conformance-webex-subscription-secret-0123456789';
  const received = new RecordingSink();
  // The receiver reads the intake per request, so it can listen before the connector that owns the intake exists.
  const live: WebhookReceiver = new WebhookReceiver((): AcdWebhookIntake | undefined => connector.webhook, received);
  const webhookUrl: string = await live.start();
  const connector: WebexConnector = new WebexConnector({
    apiBaseUrl: emulator.url, tokenUrl: emulator.tokenUrl, orgId: emulator.orgId, clientId: emulator.credentials.clientId, clientSecret: emulator.credentials.clientSecret,
    refreshToken: emulator.credentials.refreshToken, refreshTokens: new InMemoryRefreshTokenStore(), webhookSecret: secret, webhookUrl, readRetryDelayMs: 20,
  });
  await connector.start();

  let failedBefore = 0;
  return {
    connector,
    emulator,
    received,
    agents: seeded.map((a) => ({ agentId: a.id, email: a.email })),
    unknownAgentId: webexIdOf('user', 'nobody@example.com'),
    team: { teamId, codes: ['Lunch', 'Break'], disabledCode: 'Training' },
    secrets: [emulator.credentials.clientSecret, emulator.credentials.refreshToken, secret],
    reportsLogout: true,
    afterOutage: 'redelivers',
    async agentSets(agentId: string, state: SettableAcdState) {
      if (state.state === 'Offline') return emulator.agentLogout(agentId);
      if (state.state === 'Available') return emulator.agentSetState(agentId, { state: 'Available' });
      const idleCodeId = state.code ? emulator.codeIdOf(state.code) : undefined;
      if (!idleCodeId) throw new Error(`makeWebexHarness: no idle code ${state.code ?? '(none)'}`);
      emulator.agentSetState(agentId, { state: 'Idle', idleCodeId });
    },
    async startContact(agentId: string) {
      emulator.startContact(agentId);
    },
    async endContact(agentId: string, options: { wrapUp?: boolean } = {}) {
      emulator.endContact(agentId, { wrapUp: options.wrapUp ?? false });
    },
    async endWrapUp(agentId: string) {
      emulator.endWrapUp(agentId, emulator.codeIdOf('Resolved', 'WRAP_UP_CODE'));
    },
    async stateOf(agentId: string): Promise<AcdState> {
      const a = emulator.getAgent(agentId);
      if (!a) throw new Error(`makeWebexHarness: unknown agent ${agentId}`);
      return webexAcdViewOf(a, (id) => emulator.code(id)?.name);
    },
    failNext(count: number, fault: ConformanceFault) {
      emulator.failNext(count, fault.status, { target: 'api', ...('retryAfterSec' in fault ? { retryAfterSec: fault.retryAfterSec } : {}) });
    },
    expireToken() {
      emulator.revokeAccessTokens();
    },
    interruptDelivery() {
      failedBefore = emulator.deliveries.failedAttempts;
      live.down = true;
    },
    async resumeDelivery() {
      if (emulator.deliveries.pending > 0) await until('a delivery refused during the interruption', () => emulator.deliveries.failedAttempts > failedBefore);
      live.down = false;
    },
    duplicateNext() {
      emulator.duplicateNext();
    },
    reorderNext() {
      emulator.reorderNext();
    },
    async settle() {
      await emulator.flushDeliveries(15_000);
      await live.drained();
    },
    async stop() {
      await connector.stop();
      await emulator.stop();
      await live.stop();
    },
  };
}
