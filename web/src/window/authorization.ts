/** The fields of each authorization type, typed against the REST API's own schemas: a field
 * renamed or removed on the server fails the UI's type check. */
import type { Schemas } from "../api/client";

export interface SchemeInputs {
  none: Schemas["NoAuth"];
  livevox: Schemas["LiveVoxAuth-Input"];
  basic: Schemas["BasicAuth-Input"];
  bearer: Schemas["BearerAuth-Input"];
  oauth1: Schemas["OAuth1Auth-Input"];
  oauth2: Schemas["OAuth2Auth-Input"];
}

export type AuthType = keyof SchemeInputs;

export interface FieldSpec<S> {
  name: Exclude<keyof S, "type"> & string;
  label: string;
  kind: "text" | "secret" | "select" | "bool" | "multiline";
  options?: readonly string[];
  /** Shown only for these OAuth 2.0 grants. */
  grants?: readonly string[];
}

export const AUTH_LABELS: Record<AuthType, string> = {
  none: "None",
  livevox: "LiveVox",
  basic: "Basic",
  bearer: "Bearer token",
  oauth1: "OAuth 1.0a",
  oauth2: "OAuth 2.0",
};

const PLACEMENT = ["header", "query"] as const;

export const AUTH_FIELDS: { [K in AuthType]: FieldSpec<SchemeInputs[K]>[] } = {
  none: [],
  livevox: [
    { name: "client_name", label: "Client name", kind: "text" },
    { name: "user_name", label: "User name", kind: "text" },
    { name: "password", label: "Password", kind: "secret" },
    { name: "access_token", label: "Access token", kind: "secret" },
    { name: "agent", label: "Agent session", kind: "bool" },
  ],
  basic: [
    { name: "username", label: "Username", kind: "text" },
    { name: "password", label: "Password", kind: "secret" },
  ],
  bearer: [{ name: "token", label: "Token", kind: "secret" }],
  oauth1: [
    { name: "consumer_key", label: "Consumer key", kind: "text" },
    { name: "consumer_secret", label: "Consumer secret", kind: "secret" },
    { name: "token", label: "Token", kind: "secret" },
    { name: "token_secret", label: "Token secret", kind: "secret" },
    { name: "signature_method", label: "Signature method", kind: "select", options: ["HMAC-SHA1", "HMAC-SHA256", "RSA-SHA1", "PLAINTEXT"] },
    { name: "rsa_private_key", label: "RSA private key", kind: "secret" },
    { name: "realm", label: "Realm", kind: "text" },
    { name: "placement", label: "Sent in", kind: "select", options: PLACEMENT },
  ],
  oauth2: [
    { name: "grant", label: "Grant", kind: "select", options: ["client_credentials", "password", "authorization_code", "refresh_token"] },
    { name: "token_url", label: "Token URL", kind: "text" },
    { name: "authorization_url", label: "Authorization URL", kind: "text", grants: ["authorization_code"] },
    { name: "client_id", label: "Client ID", kind: "text" },
    { name: "client_secret", label: "Client secret", kind: "secret" },
    { name: "client_auth", label: "Client authentication", kind: "select", options: ["basic", "post"] },
    { name: "scope", label: "Scope", kind: "text" },
    { name: "audience", label: "Audience", kind: "text" },
    { name: "username", label: "Username", kind: "text", grants: ["password"] },
    { name: "password", label: "Password", kind: "secret", grants: ["password"] },
    { name: "refresh_token", label: "Refresh token", kind: "secret", grants: ["refresh_token", "authorization_code"] },
    { name: "pkce", label: "PKCE", kind: "bool", grants: ["authorization_code"] },
    { name: "placement", label: "Token sent in", kind: "select", options: PLACEMENT },
    { name: "header_prefix", label: "Header prefix", kind: "text" },
    { name: "query_parameter", label: "Query parameter", kind: "text" },
    { name: "expiry_signal_path", label: "Expiry signal path", kind: "text" },
    { name: "expiry_signal_value", label: "Expiry signal value", kind: "text" },
  ],
};

export type Authorization = { type: AuthType } & Record<string, unknown>;

/** The types offered for a base URL: LiveVox only while it names livevox. */
export function offeredTypes(baseUrl: string, current: AuthType): AuthType[] {
  const livevox = baseUrl.toLowerCase().includes("livevox");
  return (Object.keys(AUTH_LABELS) as AuthType[]).filter((t) => t !== "livevox" || livevox || current === "livevox");
}

/** What a save sends: the type's own input fields, without what only a read carries (has_*). */
export function authorizationInput(read: Record<string, unknown> | null | undefined): Authorization {
  const type = ((read?.type as AuthType | undefined) ?? "none") satisfies AuthType;
  const kept: Authorization = { type };
  for (const field of AUTH_FIELDS[type] as FieldSpec<unknown>[]) {
    if (read && field.name in read) kept[field.name] = read[field.name];
  }
  return kept;
}
