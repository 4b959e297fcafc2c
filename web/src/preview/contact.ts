/** The contact the preview fires events for: loginData, call and account as name/value rows. */
import type { Schemas } from "../api/client";
import type { Row } from "../common/Rows";

export type Context = Schemas["Context"];

export interface Contact {
  loginData: Row[];
  call: Row[];
  account: Row[];
}

const row = (name: string, value: string): Row => ({ name, value, enabled: true });

/** A contact to start from, with the keys a desktop usually knows. */
export const NEW_CONTACT: Contact = {
  loginData: [row("agentId", "agent-17"), row("agentName", "Ada Agent")],
  call: [row("ani", "+15550100"), row("id", "CALL-9"), row("disposition", "Sale")],
  account: [row("id", ""), row("balance", "")],
};

/** A value as typed: JSON when it reads as JSON (42, true, null, {"a": 1}, "quoted"), so a
 * condition compares numbers as numbers; any other text as it is (+15550100, CALL-9). */
export function contextValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function object(rows: readonly Row[]): Record<string, unknown> {
  const named = rows.filter((r) => (r.enabled ?? true) && r.name.trim() !== "");
  return Object.fromEntries(named.map((r) => [r.name.trim(), contextValue(r.value ?? "")]));
}

/** The fire's context: the contact's rows, and the data fields the desktop holds so far. */
export function contextOf(contact: Contact, fields: Record<string, unknown>): Context {
  return { loginData: object(contact.loginData), call: object(contact.call), account: object(contact.account), fields };
}
