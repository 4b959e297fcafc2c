import { ActionIcon, Group } from "@mantine/core";
import { RemoveButton } from "../common/RemoveButton";

interface Props {
  /** What the item is called to a screen reader: "condition 2", "action 1". */
  label: string;
  index: number;
  count: number;
  onMove: (by: -1 | 1) => void;
  onRemove: () => void;
}

/** Up, down and remove for an item of an ordered list. */
export function OrderButtons({ label, index, count, onMove, onRemove }: Props) {
  return (
    <Group gap={4}>
      <ActionIcon variant="subtle" aria-label={`Move ${label} up`} disabled={index === 0} onClick={() => onMove(-1)}>
        ↑
      </ActionIcon>
      <ActionIcon variant="subtle" aria-label={`Move ${label} down`} disabled={index === count - 1} onClick={() => onMove(1)}>
        ↓
      </ActionIcon>
      <RemoveButton label={`Remove ${label}`} onClick={onRemove} />
    </Group>
  );
}
