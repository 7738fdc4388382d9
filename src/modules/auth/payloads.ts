export type ApiKeyPayloadRef = { apiKeyId: string };
export type CreateApiKeyPayloadRef = { apiKeyId: string; secret: string };
