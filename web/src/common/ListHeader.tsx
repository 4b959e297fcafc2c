import { Button, Group, Text } from "@mantine/core";

/** A list's title and its Add button ("Headers", "Add header"). */
export function ListHeader({ label, onAdd, disabled }: { label: string; onAdd: () => void; disabled?: boolean }) {
  return (
    <Group justify="space-between" mb={4}>
      <Text fw={600} size="sm">
        {label}
      </Text>
      {!disabled && (
        <Button size="compact-xs" variant="light" onClick={onAdd}>
          Add {label.toLowerCase().replace(/s$/, "")}
        </Button>
      )}
    </Group>
  );
}
