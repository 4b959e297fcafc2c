import { Badge, Group, Stack, Table, Text } from "@mantine/core";
import { ACTION_LABELS, type ActionKind } from "../designers/draft";
import type { FireResult } from "./desktop";

const OUTCOME_COLORS: Record<string, string> = { success: "teal", completed: "teal", failure: "red", stopped: "red", timeout: "orange", deadline: "orange" };

/** How the last fire went: each condition's state and each action's outcome, in order. */
export function FireTrace({ result }: { result: FireResult }) {
  return (
    <Stack gap="sm">
      <Group gap="xs">
        <Text fw={600}>{result.event}</Text>
        <Badge color={OUTCOME_COLORS[result.outcome] ?? "gray"}>{result.outcome}</Badge>
        <Text size="sm" c="dimmed">
          {result.duration_ms.toFixed(1)} ms
        </Text>
      </Group>
      <Table aria-label="Conditions trace" withTableBorder verticalSpacing={4} fz="sm">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Condition</Table.Th>
            <Table.Th>State</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {result.conditions.map((c) => (
            <Table.Tr key={c.position}>
              <Table.Td>{c.position + 1}</Table.Td>
              <Table.Td>{c.state.replace("_", " ")}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {result.actions.length === 0 ? (
        <Text size="sm" c="dimmed">
          No action ran.
        </Text>
      ) : (
        <Table aria-label="Actions trace" withTableBorder verticalSpacing={4} fz="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Condition</Table.Th>
              <Table.Th>Action</Table.Th>
              <Table.Th>Kind</Table.Th>
              <Table.Th>Outcome</Table.Th>
              <Table.Th>Reason</Table.Th>
              <Table.Th>Time</Table.Th>
              <Table.Th>Invocation</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {result.actions.map((a) => (
              <Table.Tr key={`${a.condition}-${a.action}`}>
                <Table.Td>{a.condition + 1}</Table.Td>
                <Table.Td>{a.action + 1}</Table.Td>
                <Table.Td>{ACTION_LABELS[a.kind as ActionKind] ?? a.kind}</Table.Td>
                <Table.Td>
                  <Badge size="sm" color={OUTCOME_COLORS[a.outcome] ?? "gray"}>
                    {a.outcome}
                  </Badge>
                </Table.Td>
                <Table.Td>
                  {a.reason ?? ""}
                  {a.message && (
                    <Text size="xs" c="dimmed">
                      {a.message}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>{a.duration_ms.toFixed(1)} ms</Table.Td>
                <Table.Td>
                  <Text size="xs" ff="monospace">
                    {a.invocation_id ?? "–"}
                  </Text>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}
