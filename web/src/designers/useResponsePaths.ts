import { useQueries } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import type { Action, FunctionCall } from "./draft";

/** `responses.<request>.<output>` for each output of the FUNCTION CALLs before an action: what
 * a later call can map a parameter from (one request's response feeding another's). */
export function useResponsePaths(client: string, earlier: readonly Action[]): string[] {
  const calls = earlier.filter((a): a is FunctionCall => a.kind === "function_call" && a.api_id > 0);
  const lists = useQueries({
    queries: calls.map((call) => ({
      // The same key as the FUNCTION CALL's own request list: read once, shared.
      queryKey: [client, "api", call.api_id, "requests"],
      queryFn: async () =>
        unwrap(await api.GET("/api/v1/clients/{client}/apis/{api_id}/requests", { params: { path: { client, api_id: call.api_id }, query: { limit: 200 } } })),
    })),
  });
  return calls.flatMap((call, i) => {
    const request = lists[i]?.data?.items.find((r) => r.id === call.request_id);
    return request ? (request.outputs ?? []).map((o) => `responses.${request.name}.${o.name}`) : [];
  });
}
