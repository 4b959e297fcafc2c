/** A designer as the editor holds it: the write body, with what each new piece starts as. */
import type { Schemas } from "../api/client";

export type DesignerRead = Schemas["DesignerRead"];
export type Draft = Schemas["DesignerWrite"];
export type DesignerPage = Schemas["Page"];
export type Component = Schemas["Component"];
export type DesignerEvent = Schemas["Event"];
export type Condition = Schemas["EventCondition"];
export type Action = Condition["actions"][number];
export type ActionKind = Action["kind"];
export type FunctionCall = Schemas["FunctionCall"];
export type Mapping = Schemas["ParameterMapping"];

/** The platform's system events, as designers/schemas.py SYSTEM_EVENTS spells them. The
 * OpenAPI document types an event's name as any text (a user event's is free), so the list
 * is kept here, typed against the event's schema. */
export const SYSTEM_EVENTS = ["Login", "Log off", "Ready", "Not Ready", "In Call", "Wrap-Up", "Disposition"] as const satisfies readonly DesignerEvent["name"][];

export const ACTION_LABELS: Record<ActionKind, string> = {
  function_call: "FUNCTION CALL",
  pop_url: "POP URL",
  page_transition: "PAGE TRANSITION",
  component_load: "COMPONENT LOAD",
};

export const COMPONENT_KINDS: readonly Component["kind"][] = ["label", "text", "text_area", "dropdown", "checkbox", "radio", "date", "button", "grid", "browser"];

/** The write body of a read: everything but the server's own fields. */
export function toDraft(read: DesignerRead): Draft {
  const { id: _id, version: _v, created_at: _c, updated_at: _u, ...write } = read;
  return { ...write, description: write.description ?? "", service_id: write.service_id ?? null };
}

/** A new action of `kind`, aimed at the designer's first page where it needs one; the
 * server names whatever is still missing when it is saved. */
export function blankAction(kind: ActionKind, onError: Action["on_error"], pages: readonly DesignerPage[]): Action {
  const page = pages[0];
  switch (kind) {
    case "function_call":
      return { kind, on_error: onError, api_id: 0, request_id: 0, parameters: [] };
    case "pop_url":
      return { kind, on_error: onError, url: "https://" };
    case "page_transition":
      return { kind, on_error: onError, page: page?.name ?? "" };
    case "component_load":
      return { kind, on_error: onError, page: page?.name ?? "", component: page?.components[0]?.name ?? "" };
  }
}

/** A new event: the first system event the designer lacks, raised on its first page. */
export function blankEvent(draft: Draft): DesignerEvent {
  const taken = new Set(draft.events.map((e) => e.name.toLowerCase()));
  const name = SYSTEM_EVENTS.find((n) => !taken.has(n.toLowerCase())) ?? "";
  return { type: "system", name, page: draft.pages[0]?.name ?? "", component: null, conditions: [] };
}

export const blankCondition = (): Condition => ({ expression: "", stop: false, actions: [] });
export const blankPage = (): DesignerPage => ({ name: "", components: [] });
export const blankComponent = (): Component => ({ name: "", kind: "text", fields: [] });
