import type http from 'node:http';

/**
 * Fair admission of GraphQL requests. At most `maxConcurrent` are processed at once (read, parsed, executed); past
 * that, waiting requests are admitted one client at a time in turn (round robin over the clients that wait). A
 * client with many requests at once — an abuser's burst, a script's loop, many clients starting together — then
 * delays another client's request by about one of its own, not by all of them, and the work in flight (event loop,
 * pool, PostgreSQL's CPU) stays what the machine can serve. Without it, requests run in arrival order and a burst
 * of 30 lands on the pool's FIFO queue ahead of everyone else.
 *
 * A slot is held until the answer is written, or until it is parked in the tarpit (a 429 answered later holds no
 * work). A request still waiting when its client goes away is dropped; past `maxQueued` waiting requests, the
 * server answers 503 at once (the process's memory is not a queue).
 */
export type FairAdmissionOptions = { maxConcurrent: number; maxQueued: number };

type Waiting = { res: http.ServerResponse; start: () => void };

export function createFairAdmission(options: FairAdmissionOptions) {
  let running = 0;
  let queued = 0;
  // Insertion order is the round robin: a client that was served goes to the back.
  const waiting = new Map<string, Waiting[]>();
  const releases = new WeakMap<http.ServerResponse, () => void>();

  const startNext = () => {
    while (running < options.maxConcurrent && waiting.size > 0) {
      const [client, queue] = waiting.entries().next().value!;
      const request = queue.shift()!;
      waiting.delete(client);
      if (queue.length > 0) waiting.set(client, queue);
      queued--;
      if (request.res.destroyed) continue;
      begin(request);
    }
  };

  const begin = ({ res, start }: Waiting) => {
    running++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      releases.delete(res);
      running--;
      startNext();
    };
    releases.set(res, release);
    res.once('close', release);
    start();
  };

  return {
    /** Runs `start` now, or when the client's turn comes; answers 503 when too many wait already (and says so). */
    admit(client: string, res: http.ServerResponse, start: () => void, refused?: () => void): void {
      if (running < options.maxConcurrent && waiting.size === 0) return begin({ res, start });
      if (queued >= options.maxQueued) {
        refused?.();
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
        res.end(JSON.stringify({ errors: [{ message: 'The server is busy; retry in a second.', extensions: { code: 'SERVICE_UNAVAILABLE' } }] }));
        return;
      }
      queued++;
      const queue = waiting.get(client);
      if (queue) queue.push({ res, start });
      else waiting.set(client, [{ res, start }]);
    },
    /** Frees the request's slot before its answer is written (an answer parked in the tarpit). */
    release(res: http.ServerResponse): void {
      releases.get(res)?.();
    },
    stats: () => ({ running, queued, clients: waiting.size }),
  };
}

export type FairAdmission = ReturnType<typeof createFairAdmission>;
