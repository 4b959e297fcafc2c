import { CompletionContext } from "@codemirror/autocomplete";
import { EditorState } from "@codemirror/state";
import { placeholderCompletions, placeholderSpans } from "./placeholders";

describe("placeholders", () => {
  it("finds each placeholder, and one still being typed, but not an escaped one", () => {
    const text = '{"id": "${customerId}", "agent": "${loginData.agentId}", "lit": "$${not}", "x": "${par';
    expect(placeholderSpans(text).map(({ from, to }) => text.slice(from, to))).toEqual([
      "${customerId}",
      "${loginData.agentId}",
      '${par',
    ]);
  });

  it("completes parameters and context roots only inside ${", () => {
    const complete = placeholderCompletions(["customerId", "region"]);
    const at = (doc: string) => complete(new CompletionContext(EditorState.create({ doc }), doc.length, true));
    const inside = at('{"id": "${cu');
    expect(inside?.from).toBe('{"id": "${'.length);
    expect(inside?.options.map((o) => o.label)).toEqual(["customerId", "region", "loginData.", "call.", "account.", "fields.", "responses."]);
    expect(at('{"id": "cu')).toBeNull();
    expect(at('{"id": "$${cu')).toBeNull(); // an escaped `${` opens no placeholder
    expect(inside?.options[0]?.apply).toBe("customerId}");
  });
});
