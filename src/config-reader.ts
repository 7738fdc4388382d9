import fs from 'node:fs';
import path from 'node:path';

/** A configuration that does not validate: every problem found, one line each, each naming its variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

/** Timers take at most 2^31-1 ms; a longer delay fires at once (Node warns and uses 1 ms). */
const MAX_MS = 2 ** 31 - 1;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A URL's credentials hidden, so an error message never carries a password. */
export const redactCredentials = (text: string) => text.replace(/\/\/[^/@\s]*@/, '//***@');

/**
 * Reads variables of one environment, each through a parser that knows its expected form. A value that does not parse
 * is recorded as a problem (the variable, what it must be, what it is) and the default used in its place, so that
 * `problems` ends up with every mistake at once rather than the first.
 */
export class EnvReader<Name extends string> {
  readonly problems: string[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  /** The value, trimmed; unset and empty are the same (the default). */
  raw(name: Name): string | undefined {
    const value = this.env[name]?.trim();
    return value ? value : undefined;
  }

  /** `<NAME> must be <expected>, got "<value>"`, and why, if that helps. */
  problem(name: Name, expected: string, got: string, note?: string): void {
    this.problems.push(`${name} must be ${expected}, got ${JSON.stringify(got)}${note ? ` (${note})` : ''}`);
  }

  text(name: Name, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  /** Digits only: `1e3`, `0x10`, `1.0` and `-1` are mistakes, not numbers to round. */
  wholeNumber(name: Name, fallback: number, options: { min?: number; max?: number; unit?: string } = {}): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const { min = 0, max = Number.MAX_SAFE_INTEGER, unit } = options;
    const number = Number(value);
    if (/^\d+$/.test(value) && number >= min && number <= max) return number;
    const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `${min}–${max}`;
    this.problem(name, `a whole number${unit ? ` of ${unit}` : ''} (${range})`, value);
    return fallback;
  }

  milliseconds(name: Name, fallback: number, min = 0): number {
    return this.wholeNumber(name, fallback, { min, max: MAX_MS, unit: 'milliseconds' });
  }

  port(name: Name, fallback: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (/^\d+$/.test(value) && Number(value) <= 65535) return Number(value);
    this.problem(name, 'a port number (0–65535)', value);
    return fallback;
  }

  /** An on/off switch: `1`/`true`/`yes` or `0`/`false`/`no`. */
  onOff(name: Name, fallback: boolean): boolean {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (['1', 'true', 'yes'].includes(value)) return true;
    if (['0', 'false', 'no'].includes(value)) return false;
    this.problem(name, '1 or 0 (or true/false, yes/no)', value);
    return fallback;
  }

  oneOf<T extends string>(name: Name, choices: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if ((choices as readonly string[]).includes(value)) return value as T;
    this.problem(name, `one of ${choices.join(', ')}`, value);
    return fallback;
  }

  logLevel(name: Name, fallback: string): string {
    return this.oneOf(name, LOG_LEVELS, fallback as (typeof LOG_LEVELS)[number]);
  }

  /** A comma-separated list; empty items are dropped. */
  list(name: Name): string[] {
    return (this.raw(name) ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  }

  /** A host name or an address to listen on: no scheme, port or path. */
  host(name: Name, fallback: string): string {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (/^[A-Za-z0-9.-]+$/.test(value) || /^[0-9A-Fa-f:.]+(%[A-Za-z0-9]+)?$/.test(value)) return value;
    this.problem(name, 'a host name or IP address to listen on (e.g. 127.0.0.1, 0.0.0.0, ::)', value);
    return fallback;
  }

  /** `postgresql://` or `postgres://`; undefined when unset. */
  postgresUrl(name: Name): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    let protocol: string | null = null;
    try {
      protocol = new URL(value).protocol;
    } catch {
      // not a URL at all
    }
    if (protocol === 'postgresql:' || protocol === 'postgres:') return value;
    const note = protocol ? `a ${protocol} URL: agentgraph runs on PostgreSQL, or on the embedded PGlite with ${name} unset` : undefined;
    this.problem(name, 'a PostgreSQL URL like postgresql://user:password@host:5432/database', redactCredentials(value), note);
    return undefined;
  }

  /** `*`, or origins exactly as browsers send them in `Origin` (scheme://host[:port], no path or trailing slash). */
  origins(name: Name): string[] {
    const origins = this.list(name);
    for (const origin of origins) {
      let exact = false;
      try {
        exact = new URL(origin).origin === origin;
      } catch {
        // not a URL
      }
      if (origin !== '*' && !exact) this.problem(name, '* or comma-separated origins like https://app.example.com (scheme://host[:port], no path)', origin);
    }
    return origins;
  }

  /** Comma-separated files that exist and can be read; absolute paths (relative ones are from `cwd`). */
  readableFiles(name: Name, cwd: string): string[] {
    const files = this.list(name).map((file) => path.resolve(cwd, file));
    for (const file of files) {
      try {
        fs.accessSync(file, fs.constants.R_OK);
        if (!fs.statSync(file).isFile()) this.problem(name, 'comma-separated files this process can read', `${file}: not a file`);
      } catch (error) {
        this.problem(name, 'comma-separated files this process can read', `${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
    }
    return files;
  }
}
