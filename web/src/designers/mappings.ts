/** A FUNCTION CALL's parameter mappings: each request parameter takes its value from a
 * context path (`call.ani`, `responses.Find customer.customerId`) or a literal, or is left
 * unmapped (its default, or the server's refusal when it is required). */
import type { Schemas } from "../api/client";
import { typed } from "../window/values";
import type { Mapping } from "./draft";

export type Parameter = Schemas["RequestParameter"];
export type Source = "none" | "path" | "value";

/** Where a mapping takes its value, as the server reads it: a path when one is given. */
export function sourceOf(mapping: Mapping | undefined): Source {
  if (!mapping) return "none";
  return mapping.path != null ? "path" : "value";
}

/** The mappings with `name` switched to `source`: a path starts empty (or from the literal
 * when it was text), a literal starts empty; "none" drops the mapping. Order is kept. */
export function withSource(mappings: readonly Mapping[], name: string, source: Source): Mapping[] {
  const index = mappings.findIndex((m) => m.name === name);
  if (source === "none") return mappings.filter((m) => m.name !== name);
  const old = mappings[index];
  if (sourceOf(old) === source) return [...mappings];
  const next: Mapping = source === "path" ? { name, path: typeof old?.value === "string" ? old.value : "", value: null } : { name, path: null, value: "" };
  return index < 0 ? [...mappings, next] : mappings.map((m, i) => (i === index ? next : m));
}

/** The mappings with `name`'s mapping changed by `patch`. */
export function withMapping(mappings: readonly Mapping[], name: string, patch: Partial<Mapping>): Mapping[] {
  return mappings.map((m) => (m.name === name ? { ...m, ...patch } : m));
}

/** The mappings kept when the call moves to another request: those it declares too. */
export function keptFor(mappings: readonly Mapping[], parameters: readonly Parameter[]): Mapping[] {
  const declared = new Set(parameters.map((p) => p.name));
  return mappings.filter((m) => declared.has(m.name));
}

/** A literal as typed, read as the parameter's type (`42`, `true`, JSON for an object; text
 * that does not read as one is sent as typed, for the server to name); empty is "". */
export function literalOf(type: Parameter["type"], text: string): unknown {
  return text === "" ? "" : typed(type, text);
}

/** A stored literal as text to edit. */
export function textOf(value: unknown): string {
  if (value == null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}
