import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys look like `agk_<8 lookup chars>_<43 secret chars>`. The lookup part is stored in clear (indexed)
 * so a key is found with one read; only a SHA-256 of the whole key is stored. A slow password hash is not
 * needed: the secret has 256 bits of entropy, so it cannot be guessed from its hash.
 */
const KEY_PREFIX = 'agk_';
const LOOKUP_LENGTH = 8;
const KEY_PATTERN = /^agk_([A-Za-z0-9]{8})_([A-Za-z0-9_-]{43})$/;

export type NewApiKeySecret = {
  /** The whole key, shown to its owner once and never stored. */
  key: string;
  /** `agk_xxxxxxxx`: stored and shown in listings so a key can be recognized. */
  prefix: string;
  secretHash: string;
};

const LOOKUP_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `random` lets the seeder make reproducible keys; real keys always come from the CSPRNG. */
export function generateApiKeySecret(random: (size: number) => Buffer = randomBytes): NewApiKeySecret {
  const lookup = Array.from(random(LOOKUP_LENGTH), (byte) => LOOKUP_ALPHABET[byte % LOOKUP_ALPHABET.length]).join('');
  const secret = random(32).toString('base64url');
  const prefix = `${KEY_PREFIX}${lookup}`;
  const key = `${prefix}_${secret}`;
  return { key, prefix, secretHash: hashApiKey(key) };
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** The stored prefix of a well-formed key, or null when the string cannot be one of our keys. */
export function apiKeyPrefix(key: string): string | null {
  const match = KEY_PATTERN.exec(key);
  return match ? `${KEY_PREFIX}${match[1]}` : null;
}

export function apiKeyMatchesHash(key: string, secretHash: string): boolean {
  const actual = Buffer.from(hashApiKey(key), 'hex');
  const expected = Buffer.from(secretHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
