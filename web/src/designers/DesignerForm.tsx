import { Alert, Badge, Button, Divider, Group, SimpleGrid, Stack, Text, TextInput, Textarea, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useMemo } from "react";
import { api, describe, withETag } from "../api/client";
import { under } from "../common/Rows";
import { SaveProblems } from "../common/SaveProblems";
import { ServiceSelect } from "../common/ServiceSelect";
import { useLeaveGuard } from "../common/useLeaveGuard";
import { useEditor } from "../window/useEditor";
import { type DesignerRead, type Draft, toDraft } from "./draft";
import { EventsEditor } from "./EventsEditor";
import { choices } from "./lists";
import { PagesEditor } from "./PagesEditor";

interface Props {
  client: string;
  designerId: number;
  onDirty: (dirty: boolean) => void;
}

/** One designer: its name, service and description, its pages and its events; saved whole
 * with If-Match, so a save never overwrites someone else's. */
export function DesignerForm({ client, designerId, onDirty }: Props) {
  const queries = useQueryClient();
  const path = { client, designer_id: designerId };
  const editor = useEditor<DesignerRead, Draft>({
    queryKey: [client, "designer", designerId],
    load: async () => withETag(await api.GET("/api/v1/clients/{client}/designers/{designer_id}", { params: { path } })),
    toDraft,
    save: async (draft, etag) => withETag(await api.PUT("/api/v1/clients/{client}/designers/{designer_id}", { params: { path, header: { "if-match": etag } }, body: draft })),
    onDirty,
  });
  useLeaveGuard(editor.dirty);
  const { stored, draft, setDraft, errors } = editor;
  // Completions for a mapped path: the data fields the designer's components show.
  const paths = useMemo(() => choices((draft?.pages ?? []).flatMap((p) => p.components.flatMap((c) => c.fields.map((f) => `fields.${f}`)))), [draft?.pages]);

  const save = useCallback(async () => {
    const saved = await editor.submit();
    if (saved) {
      notifications.show({ color: "teal", message: `Designer “${saved.name}” saved` });
      await queries.invalidateQueries({ queryKey: [client, "designers"] });
    }
  }, [editor, queries, client]);

  // The list shows each designer's version, which a delete sends: read it again too.
  const reload = async () => {
    await editor.reload();
    await queries.invalidateQueries({ queryKey: [client, "designers"] });
  };

  if (stored.error) return <Alert color="red">{describe(stored.error)}</Alert>;
  if (!draft || !stored.data) return <Text c="dimmed">Loading…</Text>;
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));

  return (
    <Stack
      onKeyDown={(e) => {
        if ((e.ctrlKey || e.metaKey) && e.key === "s") {
          e.preventDefault();
          void save();
        }
      }}
    >
      <Group justify="space-between">
        <Group>
          <Title order={3}>{stored.data.body.name}</Title>
          {editor.dirty && <Badge color="orange">unsaved</Badge>}
        </Group>
        <Button onClick={save} loading={editor.saving} disabled={!editor.dirty}>
          Save
        </Button>
      </Group>
      <SaveProblems what="designer" stale={editor.stale} failure={editor.failure} onReload={reload} onDismiss={() => editor.setFailure(null)} />
      <SimpleGrid cols={2}>
        <TextInput label="Name" required value={draft.name} error={errors.name} onChange={(e) => set("name", e.currentTarget.value)} />
        <ServiceSelect client={client} label="Service" value={draft.service_id} error={errors.service_id} onChange={(v) => set("service_id", v)} />
      </SimpleGrid>
      <Textarea label="Description" autosize minRows={1} value={draft.description} error={errors.description} onChange={(e) => set("description", e.currentTarget.value)} />
      <Divider />
      <PagesEditor pages={draft.pages} onChange={(pages) => set("pages", pages)} errors={under(errors, "pages")} />
      <Divider />
      <EventsEditor client={client} draft={draft} onChange={(events) => set("events", events)} errors={under(errors, "events")} paths={paths} />
    </Stack>
  );
}
