/** The agent desktop as the preview plays it: what a fire's effects do to it, in order. */
import type { Schemas } from "../api/client";

export type FireResult = Schemas["FireResult"];
export type Effect = FireResult["effects"][number];

export interface Desktop {
  /** Data fields, kept from fire to fire as the desktop keeps them. */
  fields: Record<string, unknown>;
  /** The page shown: null until an event shows one. */
  page: string | null;
  loaded: { page: string; component: string } | null;
  /** The last fire's alerts and popped URLs: each shows once. */
  alerts: string[];
  popped: string[];
}

export const NEW_DESKTOP: Desktop = { fields: {}, page: null, loaded: null, alerts: [], popped: [] };

/** The desktop after one fire's effects, applied in the order the server listed them. */
export function applied(desktop: Desktop, effects: readonly Effect[]): Desktop {
  const next: Desktop = { ...desktop, fields: { ...desktop.fields }, alerts: [], popped: [] };
  for (const effect of effects) {
    switch (effect.kind) {
      case "set_field":
        next.fields[effect.field] = effect.value;
        break;
      case "alert":
        next.alerts.push(effect.message);
        break;
      case "pop_url":
        next.popped.push(effect.url);
        break;
      case "show_page":
        next.page = effect.page;
        break;
      case "load_component":
        next.loaded = { page: effect.page, component: effect.component };
        break;
    }
  }
  return next;
}
