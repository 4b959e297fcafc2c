import { Alert, Badge, Code, Group, NumberInput, Select, SimpleGrid, Stack, Text, TextInput, Textarea, Title } from "@mantine/core";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense } from "react";
import { type RequestRead, type Schemas, api, describe, unwrap, withETag } from "../api/client";
import { type Column, Grid } from "../common/Grid";
import { Rows, under } from "../common/Rows";
import { SaveProblems } from "../common/SaveProblems";
import { type TabProps, loadApi } from "./ApiTab";
import { TabActions } from "./TabActions";
import { SendPanel } from "./SendPanel";
import { BODY_TYPES, FORM_TYPES, type Draft, toDraft, toWrite } from "./requestDraft";
import { useEditor } from "./useEditor";
import { useTab } from "./useTab";
import { ErrorText } from "../common/ErrorText";

const TemplateEditor = lazy(() => import("../editor/TemplateEditor"));

type Parameter = Schemas["RequestParameter"];
type Output = Schemas["ResponseParameter"];

const TYPES = ["string", "number", "boolean", "object"] as const;
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const;
const CONTENT_TYPES = [
  { value: "none", label: "No body" },
  { value: "json", label: "JSON" },
  { value: "xml", label: "XML" },
  { value: "text", label: "Text" },
  { value: "form", label: "Form (urlencoded)" },
  { value: "multipart", label: "Multipart form" },
];

const PARAMETER_COLUMNS: Column<Parameter>[] = [
  { key: "name", label: "Name", kind: "text" },
  { key: "type", label: "Type", kind: "select", options: TYPES, width: 120 },
  { key: "required", label: "Required", kind: "bool", width: 80 },
  { key: "default", label: "Default", kind: "text" },
  { key: "secret", label: "Secret", kind: "bool", width: 70 },
  { key: "description", label: "Description", kind: "text" },
];

const OUTPUT_COLUMNS: Column<Output>[] = [
  { key: "name", label: "Name", kind: "text" },
  { key: "source", label: "Source", kind: "select", options: ["body", "header", "status"], width: 110 },
  { key: "path", label: "Path", kind: "text" },
  { key: "type", label: "Type", kind: "select", options: TYPES, width: 110 },
  { key: "array", label: "List", kind: "bool", width: 60 },
  { key: "target", label: "Into", kind: "select", options: ["field", "alert"], width: 100 },
  { key: "field", label: "Data field", kind: "text" },
  { key: "message", label: "Alert text", kind: "text" },
];

type Sample = Schemas["SampleResponse"];

/** What Mock answers from: a status and a body, by name. */
const SAMPLE_COLUMNS: Column<Sample>[] = [
  { key: "name", label: "Name", kind: "text", width: 180 },
  { key: "status", label: "Status", kind: "text", width: 90 },
  { key: "body", label: "Body", kind: "text" },
];


