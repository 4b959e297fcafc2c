import { Alert, Badge, List, Stack, Table, Text } from "@mantine/core";
import { type ImportReport, reportSummary } from "./interchange";

const ACTION_COLORS = { created: "teal", renamed: "blue", skipped: "gray" } as const;

/** What an import wrote, or a check would write: each API, the secrets the admin must enter,
 * the services made for it, and what the files held that Callout could not carry. */
export function ImportReportView({ report }: { report: ImportReport }) {
  const secrets = report.apis.filter((a) => a.action !== "skipped" && a.missing_secrets.length > 0);
  return (
    <Stack gap="sm" aria-label="Import report">
      <Text fw={600}>{reportSummary(report)}</Text>
      {secrets.length > 0 && (
        <Alert color="yellow" title="Secrets to enter">
          <Text size="sm">Files carry no secrets: open each API and enter these before calling it.</Text>
          <List size="sm" mt={4}>
            {secrets.map((a) => (
              <List.Item key={`${a.source}/${a.name}`}>
                <b>{a.name}</b>: {a.missing_secrets.join(", ")}
              </List.Item>
            ))}
          </List>
        </Alert>
      )}
      <Table fz="sm" aria-label="Imported APIs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Action</Table.Th>
            <Table.Th>API</Table.Th>
            <Table.Th>Requests</Table.Th>
            <Table.Th>From</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {report.apis.map((a, i) => (
            <Table.Tr key={i}>
              <Table.Td>
                <Badge color={ACTION_COLORS[a.action]} variant="light">
                  {a.action}
                </Badge>
              </Table.Td>
              <Table.Td>{a.name}</Table.Td>
              <Table.Td>{a.requests}</Table.Td>
              <Table.Td>{a.source}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {(report.services_created ?? []).length > 0 && <Text size="sm">Services created: {report.services_created?.join(", ")}</Text>}
      {(report.notes ?? []).length > 0 && (
        <div>
          <Text fw={600} size="sm">
            Not carried
          </Text>
          <Table fz="xs" aria-label="Not carried">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>File</Table.Th>
                <Table.Th>Place</Table.Th>
                <Table.Th>What</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {report.notes?.map((n, i) => (
                <Table.Tr key={i}>
                  <Table.Td>{n.source}</Table.Td>
                  <Table.Td style={{ overflowWrap: "anywhere" }}>{n.where}</Table.Td>
                  <Table.Td>{n.message}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </div>
      )}
    </Stack>
  );
}
