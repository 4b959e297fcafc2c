import { Button, Menu } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { api, describe, unwrap } from "../api/client";
import { EXPORT_FORMATS, formatLabel, saveDownload, type ExportFormat } from "./interchange";

/** An API's Export menu: a file in each format the server writes (secrets named, never sent). */
export function ExportMenu({ client, apiId }: { client: string; apiId: number }) {
  async function exportAs(format: ExportFormat) {
    try {
      const answer = await api.GET("/api/v1/clients/{client}/apis/{api_id}/export", {
        params: { path: { client, api_id: apiId }, query: { format } },
        parseAs: "blob",
      });
      saveDownload(unwrap(answer) as Blob, answer.response, `api-${apiId}`);
    } catch (error) {
      notifications.show({ color: "red", title: "Not exported", message: describe(error) });
    }
  }
  return (
    <Menu position="bottom-end">
      <Menu.Target>
        <Button variant="light">Export</Button>
      </Menu.Target>
      <Menu.Dropdown>
        {EXPORT_FORMATS.map((format) => (
          <Menu.Item key={format} onClick={() => exportAs(format)}>
            {formatLabel(format)}
          </Menu.Item>
        ))}
      </Menu.Dropdown>
    </Menu>
  );
}
