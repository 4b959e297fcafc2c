import { curlOf, shellQuote, typed } from "./values";

describe("values", () => {
  it("reads text as the declared type, and leaves what does not read as one for the server", () => {
    expect(typed("number", "42")).toBe(42);
    expect(typed("number", "4x")).toBe("4x");
    expect(typed("boolean", "false")).toBe(false);
    expect(typed("object", '{"a": 1}')).toEqual({ a: 1 });
    expect(typed("string", "")).toBeUndefined();
    expect(typed("string", "007")).toBe("007");
  });

  it("quotes for a POSIX shell, a single quote included", () => {
    expect(shellQuote("https://x.example/a?b=1")).toBe("'https://x.example/a?b=1'");
    expect(shellQuote("it's $HOME")).toBe("'it'\\''s $HOME'");
  });

  it("writes the rendered request as a cURL line", () => {
    const line = curlOf({
      method: "POST",
      url: "https://crm.example.com/customers/7",
      headers: [
        { name: "Authorization", value: "Bearer **********" },
        { name: "Content-Type", value: "application/json" },
      ],
      body: '{"note": "it\'s"}',
    });
    expect(line).toBe(
      "curl -X POST https://crm.example.com/customers/7 -H 'Authorization: Bearer **********' -H 'Content-Type: application/json' --data-raw '{\"note\": \"it'\\''s\"}'",
    );
  });
});
