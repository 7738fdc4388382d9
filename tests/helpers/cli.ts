import { spawn } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../src/config.js';

export type CliResult = { code: number | null; stdout: string; stderr: string };

/** Runs `npm run cli -- <args>` (src/cli/operator.ts) as a real process with `env`, and collects what it printed. */
export function runOperatorCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return runCliScript('operator.ts', args, env);
}

/** Runs one of src/cli's scripts as a real process on the database at `databaseUrl`. */
export function runCliOn(databaseUrl: string, script: string, args: string[]): Promise<CliResult> {
  return runCliScript(script, args, { ...process.env, DATABASE_URL: databaseUrl });
}

/** Runs one of src/cli's scripts as a real process with exactly `env`, and collects what it printed. */
export function runCliScript(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', path.join('src', 'cli', script), ...args], { cwd: projectRoot, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
