import { Alert, Badge, Button, Checkbox, Group, Select, SimpleGrid, Stack, Table, Text, TextInput, Textarea, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { type ApiRead, type ApiWrite, api, describe, unwrap, withETag } from "../api/client";
import { Rows, under } from "../common/Rows";
import { SaveProblems } from "../common/SaveProblems";
import { SecretInput } from "../common/SecretInput";
import { ServiceSelect } from "../common/ServiceSelect";
import { AUTH_FIELDS, AUTH_LABELS, type AuthType, type Authorization, type FieldSpec, authorizationInput, offeredTypes } from "./authorization";
import { ExportMenu } from "./ExportMenu";
import { TabActions } from "./TabActions";
import { useEditor } from "./useEditor";
import { useTab } from "./useTab";

type Draft = Omit<ApiWrite, "authorization"> & { authorization: Authorization };

export interface TabProps {
  client: string;
  apiId: number;
  onDirty: (dirty: boolean) => void;
  onTitle: (title: string) => void;
  registerSave: (save: (() => Promise<unknown>) | null) => void;
  onDeleted: () => void;
}

function toDraft(read: ApiRead): Draft {
  return {
    name: read.name,
    description: read.description ?? "",
    base_url: read.base_url,
    type: read.type ?? "api",
    service_id: read.service_id ?? null,
    headers: (read.headers ?? []).map(({ name, value, enabled, secret }) => ({ name, value: value ?? "", enabled, secret })),
    authorization: authorizationInput(read.authorization as Record<string, unknown>),
  };
}

/** An API as its tab and its requests' tabs read it, with the ETag a save sends back. */
export async function loadApi(client: string, apiId: number) {
  return withETag(await api.GET("/api/v1/clients/{client}/apis/{api_id}", { params: { path: { client, api_id: apiId } } }));
}

/** An API's tab: its fields, headers and authorization; read-only for a system API. */
export function ApiTab({ client, apiId, onDirty, onTitle, registerSave, onDeleted, onCopy }: TabProps & { onCopy: () => void }) {
  const path = { client, api_id: apiId };
  const editor = useEditor<ApiRead, Draft>({
    queryKey: [client, "api", apiId],
    load: () => loadApi(client, apiId),
    toDraft,
    save: async (draft, etag) =>
      withETag(
        await api.PUT("/api/v1/clients/{client}/apis/{api_id}", {
          params: { path, header: { "if-match": etag } },
          body: draft as ApiWrite,
        }),
      ),
    onDirty,
  });
  const { stored, draft, setDraft, errors } = editor;
  const read = stored.data?.body;
  const system = read?.system ?? false;
  const queries = useQueryClient();

  const { save, deleteIt } = useTab(editor, { onDirty, onTitle, registerSave, onDeleted }, {
    what: "API",
    readOnly: system,
    saved: () => void queries.invalidateQueries({ queryKey: [client, "apis"] }),
    remove: async () => unwrap(await api.DELETE("/api/v1/clients/{client}/apis/{api_id}", { params: { path, header: { "if-match": editor.etag.current } } })),
  });

  if (stored.error) return <Alert color="red">{describe(stored.error)}</Alert>;
  if (!draft || !read) return <Text c="dimmed">Loading…</Text>;
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));
  const auth = draft.authorization;

  return (
    <Stack>
      <Group justify="space-between">
        <Group>
          <Title order={3}>{read.name}</Title>
          {system && <Badge color="gray">System API: read-only</Badge>}
          {editor.dirty && <Badge color="orange">unsaved</Badge>}
        </Group>
        <Group>
          <Button variant="light" onClick={onCopy}>
            Copy
          </Button>
          <ExportMenu client={client} apiId={apiId} />
          {!system && (
            <TabActions
              what={`the API “${read.name}”`}
              consequence="Its requests go with it. A designer that calls it keeps the API from being deleted."
              onDelete={deleteIt}
              onSave={save}
              saving={editor.saving}
              dirty={editor.dirty}
            />
          )}
        </Group>
      </Group>
      <SaveProblems what="API" stale={editor.stale} failure={editor.failure} onReload={editor.reload} onDismiss={() => editor.setFailure(null)} />
      <fieldset disabled={system} style={{ border: 0, padding: 0, margin: 0 }}>
        <Stack>
          <SimpleGrid cols={2}>
            <TextInput label="Name" required value={draft.name} error={errors.name} onChange={(e) => set("name", e.currentTarget.value)} />
            <TextInput label="Base URL" required value={draft.base_url} error={errors.base_url} onChange={(e) => set("base_url", e.currentTarget.value)} />
            <Select
              label="Type"
              data={[
                { value: "api", label: "API" },
                { value: "slack", label: "Slack" },
                { value: "teams", label: "Teams" },
              ]}
              value={draft.type ?? "api"}
              allowDeselect={false}
              error={errors.type}
              onChange={(v) => set("type", (v ?? "api") as Draft["type"])}
            />
            <ServiceSelect client={client} label="Service" value={draft.service_id} error={errors.service_id} onChange={(v) => set("service_id", v)} />
          </SimpleGrid>
          <Textarea label="Description" autosize minRows={1} value={draft.description ?? ""} error={errors.description} onChange={(e) => set("description", e.currentTarget.value)} />
          <Rows
            label="Headers"
            rows={draft.headers ?? []}
            onChange={(rows) => set("headers", rows)}
            errors={under(errors, "headers")}
            secrets
            disabled={system}
            blank={{ name: "", value: "", enabled: true, secret: false }}
          />
          <Select
            label="Authorization"
            data={offeredTypes(draft.base_url, auth.type).map((t) => ({ value: t, label: AUTH_LABELS[t] }))}
            value={auth.type}
            allowDeselect={false}
            error={errors.authorization ?? errors["authorization.type"]}
            onChange={(v) => set("authorization", { type: (v ?? "none") as AuthType })}
          />
          <AuthorizationFields auth={auth} errors={under(errors, "authorization")} disabled={system} onChange={(a) => set("authorization", a)} />
          {auth.type === "oauth2" && auth.grant === "authorization_code" && !system && <Connect client={client} apiId={apiId} dirty={editor.dirty} />}
        </Stack>
      </fieldset>
      <Usages client={client} api={read} />
      <Activity client={client} apiId={apiId} />
    </Stack>
  );
}

