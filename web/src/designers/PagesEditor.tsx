import { Button, Group, Paper, Select, Stack, Table, TagsInput, Text, TextInput } from "@mantine/core";
import { under } from "../common/Rows";
import { COMPONENT_KINDS, type Component, type DesignerPage, blankComponent, blankPage } from "./draft";
import { itemErrors, removed, replaced } from "./lists";
import { RemoveButton } from "../common/RemoveButton";
import { ErrorText } from "../common/ErrorText";

interface Props {
  pages: DesignerPage[];
  onChange: (pages: DesignerPage[]) => void;
  /** Errors under the designer's `pages`. */
  errors: Record<string, string>;
}

/** The desktop's pages, each with its components and the data fields they show. */
export function PagesEditor({ pages, onChange, errors }: Props) {
  return (
    <Stack gap="sm">
      <Group justify="space-between">
        <Text fw={600}>Pages</Text>
        <Button size="compact-xs" variant="light" onClick={() => onChange([...pages, blankPage()])}>
          Add page
        </Button>
      </Group>
      {pages.length === 0 && (
        <Text size="sm" c="dimmed">
          No pages yet: an event is raised on a page.
        </Text>
      )}
      {pages.map((page, index) => {
        const found = itemErrors(errors, index);
        const label = `Page ${index + 1}`;
        return (
          <Paper key={index} withBorder p="sm" role="group" aria-label={label}>
            <Stack gap="xs">
              <Group align="flex-end">
                <TextInput label={label} aria-label={`${label} name`} required value={page.name} error={found.name} onChange={(e) => onChange(replaced(pages, index, { ...page, name: e.currentTarget.value }))} />
                <RemoveButton label={`Remove ${label}`} onClick={() => onChange(removed(pages, index))} mb={4} />
              </Group>
              <Components page={label} components={page.components} errors={under(found, "components")} onChange={(components) => onChange(replaced(pages, index, { ...page, components }))} />
              <ErrorText message={found[""]} />
            </Stack>
          </Paper>
        );
      })}
      <ErrorText message={errors[""]} />
    </Stack>
  );
}

function Components({ page, components, errors, onChange }: { page: string; components: Component[]; errors: Record<string, string>; onChange: (components: Component[]) => void }) {
  const set = (index: number, patch: Partial<Component>) => onChange(replaced(components, index, { ...components[index]!, ...patch }));
  return (
    <div>
      {components.length > 0 && (
        <Table verticalSpacing={4} aria-label={`${page} components`}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Component</Table.Th>
              <Table.Th w={150}>Kind</Table.Th>
              <Table.Th>Data fields</Table.Th>
              <Table.Th w={40} />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {components.map((component, index) => {
              const found = itemErrors(errors, index);
              const name = `${page} component ${index + 1}`;
              const fieldErrors = Object.entries(under(found, "fields")).map(([, message]) => message);
              return (
                <Table.Tr key={index}>
                  <Table.Td>
                    <TextInput aria-label={`${name} name`} value={component.name} error={found.name} onChange={(e) => set(index, { name: e.currentTarget.value })} />
                  </Table.Td>
                  <Table.Td>
                    <Select aria-label={`${name} kind`} data={[...COMPONENT_KINDS]} value={component.kind} error={found.kind} allowDeselect={false} onChange={(kind) => set(index, { kind: kind as Component["kind"] })} />
                  </Table.Td>
                  <Table.Td>
                    <TagsInput aria-label={`${name} fields`} placeholder="Type a field, Enter" value={component.fields} error={fieldErrors.join("; ") || undefined} onChange={(fields) => set(index, { fields })} />
                  </Table.Td>
                  <Table.Td>
                    <RemoveButton label={`Remove ${name}`} onClick={() => onChange(removed(components, index))} />
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      )}
      <Button size="compact-xs" variant="subtle" onClick={() => onChange([...components, blankComponent()])}>
        Add component
      </Button>
      <ErrorText message={errors[""]} />
    </div>
  );
}
