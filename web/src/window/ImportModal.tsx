import { Alert, Button, FileInput, Group, List, Modal, SegmentedControl, Stack, Text, Textarea } from "@mantine/core";
import { useState } from "react";
import { api, unwrap } from "../api/client";
import { ImportReportView } from "./ImportReportView";
import { type Clash, IMPORTED_FILES, type ImportReport, problemLines, uploadOf } from "./interchange";

interface Props {
  client: string;
  opened: boolean;
  onClose: () => void;
  /** An import wrote: the library changed. */
  onImported: (report: ImportReport) => void;
}

type Source = "file" | "paste";

/** Import a file (Callout, Postman, OpenAPI, a cURL command line, a zip) or pasted text:
 * Check shows what would be written, Import writes it all or nothing. */
export function ImportModal({ client, opened, onClose, onImported }: Props) {
  const [source, setSource] = useState<Source>("file");
  const [file, setFile] = useState<File | null>(null);
  const [text, setText] = useState("");
  const [clash, setClash] = useState<Clash>("rename");
  const [report, setReport] = useState<ImportReport | null>(null);
  const [problems, setProblems] = useState<string[] | null>(null);
  const [busy, setBusy] = useState<"check" | "import" | null>(null);

  const ready = source === "file" ? file !== null : text.trim() !== "";
  // Whatever is changed, the last answer no longer speaks for it.
  const changed = <T,>(set: (value: T) => void) => (value: T) => {
    set(value);
    setReport(null);
    setProblems(null);
  };

  async function send(dryRun: boolean) {
    if (!ready) return;
    const upload = uploadOf(source === "file" && file ? { file } : { text });
    setBusy(dryRun ? "check" : "import");
    try {
      const answered = unwrap(
        await api.POST("/api/v1/clients/{client}/import", {
          params: { path: { client }, query: { clash, dry_run: dryRun, name: upload.name } },
          body: upload.body as never,
          bodySerializer: (body: unknown) => body as BodyInit,
          headers: { "Content-Type": upload.contentType },
        }),
      );
      setReport(answered);
      setProblems(null);
      if (!dryRun) onImported(answered);
    } catch (error) {
      setReport(null);
      setProblems(problemLines(error));
    } finally {
      setBusy(null);
    }
  }

  function close() {
    setFile(null);
    setText("");
    setReport(null);
    setProblems(null);
    onClose();
  }

  const written = report !== null && !report.dry_run;
  return (
    <Modal opened={opened} onClose={close} title="Import APIs" size="xl">
      <Stack>
        <Group>
          <SegmentedControl
            aria-label="Import from"
            value={source}
            onChange={changed((v: string) => setSource(v as Source))}
            data={[
              { value: "file", label: "File" },
              { value: "paste", label: "Paste text" },
            ]}
          />
        </Group>
        {source === "file" ? (
          <FileInput
            label="File"
            description="Callout YAML, a Postman collection, an OpenAPI description, a cURL command line (.txt, .sh) or a zip of Callout files"
            placeholder="Pick a file"
            accept={IMPORTED_FILES}
            clearable
            value={file}
            onChange={changed(setFile)}
          />
        ) : (
          <Textarea
            label="Text"
            description="A cURL command line (Copy as cURL in a browser's developer tools), or a whole YAML or JSON document"
            placeholder="curl https://api.example.com/customers/42 -H 'Accept: application/json'"
            autosize
            minRows={4}
            maxRows={14}
            styles={{ input: { fontFamily: "monospace" } }}
            value={text}
            onChange={(e) => changed(setText)(e.currentTarget.value)}
          />
        )}
        <div>
          <Text size="sm" fw={500}>
            When an API's name is taken
          </Text>
          <SegmentedControl
            aria-label="When an API's name is taken"
            value={clash}
            onChange={changed((v: string) => setClash(v as Clash))}
            data={[
              { value: "rename", label: "Rename the new one" },
              { value: "skip", label: "Skip it" },
              { value: "fail", label: "Refuse the import" },
            ]}
          />
        </div>
        {problems && (
          <Alert color="red" title="Not imported: nothing was written">
            <List size="sm">
              {problems.map((line, i) => (
                <List.Item key={i}>{line}</List.Item>
              ))}
            </List>
          </Alert>
        )}
        {report && <ImportReportView report={report} />}
        <Group justify="flex-end">
          <Button variant="default" onClick={close}>
            {written ? "Done" : "Cancel"}
          </Button>
          {!written && (
            <>
              <Button variant="light" onClick={() => send(true)} loading={busy === "check"} disabled={!ready || busy !== null}>
                Check
              </Button>
              <Button onClick={() => send(false)} loading={busy === "import"} disabled={!ready || busy !== null}>
                Import
              </Button>
            </>
          )}
        </Group>
      </Stack>
    </Modal>
  );
}
