// Browser entry of the dashboard served at /dashboard. Bundled by scripts/build-dashboard.mjs (esbuild) into
// src/generated/dashboard-page/. Kept as .jsx so that the server's TypeScript program (no DOM lib) does not check it.
//
// Every operation is a typed document compiled from ./operations.graphql (npm run generate) and sent by id (its
// persisted-document hash), so the page works where the server runs only its persisted documents.
import { liveClients } from '../playground/live-client.js';
import { useEffect, useMemo, useRef, useState } from 'react';
// @ts-expect-error -- @types/react-dom is not installed; only createRoot(el).render(node) is used.
import { createRoot } from 'react-dom/client';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './page.css';
import {
  DashboardBlockNamesDocument,
  DashboardGraphSeriesDocument,
  DashboardNodeUpdatesDocument,
  DashboardRunDetailDocument,
  DashboardRunUpdatesDocument,
  DashboardRunsDocument,
  DashboardStatsDocument,
  DashboardUsersDocument,
  DashboardViewerDocument,
} from '../../generated/dashboard/graphql.js';

/** @returns {{ graphqlPath: string; defaultHeaders?: string }} */
function readConfig() {
  const element = document.getElementById('dashboard-config');
  if (!element || !element.textContent) throw new Error('dashboard: missing #dashboard-config');
  return JSON.parse(element.textContent);
}
const config = readConfig();
const KEY_STORAGE = 'agentgraph:dashboard:authorization';
const RANGES = [7, 30, 90];
const DAY_MS = 86_400_000;
const QUARTER_HOUR_MS = 900_000;
const TIMEZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

// ---------------------------------------------------------------------------------------------- formatting for people

