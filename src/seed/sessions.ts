/**
 * Agent sessions (ADK-style) with their event histories: single-agent sessions and team sessions whose
 * member sessions point at them. Each session's events are numbered 1..n without gaps, their timestamps
 * strictly increase, and the session's state is the merge of the events' `stateDelta`s.
 */
import { AGENTS, APP_NAMES, MODELS, SENTENCES, TOOLS, TOPICS, USER_MESSAGES } from './catalogue.js';
import type { SeededUser } from './graphs.js';
import { clamp, iso, type Rng } from './random.js';
import type { RowBuffer } from './writer.js';

const SECOND = 1_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

type SessionPlan = {
  id: string;
  appName: (typeof APP_NAMES)[number];
  userId: string;
  agentId: string;
  teamSessionId: string | null;
  branch: string;
  createdAt: number;
  metadata: Record<string, unknown>;
  /** Set for the showcase sessions; others end ACTIVE only if recently used, by chance. */
  status?: 'ACTIVE';
};

type Event = { author: string; role: 'user' | 'model'; parts: unknown[]; gap: number; stateDelta?: Record<string, unknown>; newInvocation: boolean; clientEventId: string | null; agentEvent: boolean };

/** The events of one conversation, before timestamps are laid out. */
function planEvents(rng: Rng, agentId: string, count: number): Event[] {
  const events: Event[] = [];
  while (events.length < count) {
    // An invocation: the user speaks, the agent calls 0–3 tools, then answers.
    events.push({
      author: 'user',
      role: 'user',
      parts: [{ text: rng.pick(USER_MESSAGES) }],
      gap: events.length === 0 ? rng.logNormal(2 * SECOND, 1) : rng.chance(0.1) ? rng.logNormal(6 * HOUR, 1) : rng.logNormal(40 * SECOND, 1),
      newInvocation: true,
      clientEventId: rng.chance(0.4) ? `cli-${rng.hex(16)}` : null,
      agentEvent: false,
    });
    const toolCalls = rng.weighted([[0, 5], [1, 3], [2, 1.5], [3, 0.5]] as const);
    for (let t = 0; t < toolCalls && events.length < count; t++) {
      const tool = rng.pick(TOOLS);
      events.push({ author: agentId, role: 'model', parts: [{ functionCall: { name: tool, args: { query: rng.pick(TOPICS) } } }], gap: rng.logNormal(1_500, 0.7), newInvocation: false, clientEventId: null, agentEvent: true });
      if (events.length < count) {
        events.push({ author: tool, role: 'user', parts: [{ functionResponse: { name: tool, response: { result: rng.pick(SENTENCES) } } }], gap: rng.logNormal(800, 1), newInvocation: false, clientEventId: null, agentEvent: false });
      }
    }
    if (events.length < count) {
      const stateDelta = rng.chance(0.3) ? { last_topic: rng.pick(TOPICS), [`turns_${agentId}`]: events.length } : undefined;
      events.push({ author: agentId, role: 'model', parts: [{ text: `${rng.pick(SENTENCES)} ${rng.chance(0.3) ? rng.pick(SENTENCES) : ''}`.trim() }], gap: rng.logNormal(3 * SECOND, 0.8), stateDelta, newInvocation: false, clientEventId: null, agentEvent: true });
    }
  }
  return events;
}

function writeSession(rng: Rng, buffer: RowBuffer, plan: SessionPlan, eventCount: number, now: number): number {
  const events = planEvents(rng, plan.agentId, eventCount);
  // Lay the events out after the session's creation; squeeze them if they would run past `now`.
  const gaps = events.map((e) => e.gap);
  const total = gaps.reduce((a, b) => a + b, 0);
  const room = now - plan.createdAt - events.length;
  const scale = total > room ? Math.max(0, room) / total : 1;
  let at = plan.createdAt;
  let invocationId = '';
  const state: Record<string, unknown> = { 'app:version': '1.0', user_name: plan.userId.slice(0, 8) };
  const rows = events.map((event, index) => {
    at += Math.max(1, Math.floor(event.gap * scale));
    if (event.newInvocation) invocationId = `e-${rng.hex(8)}-${rng.hex(4)}`;
    if (event.stateDelta) Object.assign(state, event.stateDelta);
    const metadata = event.agentEvent ? { model: rng.pick(MODELS), usage: { prompt_tokens: rng.int(100, 8000), completion_tokens: rng.int(5, 1200) } } : {};
    const actions = event.stateDelta ? { stateDelta: event.stateDelta } : event.agentEvent && rng.chance(0.1) ? { skipSummarization: true } : {};
    return [
      rng.uuid7(at),
      plan.id,
      index + 1,
      invocationId,
      plan.agentId,
      event.author,
      JSON.stringify({ role: event.role, parts: event.parts }),
      JSON.stringify(actions),
      JSON.stringify(metadata),
      event.author === 'user' ? plan.branch.split('.')[0]! : plan.branch,
      iso(at),
      event.clientEventId,
    ] as const;
  });
  const lastAt = at;
  const recent = now - lastAt < 2 * DAY;
  const status = plan.status ?? (recent && rng.chance(0.6) ? 'ACTIVE' : rng.chance(0.85) ? 'COMPLETED' : 'FAILED');
  buffer.add('sessions', [
    plan.id,
    plan.appName,
    plan.userId,
    plan.agentId,
    status,
    JSON.stringify(plan.metadata),
    JSON.stringify(state),
    plan.teamSessionId,
    events.length + 1,
    events.length,
    iso(plan.createdAt),
    iso(lastAt),
  ]);
  for (const row of rows) buffer.add('sessionEvents', [...row]);
  return lastAt;
}

