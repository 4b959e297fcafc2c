import { Alert, Anchor, Badge, Group, Paper, Stack, Table, Text, Title } from "@mantine/core";
import type { Schemas } from "../api/client";
import { textOf } from "../designers/mappings";
import type { Desktop } from "./desktop";

/** The desktop after the fires so far: the page shown with its components (the loaded one
 * marked), the data fields, the last fire's alerts and popped URLs. */
export function DesktopView({ desktop, pages }: { desktop: Desktop; pages: readonly Schemas["Page"][] }) {
  const page = pages.find((p) => p.name === desktop.page);
  const loaded = desktop.loaded;
  const fields = Object.entries(desktop.fields);
  return (
    <Stack gap="sm">
      {desktop.alerts.map((message, i) => (
        <Alert key={i} color="orange" title="Alert">
          {message}
        </Alert>
      ))}
      {desktop.popped.map((url, i) => (
        <Alert key={i} color="blue" title="URL popped">
          <Anchor href={url} target="_blank" rel="noopener noreferrer">
            {url}
          </Anchor>
        </Alert>
      ))}
      <Paper withBorder p="sm" role="region" aria-label="Page shown">
        <Group justify="space-between">
          <Title order={5}>{desktop.page ?? "No page shown yet"}</Title>
          {loaded && (
            <Text size="sm" c="dimmed">
              Loaded: {loaded.page} › {loaded.component}
            </Text>
          )}
        </Group>
        {desktop.page !== null && !page && (
          <Text size="sm" c="dimmed">
            The designer has no page of this name.
          </Text>
        )}
        <Group gap="xs" mt="xs" align="stretch">
          {page?.components.map((c) => {
            const isLoaded = loaded?.page === page.name && loaded.component === c.name;
            return (
              <Paper key={c.name} withBorder p="xs" bg={isLoaded ? "teal.0" : undefined} style={isLoaded ? { borderColor: "var(--mantine-color-teal-6)" } : undefined} aria-current={isLoaded ? "true" : undefined}>
                <Text size="sm" fw={600}>
                  {c.name}
                  {isLoaded && (
                    <Badge ml={6} size="xs" color="teal">
                      loaded
                    </Badge>
                  )}
                </Text>
                {c.fields.map((f) => (
                  <Text key={f} size="xs">
                    {f}: {textOf(desktop.fields[f]) || "–"}
                  </Text>
                ))}
              </Paper>
            );
          })}
        </Group>
      </Paper>
      <div>
        <Text fw={600} size="sm">
          Data fields
        </Text>
        {fields.length === 0 ? (
          <Text size="sm" c="dimmed">
            None filled yet.
          </Text>
        ) : (
          <Table aria-label="Data fields" withTableBorder verticalSpacing={4}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Field</Table.Th>
                <Table.Th>Value</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {fields.map(([name, value]) => (
                <Table.Tr key={name}>
                  <Table.Td>{name}</Table.Td>
                  <Table.Td>{textOf(value)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </div>
    </Stack>
  );
}
