/**
 * One timed load window with autocannon: fixed concurrency, requests taken from the question's generator
 * (each connection asks for its next request as soon as the previous answer arrived). GraphQL answers with
 * `errors` and non-2xx answers are counted as failures; a window with failures fails the benchmark.
 */
import autocannon from 'autocannon';
import type { Req } from './questions.js';

export type Window = { rps: number; p50: number; p99: number; requests: number; failures: number; durationS: number };

export async function loadWindow(baseUrl: string, next: () => Req, options: { connections: number; seconds: number }): Promise<Window> {
  let failures = 0;
  let firstFailure = '';
  const result = await autocannon({
    url: baseUrl,
    connections: options.connections,
    duration: options.seconds,
    method: 'POST',
    requests: [
      {
        setupRequest: (request) => {
          const r = next();
          return { ...request, method: 'POST', path: r.path, body: r.body, headers: r.headers };
        },
        onResponse: (status, body) => {
          if (status >= 300 || body.startsWith('{"errors"') || body.includes('"errors":[')) {
            failures++;
            if (!firstFailure) firstFailure = `${status} ${body.slice(0, 500)}`;
          }
        },
      },
    ],
  });
  if (firstFailure) console.error(`  first failed answer: ${firstFailure}`);
  const requests = result['2xx'] + result.non2xx;
  const durationS = result.duration;
  return {
    rps: requests / durationS,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests,
    failures: failures + result.errors + result.timeouts,
    durationS,
  };
}
