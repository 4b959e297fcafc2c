import { type DesignerRead, type Draft, blankAction, blankEvent, toDraft } from "./draft";

const DRAFT: Draft = {
  name: "Agent desktop",
  description: "",
  service_id: null,
  pages: [{ name: "Home", components: [{ name: "Agent", kind: "label", fields: [] }] }],
  events: [{ type: "system", name: "Login", page: "Home", component: null, conditions: [] }],
};

describe("designer drafts", () => {
  it("writes back a read without the server's own fields", () => {
    const read: DesignerRead = { ...DRAFT, id: 1, version: 3, created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-02T00:00:00Z" };
    expect(toDraft(read)).toEqual(DRAFT);
  });

  it("starts a new event as the first system event the designer lacks, on its first page", () => {
    expect(blankEvent(DRAFT)).toEqual({ type: "system", name: "Log off", page: "Home", component: null, conditions: [] });
  });

  it("aims a new action at the first page and component, keeping what a failure does", () => {
    expect(blankAction("component_load", "continue", DRAFT.pages)).toEqual({ kind: "component_load", on_error: "continue", page: "Home", component: "Agent" });
    expect(blankAction("function_call", "stop", [])).toEqual({ kind: "function_call", on_error: "stop", api_id: 0, request_id: 0, parameters: [] });
  });
});
