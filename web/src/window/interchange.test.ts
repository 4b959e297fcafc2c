import { ProblemError } from "../api/client";
import { EXPORT_FORMATS, type ImportReport, filenameOf, formatLabel, problemLines, reportSummary, uploadOf } from "./interchange";

const api = (action: "created" | "renamed" | "skipped", requests: number, missing_secrets: string[] = []) => ({
  source: "petstore.yaml",
  name: "Petstore",
  action,
  id: null,
  requests,
  missing_secrets,
});

describe("interchange", () => {
  it("sends a file typed by its extension, and pasted text as plain text", () => {
    const zip = uploadOf({ file: new File(["PK"], "Library.ZIP") });
    expect([zip.name, zip.contentType]).toEqual(["Library.ZIP", "application/zip"]);
    expect(uploadOf({ file: new File(["a: 1"], "crm.yml") }).contentType).toBe("application/yaml");
    expect(uploadOf({ file: new File(["{}"], "postman.json") }).contentType).toBe("application/json");
    expect(uploadOf({ file: new File(["curl x"], "call.sh") }).contentType).toBe("text/plain");
    expect(uploadOf({ text: "curl https://x.example" })).toEqual({ name: "pasted text", contentType: "text/plain", body: "curl https://x.example" });
  });

  it("says in one line what a check would write and what an import wrote", () => {
    const report: ImportReport = { dry_run: true, formats: ["openapi"], apis: [api("created", 4, ["authorization.token"]), api("skipped", 2)], services_created: [], notes: [] };
    expect(reportSummary(report)).toBe("Would import 1 API with 4 requests (1 created, 1 skipped); 1 secret to enter; nothing written yet");
    const written = { ...report, dry_run: false, apis: [api("renamed", 1), api("created", 2, ["a", "b"])] };
    expect(reportSummary(written)).toBe("Imported 2 APIs with 3 requests (1 created, 1 renamed); 2 secrets to enter");
  });

  it("names each place a refusal points at", () => {
    const refused = new ProblemError(422, {
      type: "/problems/invalid",
      title: "Invalid",
      status: 422,
      detail: "",
      errors: [
        { field: "bad.yaml: requests[1].method", message: "Input should be 'GET'" },
        { field: "bad.yaml: requests[2].method", message: "Input should be 'GET'" },
      ],
    } as never);
    expect(problemLines(refused)).toEqual(["bad.yaml: requests[1].method: Input should be 'GET'", "bad.yaml: requests[2].method: Input should be 'GET'"]);
    expect(problemLines(new Error("Failed to fetch"))).toEqual(["Failed to fetch"]);
  });

  it("saves a download under the name the server gave", () => {
    expect(filenameOf('attachment; filename="Customer-CRM.yaml"', "api")).toBe("Customer-CRM.yaml");
    expect(filenameOf("attachment; filename*=UTF-8''Caf%C3%A9.sh", "api")).toBe("Café.sh");
    expect(filenameOf(null, "api.yaml")).toBe("api.yaml");
  });

  it("offers the export formats of the server's OpenAPI document", () => {
    expect(EXPORT_FORMATS).toContain("callout");
    expect(EXPORT_FORMATS).toContain("curl");
    expect(formatLabel("callout")).toBe("Callout YAML");
    expect(formatLabel("har")).toBe("har");
  });
});
