/**
 * The abusive clients of `npm run bench:abuse`, in a process of their own: building attack bodies (a unique 65 KB
 * document, a batch of 1 MB, 1,500-key state deltas) and handling hundreds of answers must not stall the event loop
 * that times the dashboard's requests. Measured: in one process, the benchmark's own loop lagged up to 28 ms at the
 * abuse's onset, and that lag was counted as the server's latency.
 *
 * Protocol (IPC with run.ts): `ready` once loaded; `start` → loops every attack of `attacks` with its concurrency, sending `answer` (when
 * recording) and `inFlight` messages; `url` → the server moved (restarted) or is gone (null); `stop` → aborts, waits
 * for the loops, sends `stopped`, and exits.
 */
import { ATTACKS, type AttackContext, type WorkerState } from './attacks.js';
import { closeAgents, type Answer } from './client.js';

export type AttackerStart = {
  type: 'start';
  url: string;
  attacks: string[];
  recording: boolean;
  oneAddress: boolean;
  keys: AttackContext['keys'];
  bigGraphId: string;
  bigSessionId: string;
};
export type AttackerCommand = AttackerStart | { type: 'url'; url: string | null } | { type: 'stop' };
export type AttackerMessage =
  | { type: 'answer'; id: string; answer: Pick<Answer, 'label' | 'ms' | 'verdict'> }
  | { type: 'inFlight'; id: string; delta: 1 | -1 }
  | { type: 'ready' }
  | { type: 'stopped' };

const send = (message: AttackerMessage) => process.send!(message);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let url: string | null = null;
const controller = new AbortController();
let loops: Promise<void>[] = [];

function start(command: AttackerStart) {
  url = command.url;
  const ctx: AttackContext = {
    url: () => url ?? 'http://127.0.0.1:9', // while the server restarts: refused, counted as network errors
    keys: command.keys,
    bigGraphId: command.bigGraphId,
    bigSessionId: command.bigSessionId,
    signal: controller.signal,
    addressOf: (attack) => (command.oneAddress ? '127.0.0.1' : `127.0.0.${10 + ATTACKS.findIndex((a) => a.id.replace(/[a-z]$/, '') === attack)}`),
    record(id, answer) {
      if (answer.verdict !== 'cancelled' && command.recording) send({ type: 'answer', id, answer: { label: answer.label, ms: answer.ms, verdict: answer.verdict } });
    },
  };
  const attacks = ATTACKS.filter((attack) => command.attacks.includes(attack.id));
  loops = attacks.flatMap((attack) =>
    Array.from({ length: attack.concurrency }, async (_, index) => {
      const worker: WorkerState = { index, iteration: 0 };
      while (!controller.signal.aborted) {
        send({ type: 'inFlight', id: attack.id, delta: 1 });
        try {
          await attack.iterate(ctx, worker);
        } catch (err) {
          console.log(`attack ${attack.id}: ${(err as Error).message}`);
          await sleep(500);
        } finally {
          send({ type: 'inFlight', id: attack.id, delta: -1 });
        }
        worker.iteration += 1;
        // Between iterations only when the server is gone (restarting): no busy loop on refused connections.
        if (!url) await sleep(500);
      }
    }),
  );
}

process.on('message', (command: AttackerCommand) => {
  if (command.type === 'start') start(command);
  else if (command.type === 'url') url = command.url;
  else if (command.type === 'stop') {
    controller.abort();
    void Promise.all(loops).then(() => {
      closeAgents();
      send({ type: 'stopped' });
      process.disconnect();
    });
  }
});

// Ready: the parent starts the phase's clock only now (this process takes a moment to load).
send({ type: 'ready' });
