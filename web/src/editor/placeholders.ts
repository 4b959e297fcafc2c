/** `${...}` placeholders in bodies and paths: where they are, and what may be written in one. */
import type { CompletionContext, CompletionResult } from "@codemirror/autocomplete";

/** The context roots a template may read, as the runtime names them. */
export const CONTEXT_ROOTS = ["loginData", "call", "account", "fields", "responses"] as const;

// `$${` writes a literal `${` (the runtime's escape), so a `${` after a `$` opens nothing.
const PLACEHOLDER = /(?<!\$)\$\{[^}\n]*\}?/g;

/** Each placeholder's span in `text`, an unclosed one included (it is being typed). */
export function placeholderSpans(text: string): { from: number; to: number }[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => ({ from: m.index, to: m.index + m[0].length }));
}

/** Completions inside `${`: the request's parameters, then the context roots. */
export function placeholderCompletions(parameters: readonly string[]) {
  return (context: CompletionContext): CompletionResult | null => {
    const before = context.matchBefore(/\$\{[\w.]*/);
    if (!before || context.state.sliceDoc(before.from - 1, before.from) === "$") return null;
    // A parameter closes its placeholder; a context root is followed by the path inside it.
    const closed = context.state.sliceDoc(context.pos, context.pos + 1) === "}";
    return {
      from: before.from + 2,
      options: [
        ...parameters.map((name) => ({ label: name, apply: closed ? name : `${name}}`, type: "variable", detail: "parameter" })),
        ...CONTEXT_ROOTS.map((root) => ({ label: `${root}.`, type: "namespace", detail: "context" })),
      ],
      validFor: /^[\w.]*$/,
    };
  };
}
