/** A request as its tab edits it, and what a save sends. */
import type { RequestRead, RequestWrite } from "../api/client";
import { type ValueType, typed } from "./values";

export type Draft = RequestWrite;

export const BODY_TYPES = ["json", "xml", "text"];
export const FORM_TYPES = ["form", "multipart"];

export function toDraft(read: RequestRead): Draft {
  const { id: _id, api_id: _api, url: _url, version: _v, created_at: _c, updated_at: _u, ...write } = read;
  return { ...write, headers: (read.headers ?? []).map(({ name, value, enabled, secret }) => ({ name, value: value ?? "", enabled, secret })) };
}

/** What a save sends: the body or the form fields only when the content type uses them (a
 * body kept from before "No body" was chosen would be refused), defaults typed as their
 * parameter or output says, sample statuses as numbers. */
export function toWrite(draft: Draft): RequestWrite {
  const content = draft.content_type ?? "none";
  return {
    ...draft,
    body: BODY_TYPES.includes(content) ? draft.body : null,
    form: FORM_TYPES.includes(content) ? draft.form : [],
    samples: (draft.samples ?? []).map((s) => ({ ...s, status: Number(s.status) })),
    parameters: (draft.parameters ?? []).map((p) => ({ ...p, default: typed(p.type as ValueType, p.default) })),
    outputs: (draft.outputs ?? []).map((o) => ({ ...o, default: typed(o.type as ValueType, o.default) })),
  };
}