function AuthorizationFields({ auth, errors, disabled, onChange }: { auth: Authorization; errors: Record<string, string>; disabled: boolean; onChange: (auth: Authorization) => void }) {
  const fields = AUTH_FIELDS[auth.type] as FieldSpec<Record<string, unknown>>[];
  const shown = fields.filter((f) => !f.grants || f.grants.includes(String(auth.grant ?? "client_credentials")));
  if (shown.length === 0) return null;
  const set = (name: string, value: unknown) => onChange({ ...auth, [name]: value });
  return (
    <SimpleGrid cols={2}>
      {shown.map((field) => {
        const value = auth[field.name];
        const error = errors[field.name];
        switch (field.kind) {
          case "secret":
            return <SecretInput key={field.name} label={field.label} value={value as string | null} error={error} disabled={disabled} onChange={(v) => set(field.name, v)} />;
          case "bool":
            return <Checkbox key={field.name} mt="lg" label={field.label} checked={Boolean(value)} error={error} onChange={(e) => set(field.name, e.currentTarget.checked)} />;
          case "select":
            return (
              <Select key={field.name} label={field.label} data={[...(field.options ?? [])]} value={(value as string | undefined) ?? field.options?.[0] ?? null} allowDeselect={false} error={error} onChange={(v) => set(field.name, v)} />
            );
          default:
            return <TextInput key={field.name} label={field.label} value={(value as string | undefined) ?? ""} error={error} onChange={(e) => set(field.name, e.currentTarget.value)} />;
        }
      })}
    </SimpleGrid>
  );
}

/** OAuth 2.0 authorization_code: runs the provider's consent in a popup, then reads the API
 * again to say whether the flow left a refresh token stored. */
function Connect({ client, apiId, dirty }: { client: string; apiId: number; dirty: boolean }) {
  const queries = useQueryClient();
  const [waiting, setWaiting] = useState(false);

  async function connect() {
    try {
      const start = unwrap(await api.POST("/api/v1/clients/{client}/apis/{api_id}/authorize", { params: { path: { client, api_id: apiId } }, body: {} }));
      const popup = window.open(start.authorization_url, "callout-authorize", "width=600,height=700");
      if (!popup) {
        notifications.show({ color: "yellow", message: "The browser blocked the popup: allow popups for Callout and connect again." });
        return;
      }
      setWaiting(true);
      const watch = setInterval(async () => {
        if (!popup.closed) return;
        clearInterval(watch);
        setWaiting(false);
        const fresh = await queries.fetchQuery({ queryKey: [client, "api", apiId], queryFn: () => loadApi(client, apiId), staleTime: 0 });
        const connected = (fresh.body.authorization as { has_refresh_token?: boolean }).has_refresh_token === true;
        notifications.show(
          connected
            ? { color: "teal", title: "Connected", message: "The provider's refresh token is stored; calls get their tokens from it." }
            : { color: "yellow", title: "Not connected", message: "No refresh token was stored: the authorization was refused or not finished." },
        );
      }, 500);
    } catch (error) {
      notifications.show({ color: "red", title: "Could not start the authorization", message: describe(error) });
    }
  }
  return (
    <Group>
      <Button variant="outline" onClick={connect} disabled={dirty} loading={waiting}>
        Connect
      </Button>
      {dirty && <Text size="sm" c="dimmed">Save first: the flow uses the stored settings.</Text>}
    </Group>
  );
}

