import { Select, SimpleGrid, Stack } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { api, describe, unwrap } from "../api/client";
import { under } from "../common/Rows";
import type { FunctionCall } from "./draft";
import { keptFor } from "./mappings";
import { ParameterMappings } from "./ParameterMappings";

interface Props {
  client: string;
  call: FunctionCall;
  onChange: (call: FunctionCall) => void;
  /** Errors under the action: `api_id`, `parameters[0].path`... */
  errors: Record<string, string>;
  paths: readonly string[];
}

/** A FUNCTION CALL: an API of the client's library or a system API, one of its requests,
 * and where each of that request's parameters comes from. */
export function FunctionCallEditor({ client, call, onChange, errors, paths }: Props) {
  const apis = useQuery({
    queryKey: [client, "apis", "all"],
    queryFn: async () => unwrap(await api.GET("/api/v1/clients/{client}/apis", { params: { path: { client }, query: { kind: "all", limit: 200 } } })),
  });
  const requests = useQuery({
    queryKey: [client, "api", call.api_id, "requests"],
    enabled: call.api_id > 0,
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/clients/{client}/apis/{api_id}/requests", { params: { path: { client, api_id: call.api_id }, query: { limit: 200 } } })),
  });
  const items = apis.data?.items ?? [];
  const request = requests.data?.items.find((r) => r.id === call.request_id);
  const group = (system: boolean) => items.filter((a) => a.system === system).map((a) => ({ value: String(a.id), label: a.name }));

  return (
    <Stack gap="xs">
      <SimpleGrid cols={2}>
        <Select
          label="API"
          placeholder="Pick an API"
          searchable
          data={[
            { group: "Client APIs", items: group(false) },
            { group: "System APIs", items: group(true) },
          ]}
          value={call.api_id > 0 ? String(call.api_id) : null}
          error={errors.api_id ?? (apis.error ? describe(apis.error) : undefined)}
          allowDeselect={false}
          onChange={(v) => onChange({ ...call, api_id: Number(v), request_id: 0, parameters: [] })}
        />
        <Select
          label="Request"
          placeholder={call.api_id > 0 ? "Pick a request" : "Pick an API first"}
          searchable
          disabled={call.api_id <= 0}
          data={(requests.data?.items ?? []).map((r) => ({ value: String(r.id), label: `${r.method} ${r.name}` }))}
          value={call.request_id > 0 ? String(call.request_id) : null}
          error={errors.request_id ?? (requests.error ? describe(requests.error) : undefined)}
          allowDeselect={false}
          onChange={(v) => {
            const chosen = requests.data?.items.find((r) => String(r.id) === v);
            onChange({ ...call, request_id: Number(v), parameters: keptFor(call.parameters, chosen?.parameters ?? []) });
          }}
        />
      </SimpleGrid>
      {call.request_id > 0 && (
        <ParameterMappings
          parameters={request?.parameters}
          mappings={call.parameters}
          onChange={(parameters) => onChange({ ...call, parameters })}
          errors={under(errors, "parameters")}
          paths={paths}
        />
      )}
    </Stack>
  );
}
