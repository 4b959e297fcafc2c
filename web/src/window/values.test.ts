import { typed } from "./values";

describe("values", () => {
  it("reads text as the declared type, and leaves what does not read as one for the server", () => {
    expect(typed("number", "42")).toBe(42);
    expect(typed("number", "4x")).toBe("4x");
    expect(typed("boolean", "false")).toBe(false);
    expect(typed("object", '{"a": 1}')).toEqual({ a: 1 });
    expect(typed("string", "")).toBeUndefined();
    expect(typed("string", "007")).toBe("007");
  });
});
