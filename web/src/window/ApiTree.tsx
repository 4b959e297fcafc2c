import { Badge, Group, Loader, NavLink, ScrollArea, Stack, Text, TextInput } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { type ApiSummary, api, describe, unwrap } from "../api/client";
import { ServiceSelect } from "../common/ServiceSelect";

interface Props {
  client: string;
  selected: number | null;
  onSelect: (api: ApiSummary) => void;
  onOpenRequest: (api: ApiSummary, requestId: number, name: string) => void;
}

/** Client APIs and System APIs, each expandable to its requests, with search and a service filter. */
export function ApiTree({ client, selected, onSelect, onOpenRequest }: Props) {
  const [search, setSearch] = useState("");
  const [serviceId, setServiceId] = useState<number | null>(null);
  const [debounced] = useDebouncedValue(search, 200);

  return (
    <Stack gap="xs" h="100%">
      <TextInput placeholder="Search APIs" aria-label="Search APIs" value={search} onChange={(e) => setSearch(e.currentTarget.value)} />
      <ServiceSelect client={client} placeholder="All services" value={serviceId} onChange={setServiceId} />
      <ScrollArea style={{ flex: 1 }}>
        {(["client", "system"] as const).map((kind) => (
          <ApiList
            key={kind}
            client={client}
            kind={kind}
            search={debounced}
            serviceId={serviceId}
            selected={selected}
            onSelect={onSelect}
            onOpenRequest={onOpenRequest}
          />
        ))}
      </ScrollArea>
    </Stack>
  );
}

function ApiList(props: Omit<Props, "client"> & { client: string; kind: "client" | "system"; search: string; serviceId: number | null }) {
  const { client, kind, search, serviceId } = props;
  const apis = useQuery({
    queryKey: [client, "apis", kind, search, serviceId],
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/clients/{client}/apis", {
          params: { path: { client }, query: { kind, search: search || undefined, service_id: serviceId ?? undefined, limit: 200 } },
        }),
      ),
  });
  const title = kind === "client" ? "Client APIs" : "System APIs";
  return (
    <section aria-label={title}>
      <Group justify="space-between" mt="sm" mb={4}>
        <Text fw={700} size="sm">
          {title}
        </Text>
        {apis.data && <Badge variant="light">{apis.data.total}</Badge>}
      </Group>
      {apis.isPending && <Loader size="xs" />}
      {apis.error && <Text c="red" size="sm">{describe(apis.error)}</Text>}
      {apis.data?.items.length === 0 && (
        <Text c="dimmed" size="sm">
          None{search ? " match" : ""}
        </Text>
      )}
      {apis.data?.items.map((item) => (
        <ApiNode key={item.id} item={item} {...props} />
      ))}
    </section>
  );
}

function ApiNode({ item, client, selected, onSelect, onOpenRequest }: Props & { item: ApiSummary }) {
  const [opened, setOpened] = useState(false);
  const requests = useQuery({
    queryKey: [client, "api", item.id, "requests"],
    enabled: opened,
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/clients/{client}/apis/{api_id}/requests", {
          params: { path: { client, api_id: item.id }, query: { limit: 200 } },
        }),
      ),
  });
  return (
    <NavLink
      label={item.name}
      description={item.base_url}
      active={selected === item.id}
      opened={opened}
      onChange={setOpened}
      onClick={() => onSelect(item)}
      childrenOffset={16}
    >
      {requests.isPending && <Loader size="xs" />}
      {requests.data?.items.map((request) => (
        <NavLink
          key={request.id}
          label={request.name}
          leftSection={<Badge size="xs" variant="outline">{request.method}</Badge>}
          onClick={() => onOpenRequest(item, request.id, request.name)}
        />
      ))}
      {requests.data?.items.length === 0 && <Text c="dimmed" size="xs" p={4}>No requests</Text>}
    </NavLink>
  );
}
