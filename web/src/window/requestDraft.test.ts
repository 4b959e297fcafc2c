import type { RequestRead } from "../api/client";
import { toDraft, toWrite } from "./requestDraft";

const read = {
  id: 4,
  api_id: 2,
  url: "https://crm.example.com/customers",
  version: 3,
  created_at: "2026-12-03T10:00:00Z",
  updated_at: "2026-12-03T10:00:00Z",
  name: "Find customer",
  method: "POST",
  content_type: "json",
  body: '{"phone": "${phone}"}',
  form: [{ name: "a", value: "1", enabled: true }],
  parameters: [{ name: "limit", type: "number", default: "25" }],
  samples: [{ name: "found", status: "200", headers: [], body: "{}" }],
} as unknown as RequestRead;

describe("a request's save", () => {
  it("leaves out what only a read carries", () => {
    expect(Object.keys(toDraft(read))).not.toContain("url");
    expect(Object.keys(toDraft(read))).not.toContain("version");
  });

  it("sends no body and no form fields once the content type uses none (back to No body)", () => {
    const sent = toWrite({ ...toDraft(read), content_type: "none" });
    expect(sent.body).toBeNull();
    expect(sent.form).toEqual([]);
  });

  it("keeps the body for a body type and the form for a form type", () => {
    expect(toWrite(toDraft(read)).body).toBe('{"phone": "${phone}"}');
    expect(toWrite({ ...toDraft(read), content_type: "form" }).form).toHaveLength(1);
  });

  it("types defaults as their parameter and sample statuses as numbers", () => {
    const sent = toWrite(toDraft(read));
    expect(sent.parameters?.[0]?.default).toBe(25);
    expect(sent.samples?.[0]?.status).toBe(200);
  });
});
