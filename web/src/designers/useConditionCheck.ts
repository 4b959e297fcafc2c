import { useDebouncedValue } from "@mantine/hooks";
import { useQuery } from "@tanstack/react-query";
import { ProblemError, api, describe, unwrap } from "../api/client";

export type Verdict = { valid: true } | { valid: false; message: string };

/** The server's verdict on a condition as it is typed, asked ~300 ms after the typing stops:
 * the same parser and context rule a save uses, so the two never disagree. Asked only once
 * the text was edited here (a stored condition was judged when it was saved). */
export function useConditionCheck(client: string, expression: string, edited: boolean): Verdict | null {
  const [settled] = useDebouncedValue(expression, 300);
  const check = useQuery({
    queryKey: [client, "condition-check", settled],
    enabled: edited,
    // The verdict depends on the text alone.
    staleTime: Infinity,
    queryFn: async () => unwrap(await api.POST("/api/v1/clients/{client}/designers/conditions/check", { params: { path: { client } }, body: { expression: settled } })),
  });
  if (!edited || settled !== expression) return null;
  if (check.error) {
    const message = check.error instanceof ProblemError ? (check.error.fields.expression ?? describe(check.error)) : describe(check.error);
    return { valid: false, message };
  }
  const verdict = check.data;
  if (!verdict) return null;
  if (verdict.valid) return { valid: true };
  const where = verdict.line != null && verdict.column != null ? ` (line ${verdict.line}, column ${verdict.column})` : "";
  return { valid: false, message: `${verdict.message ?? "not valid"}${where}` };
}
