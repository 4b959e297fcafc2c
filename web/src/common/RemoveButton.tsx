import { ActionIcon } from "@mantine/core";

/** The × that takes one row or item out of a list; `label` names which, for a screen reader. */
export function RemoveButton({ label, onClick, mb }: { label: string; onClick: () => void; mb?: number }) {
  return (
    <ActionIcon variant="subtle" color="red" aria-label={label} onClick={onClick} mb={mb}>
      ×
    </ActionIcon>
  );
}
