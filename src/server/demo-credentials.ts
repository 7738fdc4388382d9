import fs from 'node:fs';

/**
 * The embedded demo keeps its demo API key next to the PGlite data directory (mode 0600), so that the
 * playground can open with it filled in on every boot. Only the demo does this: real keys are never stored.
 */
export type DemoCredentials = { email: string; key: string };

export const demoCredentialsFile = (dataDir: string) => `${dataDir.replace(/\/+$/, '')}.demo-credentials.json`;

export function readDemoCredentials(dataDir: string): DemoCredentials | null {
  try {
    return JSON.parse(fs.readFileSync(demoCredentialsFile(dataDir), 'utf8')) as DemoCredentials;
  } catch {
    return null;
  }
}

export function writeDemoCredentials(dataDir: string, credentials: DemoCredentials): void {
  if (dataDir.startsWith('memory://')) return;
  fs.writeFileSync(demoCredentialsFile(dataDir), JSON.stringify(credentials, null, 2), { mode: 0o600 });
}
