import { Button, Checkbox, Group, Paper, Stack, Text } from "@mantine/core";
import { under } from "../common/Rows";
import { ActionsEditor } from "./ActionsEditor";
import { ConditionInput } from "./ConditionInput";
import { type Condition, type DesignerPage, blankCondition } from "./draft";
import { itemErrors, moved, removed, replaced } from "./lists";
import { OrderButtons } from "./OrderButtons";
import { ErrorText } from "../common/ErrorText";

interface Props {
  client: string;
  conditions: Condition[];
  onChange: (conditions: Condition[]) => void;
  /** Errors under the event's `conditions`. */
  errors: Record<string, string>;
  pages: readonly DesignerPage[];
  paths: readonly string[];
  /** The event's name, to label its conditions. */
  event: string;
}

/** An event's conditions, evaluated in this order; the actions of each that holds run. */
export function ConditionsEditor({ client, conditions, onChange, errors, pages, paths, event }: Props) {
  return (
    <Stack gap="sm">
      {conditions.map((condition, index) => {
        const label = `${event} condition ${index + 1}`;
        const found = itemErrors(errors, index);
        const set = (patch: Partial<Condition>) => onChange(replaced(conditions, index, { ...condition, ...patch }));
        return (
          <Paper key={index} withBorder p="sm" bg="gray.0" role="group" aria-label={label}>
            <Stack gap="xs">
              <Group justify="space-between">
                <Text fw={600} size="sm">
                  Condition {index + 1}
                </Text>
                <Group>
                  <Checkbox
                    label="Stop"
                    aria-label={`${label} stop`}
                    title="A stopped condition is skipped, its actions with it"
                    checked={condition.stop}
                    error={found.stop}
                    onChange={(e) => set({ stop: e.currentTarget.checked })}
                  />
                  <OrderButtons label={label} index={index} count={conditions.length} onMove={(by) => onChange(moved(conditions, index, by))} onRemove={() => onChange(removed(conditions, index))} />
                </Group>
              </Group>
              <ConditionInput client={client} label={`${label} expression`} value={condition.expression} error={found.expression} onChange={(expression) => set({ expression })} />
              <ActionsEditor client={client} actions={condition.actions} onChange={(actions) => set({ actions })} errors={under(found, "actions")} pages={pages} paths={paths} within={label} />
              <ErrorText message={found[""]} />
            </Stack>
          </Paper>
        );
      })}
      <Group>
        <Button size="compact-xs" variant="light" onClick={() => onChange([...conditions, blankCondition()])}>
          Add condition
        </Button>
      </Group>
    </Stack>
  );
}
