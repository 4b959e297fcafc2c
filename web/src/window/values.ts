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

/** A shell-quoted word: single quotes, with each ' written as '\''. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/** The request as a cURL command line, from what the server rendered (secrets masked there). */
export function curlOf(request: { method: string; url: string; headers: { name: string; value: string }[]; body?: string | null }): string {
  const words = ["curl", "-X", request.method, shellQuote(request.url)];
  for (const header of request.headers) words.push("-H", shellQuote(`${header.name}: ${header.value}`));
  if (request.body) words.push("--data-raw", shellQuote(request.body));
  return words.join(" ");
}
