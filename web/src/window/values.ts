/** Values typed into text boxes, read as the request parameter's declared type. */
export type ValueType = "string" | "number" | "boolean" | "object";

/** Empty is no value; a number, boolean or object is read from its text, and text that
 * does not read as one is sent as typed, so the server names what is wrong with it. */
export function typed(type: ValueType | undefined, text: unknown): unknown {
  if (typeof text !== "string") return text;
  if (text === "") return undefined;
  if (type === "number" && text.trim() !== "" && !Number.isNaN(Number(text))) return Number(text);
  if (type === "boolean" && (text === "true" || text === "false")) return text === "true";
  if (type === "object") {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}
