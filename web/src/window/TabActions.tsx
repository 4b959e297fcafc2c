import { Button, Group } from "@mantine/core";
import { Confirm } from "./Confirm";

interface Props {
  /** "the API “CRM”": what Delete asks about. */
  what: string;
  /** Why a delete may be refused or what goes with it. */
  consequence: string;
  onDelete: () => Promise<void>;
  onSave: () => void;
  saving: boolean;
  dirty: boolean;
}

/** A tab's Delete (asked first) and Save (enabled once something is edited). */
export function TabActions({ what, consequence, onDelete, onSave, saving, dirty }: Props) {
  return (
    <Group>
      <Confirm title={`Delete ${what}?`} body={consequence} confirm="Delete" onConfirm={onDelete}>
        {(open) => (
          <Button color="red" variant="light" onClick={open}>
            Delete
          </Button>
        )}
      </Confirm>
      <Button onClick={onSave} loading={saving} disabled={!dirty}>
        Save
      </Button>
    </Group>
  );
}
