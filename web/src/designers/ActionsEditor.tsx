import { Button, Group, Paper, Select, SimpleGrid, Stack, TextInput } from "@mantine/core";
import { ACTION_LABELS, type Action, type ActionKind, type DesignerPage, blankAction } from "./draft";
import { FunctionCallEditor } from "./FunctionCallEditor";
import { choices, itemErrors, moved, removed, replaced } from "./lists";
import { OrderButtons } from "./OrderButtons";
import { useResponsePaths } from "./useResponsePaths";
import { ErrorText } from "../common/ErrorText";

interface Props {
  client: string;
  actions: Action[];
  onChange: (actions: Action[]) => void;
  /** Errors under the condition's `actions`: `[0].url`... */
  errors: Record<string, string>;
  pages: readonly DesignerPage[];
  paths: readonly string[];
  /** Names the actions to a screen reader: "condition 1". */
  within: string;
}

const KINDS = (Object.keys(ACTION_LABELS) as ActionKind[]).map((kind) => ({ value: kind, label: ACTION_LABELS[kind] }));

/** A condition's actions, run in this order when it holds. */
export function ActionsEditor({ client, actions, onChange, errors, pages, paths, within }: Props) {
  return (
    <Stack gap="xs">
      {actions.map((action, index) => {
        const label = `${within} action ${index + 1}`;
        const found = itemErrors(errors, index);
        const set = (next: Action) => onChange(replaced(actions, index, next));
        return (
          <Paper key={index} withBorder p="xs" role="group" aria-label={label}>
            <Stack gap="xs">
              <Group justify="space-between" align="flex-end">
                <Group align="flex-end">
                  <Select
                    label={`Action ${index + 1}`}
                    aria-label={`${label} kind`}
                    data={KINDS}
                    value={action.kind}
                    allowDeselect={false}
                    onChange={(kind) => kind !== action.kind && set(blankAction(kind as ActionKind, action.on_error, pages))}
                  />
                  <Select
                    label="On error"
                    aria-label={`${label} on error`}
                    data={[
                      { value: "stop", label: "Stop the event" },
                      { value: "continue", label: "Continue" },
                    ]}
                    value={action.on_error}
                    error={found.on_error}
                    allowDeselect={false}
                    onChange={(v) => set({ ...action, on_error: v as Action["on_error"] })}
                  />
                </Group>
                <OrderButtons label={label} index={index} count={actions.length} onMove={(by) => onChange(moved(actions, index, by))} onRemove={() => onChange(removed(actions, index))} />
              </Group>
              <ActionFields client={client} action={action} onChange={set} errors={found} pages={pages} paths={paths} label={label} earlier={actions.slice(0, index)} />
              <ErrorText message={found[""]} />
            </Stack>
          </Paper>
        );
      })}
      <Group>
        <Button size="compact-xs" variant="light" onClick={() => onChange([...actions, blankAction("function_call", "stop", pages)])}>
          Add action
        </Button>
      </Group>
    </Stack>
  );
}

function ActionFields({ client, action, onChange, errors, pages, paths, label, earlier }: { client: string; action: Action; onChange: (action: Action) => void; errors: Record<string, string>; pages: readonly DesignerPage[]; paths: readonly string[]; label: string; earlier: readonly Action[] }) {
  const responses = useResponsePaths(client, earlier);
  const pageNames = choices(pages.map((p) => p.name));
  switch (action.kind) {
    case "function_call":
      return <FunctionCallEditor client={client} call={action} onChange={onChange} errors={errors} paths={[...responses, ...paths]} />;
    case "pop_url":
      return (
        <TextInput
          label="URL"
          aria-label={`${label} URL`}
          description="An absolute http(s) URL; ${...} placeholders from the context fill its path and query."
          value={action.url}
          error={errors.url}
          onChange={(e) => onChange({ ...action, url: e.currentTarget.value })}
        />
      );
    case "page_transition":
      return <Select label="Page" aria-label={`${label} page`} data={pageNames} value={action.page || null} error={errors.page} allowDeselect={false} onChange={(page) => onChange({ ...action, page: page ?? "" })} />;
    case "component_load": {
      const components = choices(pages.find((p) => p.name === action.page)?.components.map((c) => c.name) ?? []);
      return (
        <SimpleGrid cols={2}>
          <Select
            label="Page"
            aria-label={`${label} page`}
            data={pageNames}
            value={action.page || null}
            error={errors.page}
            allowDeselect={false}
            onChange={(page) => onChange({ ...action, page: page ?? "", component: "" })}
          />
          <Select
            label="Component"
            aria-label={`${label} component`}
            data={components}
            value={action.component || null}
            error={errors.component}
            allowDeselect={false}
            onChange={(component) => onChange({ ...action, component: component ?? "" })}
          />
        </SimpleGrid>
      );
    }
  }
}
