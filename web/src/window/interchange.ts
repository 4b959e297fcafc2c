/** Import and export as the API window does them: what a file or pasted text is sent as,
 * what a report says in one line, and which formats an API is exported in. */
import type { Schemas } from "../api/client";
import type { paths } from "../api/schema";
import { ProblemError, describe } from "../api/client";

export type ImportReport = Schemas["ImportReport"];
export type Clash = "fail" | "skip" | "rename";
type ExportQuery = NonNullable<paths["/api/v1/clients/{client}/apis/{api_id}/export"]["get"]["parameters"]["query"]>;
export type ExportFormat = NonNullable<ExportQuery["format"]>;

/** What the file picker offers: the files an import reads. */
export const IMPORTED_FILES = ".yaml,.yml,.json,.zip,.txt,.sh";

/** The formats GET .../export writes, as the server's OpenAPI document lists them (read by
 * vite.config.ts at build), so a format the server adds shows without a change here. */
export const EXPORT_FORMATS = __EXPORT_FORMATS__ as readonly ExportFormat[];

const FORMAT_LABELS: Record<string, string> = { callout: "Callout YAML", curl: "cURL", postman: "Postman collection" };

export const formatLabel = (format: string): string => FORMAT_LABELS[format] ?? format;

const MEDIA_TYPES: Record<string, string> = { zip: "application/zip", json: "application/json", yaml: "application/yaml", yml: "application/yaml" };

export interface Upload {
  name: string;
  contentType: string;
  body: Blob | string;
}

/** The import's body: the file as it is, typed by its extension (a zip must say so, the
 * server recognises the rest by their shape), or pasted text as plain text. */
export function uploadOf(source: { file: File } | { text: string }): Upload {
  if ("text" in source) return { name: "pasted text", contentType: "text/plain", body: source.text };
  const extension = source.file.name.toLowerCase().split(".").pop() ?? "";
  return { name: source.file.name, contentType: MEDIA_TYPES[extension] ?? "text/plain", body: source.file };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** The report in one line: what was (or, on a check, would be) written. */
export function reportSummary(report: ImportReport): string {
  const written = report.apis.filter((a) => a.action !== "skipped");
  const requests = written.reduce((sum, a) => sum + a.requests, 0);
  const actions = (["created", "renamed", "skipped"] as const)
    .map((action) => [action, report.apis.filter((a) => a.action === action).length] as const)
    .filter(([, n]) => n > 0)
    .map(([action, n]) => `${n} ${action}`);
  const secrets = written.reduce((sum, a) => sum + a.missing_secrets.length, 0);
  const what = `${plural(written.length, "API")} with ${plural(requests, "request")}`;
  const head = report.dry_run ? `Would import ${what}` : `Imported ${what}`;
  return [`${head} (${actions.join(", ") || "none"})`, secrets > 0 && plural(secrets, "secret") + " to enter", report.dry_run && "nothing written yet"]
    .filter(Boolean)
    .join("; ");
}

/** Why an import was refused, a line for each place the server named (`file: path: message`). */
export function problemLines(error: unknown): string[] {
  const errors = error instanceof ProblemError ? (error.problem.errors ?? []) : [];
  return errors.length > 0 ? errors.map((e) => `${e.field}: ${e.message}`) : [describe(error)];
}

/** The file name a download is saved under, from the server's Content-Disposition. */
export function filenameOf(disposition: string | null, fallback: string): string {
  const encoded = disposition?.match(/filename\*=UTF-8''([^;]+)/i);
  if (encoded?.[1]) return decodeURIComponent(encoded[1]);
  const plain = disposition?.match(/filename="([^"]*)"|filename=([^;]+)/i);
  return plain?.[1] ?? plain?.[2]?.trim() ?? fallback;
}

/** Saves what an export answered as a file, named as the server named it. */
export function saveDownload(blob: Blob, response: Response, fallback: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filenameOf(response.headers.get("Content-Disposition"), fallback);
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
