import type { AcdState } from '@presence-sync/domain';
import { nextPair, pause, sameState } from '../../support/both-way-load';
import { waitFor } from '../../support/daemon-harness';
import { ReplicaCluster } from '../../support/replica-cluster';
import { mulberry32 } from '../../support/seeded-random';

/*
 * The load agents really make: every agent acts again as soon as its previous change has landed on the other side
 * (often before the echo of our write has come back), from either side, chosen at random. With that many agents in
 * a closed loop, the box runs at whatever rate it can. With 1 and with 3 replica processes, nothing may be lost, no
 * write may be made that nobody asked for, nothing may be applied twice, and every agent ends in step.
 *
 * CLOSED_LOOP_SECONDS (default 8) and CLOSED_LOOP_AGENTS (default 40) make it longer or wider by hand.
 */
const SECONDS = Number(process.env.CLOSED_LOOP_SECONDS ?? 8);
const AGENTS = Number(process.env.CLOSED_LOOP_AGENTS ?? 40);
/** A change that has not landed on the other side by then is lost. */
const LAND_TIMEOUT_MS = 15_000;

interface Step { at: number; origin: 'acd' | 'salesforce'; acd: AcdState; sf: string }

describe.each([1, 3])('closed-loop both-way load with %i replica(s)', (replicaCount) => {
  const cluster = new ReplicaCluster(AGENTS);
  // Back Office maps Lunch and Break to Unavailable:System: only Tier 1 and 2 agents, whose pairs are one-to-one.
  const agents = cluster.catalog.agents.map((a, i) => ({ ...a, i })).filter((a) => a.teamId !== 't-backoffice');

  beforeAll(async () => { await cluster.start(replicaCount); }, 120_000);
  afterAll(async () => { await cluster.stop(); }, 60_000);

  it('0 lost, 0 unwanted, 0 applied twice, 0 agents out of step', async () => {
    const steps = new Map<string, Step[]>(agents.map((a) => [a.agentId, []]));
    let lost = 0;
    const lostAgents: string[] = [];
    let changes = 0;
    const started = Date.now();
    const deadline = started + SECONDS * 1000;

    await Promise.all(agents.map(async (a, n) => {
      const rng = mulberry32(1000 + n);
      const memo = { last: 0 };
      const email = cluster.emailOf(a.i);
      while (Date.now() < deadline) {
        const pair = nextPair(rng, memo);
        const origin = rng() < 0.5 ? 'acd' : 'salesforce';
        steps.get(a.agentId)!.push({ at: Date.now(), origin, acd: pair.acd, sf: pair.sf });
        if (origin === 'acd') cluster.cc.agentSetState(a.agentId, pair.acd);
        else cluster.sf.agentSetStatus(email, pair.sf);
        const landed = () => (origin === 'acd' ? cluster.sf.statusOf(email) === pair.sf : sameState(cluster.cc.getAgent(a.agentId)?.state, pair.acd));
        const until = Date.now() + LAND_TIMEOUT_MS;
        while (!landed() && Date.now() < until) await pause(5);
        if (!landed()) { lost++; lostAgents.push(a.agentId); return; }
        changes++;
      }
    }));
    const loadMs = Date.now() - started;

    // Settle: both sides of every agent show its last step.
    const inStep = (a: (typeof agents)[number]) => {
      const last = steps.get(a.agentId)!.at(-1)!;
      return sameState(cluster.cc.getAgent(a.agentId)?.state, last.acd) && cluster.sf.statusOf(cluster.emailOf(a.i)) === last.sf;
    };
    await waitFor(() => agents.every(inStep), 'every agent in step', 20_000).catch(() => undefined);
    await pause(1500); // anything still on its way (a late, unwanted write) shows up now
    const outOfStep = agents.filter((a) => !inStep(a)).map((a) => a.agentId);

    // A write is wanted only if the agent's latest change before it came from the other side and asked for exactly it.
    // A write that ends a step lands in the same millisecond the agent starts the next one: it belongs to the earlier.
    const latestStep = (agentId: string, at: number) => steps.get(agentId)!.filter((s) => s.at < at).at(-1);
    const unwantedAcd = cluster.cc.writes.filter((w) => (w.status === 200 || w.status === 202) && !w.replayed).filter((w) => {
      const step = latestStep(w.agentId, w.at);
      const body = w.body as { state: AcdState['state']; code?: string };
      return !step || step.origin !== 'salesforce' || !sameState({ state: body.state, code: body.code }, step.acd);
    });
    const agentOfUser = new Map(agents.map((a) => [cluster.sf.userId(cluster.emailOf(a.i)), a.agentId]));
    const unwantedSf = cluster.commandLog.filter(({ userId, command, at }) => {
      const agentId = agentOfUser.get(userId);
      if (!agentId) return true;
      const step = latestStep(agentId, at);
      return !step || step.origin !== 'acd' || step.sf !== command.status;
    });
    const doubled = [...cluster.cc.appliedKeys].filter(([, n]) => n > 1).length + [...cluster.appliedCommands].filter(([, n]) => n > 1).length;

    if (process.env.CLOSED_LOOP_DEBUG) {
      for (const agentId of [...outOfStep, ...lostAgents].slice(0, 3)) {
        const a = agents.find((x) => x.agentId === agentId)!;
        process.stdout.write(`OUT ${agentId}: acd ${JSON.stringify(cluster.cc.getAgent(agentId)?.state)} sf ${cluster.sf.statusOf(cluster.emailOf(a.i))} steps ${JSON.stringify(steps.get(agentId)!.slice(-3))}\n`);
        process.stdout.write(`  record ${JSON.stringify(await cluster.redis.hgetall(cluster.keys.agent(agentId)))}\n`);
        const audit = await cluster.redis.lrange(cluster.keys.audit(agentId), 0, 20);
        for (const r of audit.reverse()) process.stdout.write(`  ${r}\n`);
      }
      for (const w of unwantedAcd.slice(0, 3)) {
        process.stdout.write(`UNWANTED ${JSON.stringify(w)}\nsteps ${JSON.stringify(steps.get(w.agentId)!.filter((s) => Math.abs(s.at - w.at) < 3000))}\n`);
        const audit = await cluster.redis.lrange(cluster.keys.audit(w.agentId), 0, 30);
        for (const r of audit.reverse()) process.stdout.write(`  ${r}\n`);
      }
    }
    const rate = (changes / (loadMs / 1000)).toFixed(0);
    process.stdout.write(`closed-loop: ${replicaCount} replica(s), ${agents.length} agents, ${changes} changes in ${(loadMs / 1000).toFixed(1)} s (${rate}/s): `
      + `lost ${lost}, unwanted ${unwantedAcd.length + unwantedSf.length}, applied twice ${doubled}, out of step ${outOfStep.length}\n`);
    expect({ lost, unwantedAcd: unwantedAcd.slice(0, 5), unwantedSf: unwantedSf.slice(0, 5), doubled, outOfStep })
      .toEqual({ lost: 0, unwantedAcd: [], unwantedSf: [], doubled: 0, outOfStep: [] });
    expect(changes).toBeGreaterThan(agents.length);
  }, 120_000);
});