/** Where a session ran: developers try agents from the CLI against staging; everything else is production traffic. */
const environmentOf = (channel: string) => (channel === 'cli' ? 'staging' : 'prod');

/** The team the showcase puts in every seeded database: the support bot's lead agent and two of its members. */
const SHOWCASE_APP = 'support-bot';
const SHOWCASE_AGENTS = ['support_agent', 'billing_agent', 'refund_agent'] as const;
const SHOWCASE_EVENTS = [14, 9, 7] as const;

/**
 * A known starting point for the README's session examples: the first user's support-bot team in production, ACTIVE,
 * used in the last hours (so most recently updated), its agents' events on `root.support_agent` and below. Drawn from
 * its own generator, so the other sessions are the same with or without it.
 */
function writeShowcaseTeam(rng: Rng, buffer: RowBuffer, user: SeededUser, maxEvents: number, now: number): number {
  const [lead, ...members] = SHOWCASE_AGENTS;
  const metadata = { channel: 'web', locale: 'en-US', client: 'adk-python/1.2', env: environmentOf('web') };
  const createdAt = Math.max(user.createdAt + HOUR, now - 3 * HOUR);
  const events = (index: number) => Math.min(SHOWCASE_EVENTS[index]!, maxEvents);
  const team: SessionPlan = { id: rng.uuid7(createdAt), appName: SHOWCASE_APP, userId: user.id, agentId: lead, teamSessionId: null, branch: `root.${lead}`, createdAt, metadata: { ...metadata, team: SHOWCASE_AGENTS }, status: 'ACTIVE' };
  writeSession(rng, buffer, team, events(0), now);
  members.forEach((agent, m) => {
    const memberCreated = createdAt + (m + 1) * 5 * SECOND;
    const member: SessionPlan = { id: rng.uuid7(memberCreated), appName: SHOWCASE_APP, userId: user.id, agentId: agent, teamSessionId: team.id, branch: `root.${lead}.${agent}`, createdAt: memberCreated, metadata, status: 'ACTIVE' };
    writeSession(rng, buffer, member, events(m + 1), now);
  });
  return SHOWCASE_AGENTS.length;
}

export async function generateSessions(
  rng: Rng,
  showcaseRng: Rng,
  buffer: RowBuffer,
  users: SeededUser[],
  count: number,
  maxEvents: number,
  now: number,
  windowMs: number,
): Promise<void> {
  if (users.length === 0) return;
  const eventCount = () => clamp(Math.round(rng.logNormal(12, 1.3)), 1, Math.max(1, maxEvents));
  const sessionStart = (user: SeededUser) => Math.floor(Math.max(user.createdAt + HOUR, now - windowMs * Math.pow(rng.next(), 1.3)));
  let written = count >= SHOWCASE_AGENTS.length ? writeShowcaseTeam(showcaseRng, buffer, users[0]!, maxEvents, now) : 0;
  while (written < count) {
    const user = rng.pick(users);
    const appName = rng.pick(APP_NAMES);
    const agents = AGENTS[appName];
    const channel = rng.pick(['web', 'slack', 'api', 'cli']);
    const metadata = { channel, locale: rng.pick(['en-US', 'de-DE', 'ja-JP', 'pt-BR']), client: 'adk-python/1.2', env: environmentOf(channel) };
    const remaining = count - written;
    const createdAt = Math.min(sessionStart(user), now - HOUR);
    if (remaining >= 3 && rng.chance(0.12)) {
      // A team session coordinated by the app's first agent, with 2–3 member sessions (one per other agent).
      const members = Math.min(rng.int(2, 3), remaining - 1, agents.length - 1);
      const lead = agents[0]!;
      const team: SessionPlan = { id: rng.uuid7(createdAt), appName, userId: user.id, agentId: lead, teamSessionId: null, branch: `root.${lead}`, createdAt, metadata: { ...metadata, team: agents.slice(0, members + 1) } };
      writeSession(rng, buffer, team, eventCount(), now);
      written++;
      for (let m = 1; m <= members; m++) {
        const agent = agents[m]!;
        const memberCreated = Math.min(createdAt + Math.floor(rng.logNormal(5 * SECOND, 1)), now - 30 * 60_000);
        const member: SessionPlan = { id: rng.uuid7(memberCreated), appName, userId: user.id, agentId: agent, teamSessionId: team.id, branch: `root.${lead}.${agent}`, createdAt: memberCreated, metadata };
        writeSession(rng, buffer, member, eventCount(), now);
        written++;
      }
    } else {
      const agent = rng.pick(agents);
      const plan: SessionPlan = { id: rng.uuid7(createdAt), appName, userId: user.id, agentId: agent, teamSessionId: null, branch: rng.chance(0.8) ? 'root' : `root.${agent}`, createdAt, metadata };
      writeSession(rng, buffer, plan, eventCount(), now);
      written++;
    }
    await buffer.maybeFlush();
  }
}
