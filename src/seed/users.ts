/**
 * Creating a user together with its first API key: shared by the seeder (which writes the rows in bulk) and
 * the operator CLI (which writes them through Prisma). The key itself is returned once and never stored.
 */
import { generateApiKeySecret } from '../modules/auth/api-key-secret.js';
import { Prisma, type PrismaClient } from '../generated/prisma/client.js';
import { ApiKeyPermission } from '../generated/prisma/enums.js';

/** Every permission except ADMIN: what a normal user's key gets. */
export const USER_PERMISSIONS: readonly ApiKeyPermission[] = [
  ApiKeyPermission.READ_GRAPHS,
  ApiKeyPermission.WRITE_GRAPHS,
  ApiKeyPermission.EXECUTE_GRAPHS,
  ApiKeyPermission.READ_SESSIONS,
  ApiKeyPermission.WRITE_SESSIONS,
];
export const ADMIN_PERMISSIONS: readonly ApiKeyPermission[] = [ApiKeyPermission.ADMIN, ...USER_PERMISSIONS];

export function permissionsFor(admin: boolean): ApiKeyPermission[] {
  return [...(admin ? ADMIN_PERMISSIONS : USER_PERMISSIONS)];
}

export class InvalidEmailError extends Error {
  constructor(email: string) {
    super(`not a valid email address: ${JSON.stringify(email)}`);
    this.name = 'InvalidEmailError';
  }
}

export class UserExistsError extends Error {
  constructor(readonly email: string) {
    super(`a user with email ${email} already exists`);
    this.name = 'UserExistsError';
  }
}

// Deliberately simple: one @, no spaces, a dot in the domain, sane length.
const EMAIL_PATTERN = /^[^\s@"<>(),;:\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

/** Trims and lower-cases an email; throws InvalidEmailError when it does not look like an address. */
export function normalizeEmail(email: string): string {
  const normalized = email.trim().toLowerCase();
  if (normalized.length > 254 || !EMAIL_PATTERN.test(normalized)) throw new InvalidEmailError(email);
  return normalized;
}

export type NewUserInput = {
  email: string;
  name?: string | null;
  admin?: boolean;
  /** Name of the API key; defaults to "Default key". */
  keyName?: string;
};

/** The key material and permissions of a new user's first key (the key comes from the CSPRNG). */
export type PreparedUser = {
  email: string;
  name: string | null;
  permissions: ApiKeyPermission[];
  keyName: string;
  key: string;
  prefix: string;
  secretHash: string;
};

/** Validates the input and makes the first API key; writes nothing. */
export function prepareUser(input: NewUserInput): PreparedUser {
  const email = normalizeEmail(input.email);
  const secret = generateApiKeySecret();
  return {
    email,
    name: input.name?.trim() || null,
    permissions: permissionsFor(input.admin ?? false),
    keyName: input.keyName ?? 'Default key',
    key: secret.key,
    prefix: secret.prefix,
    secretHash: secret.secretHash,
  };
}

export type CreatedUser = { userId: string; email: string; apiKey: string; permissions: ApiKeyPermission[] };

/** Creates a user and its first API key in one transaction; UserExistsError when the email is taken. */
export async function createUserWithApiKey(prisma: PrismaClient, input: NewUserInput): Promise<CreatedUser> {
  const prepared = prepareUser(input);
  const existing = await prisma.user.findUnique({ where: { email: prepared.email }, select: { id: true } });
  if (existing) throw new UserExistsError(prepared.email);
  try {
    const user = await prisma.user.create({
      data: {
        email: prepared.email,
        name: prepared.name,
        apiKeys: {
          create: { name: prepared.keyName, prefix: prepared.prefix, secretHash: prepared.secretHash, permissions: prepared.permissions },
        },
      },
      select: { id: true },
    });
    return { userId: user.id, email: prepared.email, apiKey: prepared.key, permissions: prepared.permissions };
  } catch (error) {
    // A concurrent creation of the same email loses on the unique index.
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') throw new UserExistsError(prepared.email);
    throw error;
  }
}