/** A request's tab: method, paths, query, headers, body, parameters and outputs; Send beside them. */
export function RequestTab({ client, apiId, requestId, onDirty, onTitle, registerSave, onDeleted }: TabProps & { requestId: number }) {
  const path = { client, api_id: apiId, request_id: requestId };
  const editor = useEditor<RequestRead, Draft>({
    queryKey: [client, "request", apiId, requestId],
    load: async () => withETag(await api.GET("/api/v1/clients/{client}/apis/{api_id}/requests/{request_id}", { params: { path } })),
    toDraft,
    save: async (draft, etag) =>
      withETag(
        await api.PUT("/api/v1/clients/{client}/apis/{api_id}/requests/{request_id}", {
          params: { path, header: { "if-match": etag } },
          body: toWrite(draft),
        }),
      ),
    onDirty,
  });
  const { stored, draft, setDraft, errors } = editor;
  const queries = useQueryClient();
  const read = stored.data?.body;
  // A system API's requests are read-only, as the API is.
  const owner = useQuery({ queryKey: [client, "api", apiId], queryFn: () => loadApi(client, apiId) });
  const system = owner.data?.body.system ?? true;

  const { save, deleteIt } = useTab(editor, { onDirty, onTitle, registerSave, onDeleted }, {
    what: "Request",
    readOnly: system,
    saved: () => void queries.invalidateQueries({ queryKey: [client, "api", apiId, "requests"] }),
    remove: async () =>
      unwrap(await api.DELETE("/api/v1/clients/{client}/apis/{api_id}/requests/{request_id}", { params: { path, header: { "if-match": editor.etag.current } } })),
  });

  if (stored.error) return <Alert color="red">{describe(stored.error)}</Alert>;
  if (!draft || !read) return <Text c="dimmed">Loading…</Text>;
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));
  const content = draft.content_type ?? "none";
  const parameterNames = (draft.parameters ?? []).map((p) => p.name).filter(Boolean);

  return (
    <Stack>
      <Group justify="space-between">
        <Group>
          <Title order={3}>{read.name}</Title>
          {system && <Badge color="gray">System API: read-only</Badge>}
          {editor.dirty && <Badge color="orange">unsaved</Badge>}
        </Group>
        {!system && (
          <TabActions
            what={`the request “${read.name}”`}
            consequence="A designer that calls it keeps it from being deleted."
            onDelete={deleteIt}
            onSave={save}
            saving={editor.saving}
            dirty={editor.dirty}
          />
        )}
      </Group>
      <SaveProblems what="request" stale={editor.stale} failure={editor.failure} onReload={editor.reload} onDismiss={() => editor.setFailure(null)} />
      <Stack gap="xl">
        <fieldset disabled={system} style={{ border: 0, padding: 0, margin: 0, minWidth: 0 }}>
          <Stack>
            <SimpleGrid cols={2}>
              <TextInput label="Name" required value={draft.name} error={errors.name} onChange={(e) => set("name", e.currentTarget.value)} />
              <Select label="Method" data={[...METHODS]} value={draft.method ?? "GET"} allowDeselect={false} error={errors.method} onChange={(v) => set("method", (v ?? "GET") as Draft["method"])} />
              <TextInput label="URL path" value={draft.url_path ?? ""} error={errors.url_path} onChange={(e) => set("url_path", e.currentTarget.value)} />
              <TextInput label="Endpoint path" value={draft.endpoint_path ?? ""} error={errors.endpoint_path} onChange={(e) => set("endpoint_path", e.currentTarget.value)} />
            </SimpleGrid>
            <div>
              <Text size="sm" fw={500}>
                Full URL (as saved)
              </Text>
              <Code aria-label="Full URL">{read.url}</Code>
            </div>
            <Textarea label="Description" autosize minRows={1} value={draft.description ?? ""} error={errors.description} onChange={(e) => set("description", e.currentTarget.value)} />
            <Rows disabled={system} label="Query parameters" rows={draft.query ?? []} onChange={(rows) => set("query", rows)} errors={under(errors, "query")} blank={{ name: "", value: "", enabled: true }} />
            <Rows disabled={system} label="Headers" rows={draft.headers ?? []} onChange={(rows) => set("headers", rows)} errors={under(errors, "headers")} secrets blank={{ name: "", value: "", enabled: true, secret: false }} />
            <Select label="Content type" data={CONTENT_TYPES} value={content} allowDeselect={false} error={errors.content_type} onChange={(v) => set("content_type", (v ?? "none") as Draft["content_type"])} />
            {BODY_TYPES.includes(content) && (
              <div>
                <Text size="sm" fw={500}>
                  Body
                </Text>
                <Suspense fallback={<Textarea value={draft.body ?? ""} readOnly />}>
                  <TemplateEditor label="Body" value={draft.body ?? ""} language={content as "json" | "xml" | "text"} parameters={parameterNames} onChange={(v) => set("body", v)} />
                </Suspense>
                <ErrorText message={errors.body} />
              </div>
            )}
            {FORM_TYPES.includes(content) && (
              <Rows disabled={system} label="Form fields" rows={draft.form ?? []} onChange={(rows) => set("form", rows)} errors={under(errors, "form")} blank={{ name: "", value: "", enabled: true }} />
            )}
            <Grid disabled={system} label="Request parameters" rows={draft.parameters ?? []} columns={PARAMETER_COLUMNS} onChange={(rows) => set("parameters", rows)} errors={under(errors, "parameters")} blank={{ name: "", type: "string", required: false, secret: false, description: "" }} />
            <Grid disabled={system} label="Response parameters" rows={draft.outputs ?? []} columns={OUTPUT_COLUMNS} onChange={(rows) => set("outputs", rows)} errors={under(errors, "outputs")} blank={{ name: "", source: "body", path: "", type: "string", array: false, target: "field", field: "", message: "", description: "" }} />
            <Grid
              disabled={system}
              label="Sample responses"
              rows={draft.samples ?? []}
              columns={SAMPLE_COLUMNS}
              onChange={(rows) => set("samples", rows)}
              errors={under(errors, "samples")}
              blank={{ name: "", status: 200, headers: [], body: "" }}
            />
            <SimpleGrid cols={2}>
              <NumberInput label="Timeout (seconds)" placeholder="10" min={0.1} value={draft.timeout ?? ""} error={errors.timeout} onChange={(v) => set("timeout", v === "" ? null : Number(v))} />
              <TextInput
                label="Success statuses"
                placeholder="any 2xx"
                value={(draft.success_statuses ?? []).join(", ")}
                error={errors.success_statuses ?? Object.entries(under(errors, "success_statuses")).map(([, m]) => m)[0]}
                onChange={(e) =>
                  set(
                    "success_statuses",
                    e.currentTarget.value
                      .split(/[\s,]+/)
                      .filter(Boolean)
                      .map(Number),
                  )
                }
              />
            </SimpleGrid>
          </Stack>
        </fieldset>
        <SendPanel client={client} apiId={apiId} request={read} unsaved={editor.dirty} />
      </Stack>
    </Stack>
  );
}