const integer = new Intl.NumberFormat('en-US');
const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const money = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
export const formatCount = (n) => (n == null ? '–' : integer.format(n));
export const formatPercent = (rate) => (rate == null ? '–' : `${decimal.format(rate * 100)} %`);
export const formatCost = (n) => (n == null ? '–' : money.format(n));
export function formatDuration(ms) {
  if (ms == null) return '–';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${decimal.format(ms / 1_000)} s`;
  const minutes = Math.floor(ms / 60_000);
  return minutes < 60 ? `${minutes} min ${Math.round((ms % 60_000) / 1_000)} s` : `${decimal.format(ms / 3_600_000)} h`;
}
const formatTime = (iso) => new Date(iso).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });

// ------------------------------------------------------------------------------------------------------- the API

const idOf = (document) => document.__meta__.hash;
const persisted = (document) => ({ extensions: { persistedQuery: { version: 1, sha256Hash: idOf(document) } } });

async function request(authorization, document, variables = {}) {
  const response = await fetch(config.graphqlPath, {
    method: 'POST',
    credentials: 'omit',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify({ variables, ...persisted(document) }),
  });
  const body = await response.json().catch(() => ({ errors: [{ message: `HTTP ${response.status}` }] }));
  if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join(' '));
  return body.data;
}

const liveClient = liveClients(config.graphqlPath, 2);

/** Subscribes by id; `onFailure` is told when the socket is refused or the subscription ends in error. */
function subscribe(authorization, document, variables, onData, onFailure) {
  return liveClient(authorization).subscribe(
    { query: '', variables, ...persisted(document) },
    {
      next: (result) => (result.errors?.length ? onFailure(result.errors.map((e) => e.message).join(' ')) : onData(result.data)),
      error: (error) => onFailure(error instanceof Error ? error.message : error?.reason || 'the live connection was refused'),
      complete: () => {},
    },
  );
}

/** `variables` null: nothing to ask (yet). */
function useQuery(authorization, document, variables, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: variables !== null });
  useEffect(() => {
    if (variables === null) {
      setState({ data: null, error: null, loading: false });
      return undefined;
    }
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    request(authorization, document, variables).then(
      (data) => current && setState({ data, error: null, loading: false }),
      (error) => current && setState({ data: null, error: error.message, loading: false }),
    );
    return () => {
      current = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [authorization, ...deps]);
  return state;
}

// ------------------------------------------------------------------------------------------------------ components

function Chart({ title, buckets, series }) {
  const element = useRef(null);
  useEffect(() => {
    if (!element.current) return undefined;
    const xs = buckets.map((b) => Date.parse(b.bucketStart) / 1_000);
    const plot = new uPlot(
      {
        width: Math.max(280, element.current.clientWidth),
        height: 180,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), TIMEZONE),
        legend: { show: true },
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, fill: s.fill, width: 2, value: (_u, v) => (v == null ? '–' : s.format(v)) }))],
        axes: [{}, { values: (_u, ticks) => ticks.map((v) => (series[0].axis ?? series[0].format)(v)), size: 60 }],
      },
      [xs, ...series.map((s) => buckets.map(s.value))],
      element.current,
    );
    return () => plot.destroy();
  }, [buckets, series]);
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <div ref={element} role="img" aria-label={`${title}, ${buckets.length} points`} />
      <details>
        <summary>Data</summary>
        <table>
          <thead>
            <tr>
              <th>Bucket</th>
              {series.map((s) => (
                <th key={s.label}>{s.label}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {buckets.map((b) => (
              <tr key={b.bucketStart}>
                <td>{new Date(b.bucketStart).toLocaleDateString()}</td>
                {series.map((s) => (
                  <td key={s.label}>{s.format(s.value(b))}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}

const RUN_SERIES = [
  { label: 'Runs', color: '#3b6fd8', value: (b) => b.total, format: formatCount },
  { label: 'Completed', color: '#2e9e5b', value: (b) => b.completed, format: formatCount },
  { label: 'Failed', color: '#d64545', value: (b) => b.failed, format: formatCount },
];
const DURATION_SERIES = [{ label: 'p95 duration', color: '#8a5cd6', value: (b) => b.p95DurationMs, format: formatDuration, axis: (ms) => `${decimal.format(ms / 1_000)} s` }];
const COST_SERIES = [{ label: 'Cost', color: '#c7861b', value: (b) => b.cost, format: formatCost }];

function Figures({ stats }) {
  return (
    <dl className="figures">
      <div><dt>Runs</dt><dd data-figure="runs">{formatCount(stats.total)}</dd></div>
      <div><dt>Success rate</dt><dd data-figure="success">{formatPercent(stats.successRate)}</dd></div>
      <div><dt>p50 / p95 duration</dt><dd>{formatDuration(stats.duration.p50Ms)} / {formatDuration(stats.duration.p95Ms)}</dd></div>
      <div><dt>Cost</dt><dd>{formatCost(stats.cost.total)}</dd></div>
    </dl>
  );
}

function Series({ stats, label }) {
  return (
    <div className="charts">
      <Chart title={`${label}: runs per day`} buckets={stats.timeSeries} series={RUN_SERIES} />
      <Chart title={`${label}: p95 duration per day`} buckets={stats.timeSeries} series={DURATION_SERIES} />
      <Chart title={`${label}: cost per day`} buckets={stats.timeSeries} series={COST_SERIES} />
    </div>
  );
}

function Statistics({ authorization, days, userId }) {
  // On a quarter-hour edge: every user's statistics then come from the rollups alone (a range that starts or ends
  // between edges reads those minutes' node executions row by row: ~1 s at 200k runs).
  const [to] = useState(() => new Date(Math.ceil(Date.now() / QUARTER_HOUR_MS) * QUARTER_HOUR_MS));
  const from = useMemo(() => new Date(to.getTime() - days * DAY_MS), [to, days]);
  const filter = { from: from.toISOString(), to: to.toISOString(), ...(userId ? { userId } : {}) };
  const stats = useQuery(authorization, DashboardStatsDocument, { filter, bucket: 'DAY', timezone: TIMEZONE }, [days, userId]);
  const names = useQuery(authorization, DashboardBlockNamesDocument, {}, []);
  const [graph, setGraph] = useState(null);
  const graphStats = useQuery(
    authorization,
    DashboardGraphSeriesDocument,
    graph ? { filter: { ...filter, graphId: graph.id }, bucket: 'DAY', timezone: TIMEZONE } : null,
    [days, userId, graph?.id],
  );
  if (stats.error) return <p className="error">Statistics: {stats.error}</p>;
  if (!stats.data) return <p aria-busy="true">Loading statistics…</p>;
  const s = stats.data.executionStats;
  const blockName = new Map((names.data?.blocks.nodes ?? []).map((b) => [b.id, b.name]));
  return (
    <section aria-labelledby="statistics">
      <h2 id="statistics">Last {days} days</h2>
      <Figures stats={s} />
      <Series stats={s} label="All graphs" />
      <h3>Graphs</h3>
      <table className="graphs">
        <thead>
          <tr><th>Graph</th><th>Runs</th><th>Success rate</th><th>p95 duration</th><th>Cost</th></tr>
        </thead>
        <tbody>
          {s.topGraphs.map((g) => (
            <tr key={`${g.graph.id}:${g.graph.version}`} className={graph?.id === g.graph.id ? 'selected' : ''}>
              <td><button type="button" onClick={() => setGraph(g.graph)}>{g.graph.name}</button></td>
              <td>{formatCount(g.runs)}</td>
              <td>{formatPercent(g.successRate)}</td>
              <td>{formatDuration(g.p95DurationMs)}</td>
              <td>{formatCost(g.cost)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {graph && graphStats.data && (
        <>
          <h3>{graph.name}</h3>
          <Figures stats={graphStats.data.executionStats} />
          <Series stats={graphStats.data.executionStats} label={graph.name} />
        </>
      )}
      <h3>Failing blocks</h3>
      <table className="blocks">
        <thead>
          <tr><th>Block</th><th>Runs</th><th>Failures</th><th>Failure rate</th><th>p95 duration</th></tr>
        </thead>
        <tbody>
          {s.blocks
            .filter((b) => b.failures > 0)
            .map((b) => (
              <tr key={b.blockId}>
                <td>{blockName.get(b.blockId) ?? b.blockId}</td>
                <td>{formatCount(b.runs)}</td>
                <td>{formatCount(b.failures)}</td>
                <td>{formatPercent(b.failureRate)}</td>
                <td>{formatDuration(b.p95DurationMs)}</td>
              </tr>
            ))}
        </tbody>
      </table>
    </section>
  );
}

const POLL_MS = 5_000;

function LiveRuns({ authorization, userId, onOpen }) {
  const [runs, setRuns] = useState([]);
  const [mode, setMode] = useState({ live: true, note: null });
  const [since] = useState(() => new Date(Date.now() - DAY_MS).toISOString());
  useEffect(() => {
    let stopped = false;
    let timer = null;
    const filter = { createdAt: { from: since }, ...(userId ? { userId } : {}) };
    const load = () =>
      request(authorization, DashboardRunsDocument, { filter }).then(
        (data) => !stopped && setRuns(data.graphExecutions.nodes),
        () => {},
      );
    load();
    const unsubscribe = subscribe(
      authorization,
      DashboardRunUpdatesDocument,
      userId ? { filter: { userId } } : {},
      (data) => {
        const update = data.graphExecutionUpdated;
        if (update.kind === 'MISSED') return void load();
        const run = update.graphExecution;
        setRuns((previous) => [run, ...previous.filter((r) => r.id !== run.id)].sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, 50));
      },
      (reason) => {
        if (stopped || timer) return;
        setMode({ live: false, note: `Live updates are unavailable (${reason}); refreshing every ${POLL_MS / 1_000} s.` });
        timer = setInterval(load, POLL_MS);
      },
    );
    return () => {
      stopped = true;
      unsubscribe();
      if (timer) clearInterval(timer);
    };
  }, [authorization, userId, since]);
  return (
    <section aria-labelledby="runs">
      <h2 id="runs">
        Runs of the last 24 hours <span className={mode.live ? 'badge live' : 'badge'}>{mode.live ? 'live' : 'polling'}</span>
      </h2>
      {mode.note && <p className="note">{mode.note}</p>}
      <table className="runs">
        <thead>
          <tr><th>Created</th><th>Graph</th><th>Status</th><th>Duration</th><th>Cost</th></tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <tr key={run.id} data-run={run.id}>
              <td>{formatTime(run.createdAt)}</td>
              <td><button type="button" onClick={() => onOpen(run.id)}>{run.graph.name}</button></td>
              <td><span className={`status ${run.status.toLowerCase()}`} data-status={run.status}>{run.status}</span></td>
              <td>{formatDuration(run.durationMs)}</td>
              <td>{formatCost(run.cost)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {runs.length === 0 && <p>No runs in the last 24 hours.</p>}
    </section>
  );
}

function RunDetail({ authorization, runId, onClose }) {
  const [run, setRun] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let stopped = false;
    request(authorization, DashboardRunDetailDocument, { id: runId }).then(
      (data) => !stopped && setRun(data.graphExecution),
      (e) => !stopped && setError(e.message),
    );
    const unsubscribe = subscribe(
      authorization,
      DashboardNodeUpdatesDocument,
      { id: runId },
      (data) => {
        const node = data.nodeExecutionUpdated.nodeExecution;
        if (!node) return;
        setRun((current) => current && { ...current, nodeExecutions: { nodes: current.nodeExecutions.nodes.map((n) => (n.id === node.id ? node : n)) } });
      },
      () => {},
    );
    return () => {
      stopped = true;
      unsubscribe();
    };
  }, [authorization, runId]);
  if (error) return <p className="error">Run {runId}: {error}</p>;
  if (!run) return <p aria-busy="true">Loading the run…</p>;
  const longest = Math.max(1, ...run.nodeExecutions.nodes.map((n) => n.durationMs ?? 0));
  return (
    <section aria-labelledby="run" className="run">
      <h2 id="run">
        {run.graph.name} · <span className={`status ${run.status.toLowerCase()}`}>{run.status}</span>{' '}
        <button type="button" onClick={onClose}>Close</button>
      </h2>
      <ol className="nodes">
        {run.nodeExecutions.nodes.map((n) => (
          <li key={n.id} data-node={n.id}>
            <span className="label">{n.node.label ?? n.node.blockId}</span>
            <span className={`status ${n.status.toLowerCase()}`}>{n.status}</span>
            <span className="bar" style={{ width: `${((n.durationMs ?? 0) / longest) * 100}%` }} aria-hidden="true" />
            <span className="duration">{formatDuration(n.durationMs)}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}

function KeyForm({ onKey }) {
  const [value, setValue] = useState('');
  return (
    <form
      className="key"
      onSubmit={(event) => {
        event.preventDefault();
        if (value.trim()) onKey(`Bearer ${value.trim().replace(/^Bearer\s+/i, '')}`);
      }}
    >
      <label>
        API key <input type="password" value={value} onChange={(e) => setValue(e.target.value)} autoComplete="off" />
      </label>
      <button type="submit">Open</button>
    </form>
  );
}

/** An admin picks whose data the page shows: a search over emails and names, then one of its first 20 matches. */
function UserPicker({ authorization, userId, onPick }) {
  const [typed, setTyped] = useState('');
  const [search, setSearch] = useState('');
  useEffect(() => {
    const timer = setTimeout(() => setSearch(typed.trim()), 250);
    return () => clearTimeout(timer);
  }, [typed]);
  const users = useQuery(authorization, DashboardUsersDocument, { search }, [search]);
  const found = users.data?.users;
  const options = found?.nodes ?? [];
  return (
    <fieldset className="user">
      <legend>User</legend>
      <input type="search" aria-label="Find a user by email or name" placeholder="email or name" value={typed} onChange={(e) => setTyped(e.target.value)} />
      <select aria-label="Show the data of" value={userId} onChange={(e) => onPick(e.target.value)}>
        <option value="">every user</option>
        {options.map((u) => (
          <option key={u.id} value={u.id}>
            {u.name ? `${u.email} (${u.name})` : u.email}
          </option>
        ))}
        {userId && !options.some((u) => u.id === userId) && <option value={userId}>the user picked before</option>}
      </select>
      {users.error ? (
        <span className="error">{users.error}</span>
      ) : (
        found && found.totalCount > options.length && <span className="hint">{formatCount(found.totalCount)} match; type to narrow</span>
      )}
    </fieldset>
  );
}

function defaultAuthorization() {
  try {
    const headers = config.defaultHeaders ? JSON.parse(config.defaultHeaders) : {};
    return headers.Authorization ?? headers.authorization ?? '';
  } catch {
    return '';
  }
}

function App() {
  const [authorization, setAuthorization] = useState(() => sessionStorage.getItem(KEY_STORAGE) || defaultAuthorization());
  const [days, setDays] = useState(7);
  const [userId, setUserId] = useState('');
  const [openRun, setOpenRun] = useState(null);
  const viewer = useQuery(authorization, DashboardViewerDocument, {}, []);
  const remember = (value) => {
    sessionStorage.setItem(KEY_STORAGE, value);
    setAuthorization(value);
  };
  if (!authorization || viewer.error) {
    return (
      <main>
        <h1>agentgraph</h1>
        {viewer.error && authorization && <p className="error">{viewer.error}</p>}
        <KeyForm onKey={remember} />
      </main>
    );
  }
  if (!viewer.data) return <main aria-busy="true">Loading…</main>;
  const isAdmin = viewer.data.viewer.permissions.includes('ADMIN');
  return (
    <main>
      <header>
        <h1>agentgraph</h1>
        <span className="viewer">{viewer.data.viewer.email}</span>
        <fieldset className="range">
          <legend>Range</legend>
          {RANGES.map((d) => (
            <label key={d}>
              <input type="radio" name="range" value={d} checked={days === d} onChange={() => setDays(d)} /> {d} days
            </label>
          ))}
        </fieldset>
        {isAdmin && <UserPicker authorization={authorization} userId={userId} onPick={setUserId} />}
      </header>
      {openRun && <RunDetail authorization={authorization} runId={openRun} onClose={() => setOpenRun(null)} />}
      <LiveRuns authorization={authorization} userId={isAdmin ? userId : ''} onOpen={setOpenRun} />
      <Statistics authorization={authorization} days={days} userId={isAdmin ? userId : ''} />
    </main>
  );
}

const container = document.getElementById('dashboard');
if (!container) throw new Error('dashboard: missing #dashboard container');
createRoot(container).render(<App />);
