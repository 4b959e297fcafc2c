import type { Mapping } from "./draft";
import { type Parameter, keptFor, literalOf, sourceOf, textOf, withSource } from "./mappings";

const parameter = (name: string, type: Parameter["type"] = "string"): Parameter => ({ name, type, required: false, description: "", secret: false });

describe("parameter mappings", () => {
  it("reads a mapping's source as the server does: a path when one is given", () => {
    expect(sourceOf(undefined)).toBe("none");
    expect(sourceOf({ name: "id", path: "call.id", value: null })).toBe("path");
    expect(sourceOf({ name: "id", path: null, value: null })).toBe("value");
  });

  it("switches a parameter between a path, a literal and no mapping, keeping the others in order", () => {
    const mappings: Mapping[] = [
      { name: "a", path: "call.ani", value: null },
      { name: "b", path: null, value: 3 },
    ];
    const literal = withSource(mappings, "a", "value");
    expect(literal).toEqual([
      { name: "a", path: null, value: "" },
      { name: "b", path: null, value: 3 },
    ]);
    expect(withSource(literal, "b", "path")[1]).toEqual({ name: "b", path: "", value: null });
    expect(withSource(mappings, "c", "path")).toEqual([...mappings, { name: "c", path: "", value: null }]);
    expect(withSource(mappings, "a", "none")).toEqual([mappings[1]]);
    expect(withSource(mappings, "a", "path")).toEqual(mappings);
  });

  it("keeps the mappings the next request declares too", () => {
    const mappings: Mapping[] = [
      { name: "phone", path: "call.ani", value: null },
      { name: "gone", path: "call.id", value: null },
    ];
    expect(keptFor(mappings, [parameter("phone"), parameter("other")])).toEqual([mappings[0]]);
  });

  it("reads a literal as its parameter's type, and text that is not one as typed", () => {
    expect(literalOf("number", "42")).toBe(42);
    expect(literalOf("number", "forty")).toBe("forty");
    expect(literalOf("boolean", "true")).toBe(true);
    expect(literalOf("object", '{"a": [1]}')).toEqual({ a: [1] });
    expect(literalOf("string", "42")).toBe("42");
    expect(literalOf("number", "")).toBe("");
    expect(textOf({ a: 1 })).toBe('{"a":1}');
    expect(textOf(null)).toBe("");
  });
});
