import { Button, Group, Modal, Text } from "@mantine/core";
import { type ReactNode, useState } from "react";

interface Props {
  title: string;
  body: string;
  confirm: string;
  onConfirm: () => void | Promise<void>;
  children: (open: () => void) => ReactNode;
}

/** Asks before an act that cannot be undone (delete, closing a tab with unsaved edits). */
export function Confirm({ title, body, confirm, onConfirm, children }: Props) {
  const [opened, setOpened] = useState(false);
  return (
    <>
      {children(() => setOpened(true))}
      <Modal opened={opened} onClose={() => setOpened(false)} title={title}>
        <Text size="sm">{body}</Text>
        <Group justify="flex-end" mt="md">
          <Button variant="default" onClick={() => setOpened(false)}>
            Cancel
          </Button>
          <Button
            color="red"
            onClick={async () => {
              setOpened(false);
              await onConfirm();
            }}
          >
            {confirm}
          </Button>
        </Group>
      </Modal>
    </>
  );
}