/** The designers whose FUNCTION CALLs use this API: which event calls which request. */
function Usages({ client, api: read }: { client: string; api: ApiRead }) {
  const usages = useQuery({
    queryKey: [client, "api", read.id, "usages"],
    queryFn: async () => unwrap(await api.GET("/api/v1/clients/{client}/apis/{api_id}/usages", { params: { path: { client, api_id: read.id }, query: { limit: 200 } } })),
  });
  const requestName = new Map(read.requests.map((r) => [r.id, r.name]));
  // One row per designer, event and request, however many calls of it the event makes.
  const rows = [...new Map((usages.data?.items ?? []).map((u) => [`${u.designer_id}/${u.event}/${u.request_id}`, u])).values()];
  return (
    <div>
      <Text fw={600} size="sm">
        Used by designers
      </Text>
      {rows.length === 0 ? (
        <Text c="dimmed" size="sm">
          No designer calls this API.
        </Text>
      ) : (
        <Table aria-label="Used by designers" fz="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Designer</Table.Th>
              <Table.Th>Event</Table.Th>
              <Table.Th>Request</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((u) => (
              <Table.Tr key={`${u.designer_id}/${u.event}/${u.request_id}`}>
                <Table.Td>{u.designer_name}</Table.Td>
                <Table.Td>{u.event}</Table.Td>
                <Table.Td>{requestName.get(u.request_id) ?? `#${u.request_id}`}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </div>
  );
}

/** The API's metrics over 24 hours and its latest calls. */
function Activity({ client, apiId }: { client: string; apiId: number }) {
  const metrics = useQuery({
    queryKey: [client, "api", apiId, "metrics"],
    queryFn: async () => unwrap(await api.GET("/api/v1/clients/{client}/apis/{api_id}/metrics", { params: { path: { client, api_id: apiId }, query: { window: "24h" } } })),
  });
  const calls = useQuery({
    queryKey: [client, "api", apiId, "invocations"],
    queryFn: async () => unwrap(await api.GET("/api/v1/clients/{client}/invocations", { params: { path: { client }, query: { api_id: apiId, limit: 10 } } })),
  });
  const total = metrics.data?.total;
  const ms = (v: number | null | undefined) => (v == null ? "–" : `${v.toFixed(1)} ms`);
  return (
    <div>
      <Text fw={600} size="sm">
        Invokes in the last 24 hours
      </Text>
      {total && (
        <Text size="sm" aria-label="Metrics">
          {total.calls} invokes: {Object.entries(total.outcomes ?? {}).map(([o, n]) => `${n} ${o}`).join(", ") || "none"}; p50 {ms(total.p50_ms)}, p95 {ms(total.p95_ms)}, p99 {ms(total.p99_ms)}
        </Text>
      )}
      {(calls.data?.items.length ?? 0) > 0 && (
        <>
        <Text size="xs" c="dimmed" mt={4}>
          Latest calls, tests from a request tab included (they are not counted above):
        </Text>
        <Table aria-label="Recent calls" fz="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>At</Table.Th>
              <Table.Th>Request</Table.Th>
              <Table.Th>Outcome</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Time</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {calls.data?.items.map((c) => (
              <Table.Tr key={c.invocation_id}>
                <Table.Td>{new Date(c.at).toLocaleString()}</Table.Td>
                <Table.Td>{c.request_name}</Table.Td>
                <Table.Td>{c.outcome}{c.reason ? ` (${c.reason})` : ""}</Table.Td>
                <Table.Td>{c.status ?? "–"}</Table.Td>
                <Table.Td>{ms(c.duration_ms)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        </>
      )}
    </div>
  );
}
