import { Alert, Button, Group, Loader, NavLink, Stack, Text, TextInput } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { ProblemError, api, describe, unwrap } from "../api/client";
import { Confirm } from "../window/Confirm";
import { RemoveButton } from "../common/RemoveButton";

interface Props {
  client: string;
  selected: number | null;
  onOpen: (designerId: number) => void;
  onDeleted: (designerId: number) => void;
}

/** The client's designers by name: add one by its name, open one, delete one. */
export function DesignerList({ client, selected, onOpen, onDeleted }: Props) {
  const queries = useQueryClient();
  const [name, setName] = useState("");
  const [nameError, setNameError] = useState<string | undefined>();
  const [failure, setFailure] = useState<string | null>(null);
  const designers = useQuery({
    queryKey: [client, "designers"],
    queryFn: async () => unwrap(await api.GET("/api/v1/clients/{client}/designers", { params: { path: { client }, query: { limit: 200 } } })),
  });

  async function add() {
    try {
      const created = unwrap(await api.POST("/api/v1/clients/{client}/designers", { params: { path: { client } }, body: { name, description: "", pages: [], events: [] } }));
      notifications.show({ color: "teal", message: `Designer “${created.name}” added` });
      setName("");
      setNameError(undefined);
      await queries.invalidateQueries({ queryKey: [client, "designers"] });
      onOpen(created.id);
    } catch (error) {
      setNameError(error instanceof ProblemError ? (error.fields.name ?? describe(error)) : describe(error));
    }
  }

  async function remove(designerId: number, version: number, designerName: string) {
    setFailure(null);
    try {
      unwrap(await api.DELETE("/api/v1/clients/{client}/designers/{designer_id}", { params: { path: { client, designer_id: designerId }, header: { "if-match": `"${version}"` } } }));
      notifications.show({ color: "teal", message: `Designer “${designerName}” deleted` });
      await queries.invalidateQueries({ queryKey: [client, "designers"] });
      onDeleted(designerId);
    } catch (error) {
      setFailure(`“${designerName}” was not deleted: ${describe(error)}`);
      // A stale version is the usual refusal: the list is read again, as a reload would.
      await queries.invalidateQueries({ queryKey: [client, "designers"] });
    }
  }

  return (
    <Stack gap="xs">
      <Group align="flex-start" gap="xs" wrap="nowrap">
        <TextInput
          style={{ flex: 1 }}
          aria-label="New designer name"
          placeholder="New designer name"
          value={name}
          error={nameError}
          onChange={(e) => setName(e.currentTarget.value)}
          onKeyDown={(e) => e.key === "Enter" && void add()}
        />
        <Button onClick={add}>Add designer</Button>
      </Group>
      {failure && (
        <Alert color="red" withCloseButton onClose={() => setFailure(null)}>
          {failure}
        </Alert>
      )}
      {designers.isPending && <Loader size="xs" />}
      {designers.error && <Text c="red" size="sm">{describe(designers.error)}</Text>}
      {designers.data?.items.length === 0 && (
        <Text c="dimmed" size="sm">
          No designers yet.
        </Text>
      )}
      <nav aria-label="Designers">
        {designers.data?.items.map((d) => (
          <Group key={d.id} gap={0} wrap="nowrap">
            <NavLink style={{ flex: 1 }} label={d.name} description={d.events.join(", ") || "no events"} active={selected === d.id} onClick={() => onOpen(d.id)} />
            <Confirm title={`Delete the designer “${d.name}”?`} body="Its pages, events, conditions and actions go with it." confirm="Delete" onConfirm={() => remove(d.id, d.version, d.name)}>
              {(open) => (
                <RemoveButton label={`Delete designer ${d.name}`} onClick={open} />
              )}
            </Confirm>
          </Group>
        ))}
      </nav>
    </Stack>
  );
}
