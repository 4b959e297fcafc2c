import { Button, Grid, Group, Modal, Text } from "@mantine/core";
import { useState } from "react";
import { DesignerForm } from "./DesignerForm";
import { DesignerList } from "./DesignerList";

/** The designer editor: the client's designers on the left, the open one on the right. */
export function DesignerEditor({ client }: { client: string }) {
  const [open, setOpen] = useState<number | null>(null);
  const [dirty, setDirty] = useState(false);
  // Another designer asked for while the open one has unsaved edits: asked first.
  const [pending, setPending] = useState<number | null>(null);

  const choose = (designerId: number) => {
    if (designerId === open) return;
    if (dirty) setPending(designerId);
    else setOpen(designerId);
  };

  return (
    <Grid>
      <Grid.Col span={{ base: 12, md: 3 }}>
        <DesignerList
          client={client}
          selected={open}
          onOpen={choose}
          onDeleted={(id) => {
            if (id === open) {
              setOpen(null);
              setDirty(false);
            }
          }}
        />
      </Grid.Col>
      <Grid.Col span={{ base: 12, md: 9 }}>
        {open === null ? (
          <Text c="dimmed">Open a designer, or add one by its name.</Text>
        ) : (
          <DesignerForm key={open} client={client} designerId={open} onDirty={setDirty} />
        )}
      </Grid.Col>
      <Modal opened={pending !== null} onClose={() => setPending(null)} title="Discard your unsaved edits?">
        <Text size="sm">The open designer has edits that are not saved.</Text>
        <Group justify="flex-end" mt="md">
          <Button variant="default" onClick={() => setPending(null)}>
            Keep editing
          </Button>
          <Button
            color="red"
            onClick={() => {
              setOpen(pending);
              setDirty(false);
              setPending(null);
            }}
          >
            Discard
          </Button>
        </Group>
      </Modal>
    </Grid>
  );
}
