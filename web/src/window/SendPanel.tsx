import { Alert, Badge, Button, Code, CopyButton, Group, Paper, SegmentedControl, Select, Stack, Table, Tabs, Text, TextInput, Title } from "@mantine/core";
import { lazy, Suspense, useEffect, useRef, useState } from "react";
import { type RequestRead, type TracedResult, api, describe, unwrap } from "../api/client";
import { CONTEXT_ROOTS } from "../editor/placeholders";
import { typed, type ValueType } from "./values";

const TemplateEditor = lazy(() => import("../editor/TemplateEditor"));

type Mode = "live" | "dry_run" | "mock";

const EMPTY_CONTEXT = JSON.stringify(Object.fromEntries(CONTEXT_ROOTS.map((root) => [root, {}])), null, 2);

/** Sends the saved request through the test route and shows what came back, step by step. */
export function SendPanel({ client, apiId, request, unsaved }: { client: string; apiId: number; request: RequestRead; unsaved: boolean }) {
  const [values, setValues] = useState<Record<string, string>>({});
  const [context, setContext] = useState(EMPTY_CONTEXT);
  const [mode, setMode] = useState<Mode>("live");
  const [sample, setSample] = useState<string | null>(null);
  const [result, setResult] = useState<TracedResult | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const [curl, setCurl] = useState<string | null>(null);
  const parameters = request.parameters ?? [];
  const shown = useRef<HTMLDivElement>(null);

  // The answer is what the user waits for: bring it into view when it comes.
  useEffect(() => {
    if (result || failure) shown.current?.scrollIntoView?.({ behavior: "smooth", block: "nearest" });
  }, [result, failure]);

  async function test(asMode: Mode): Promise<TracedResult | null> {
    let parsedContext: Record<string, unknown>;
    try {
      parsedContext = JSON.parse(context || "{}");
    } catch (error) {
      setFailure(`Context is not valid JSON: ${(error as Error).message}`);
      return null;
    }
    const body = {
      parameters: Object.fromEntries(
        parameters.flatMap((p) => {
          const value = typed(p.type as ValueType, values[p.name] ?? "");
          return value === undefined ? [] : [[p.name, value]];
        }),
      ),
      context: parsedContext,
      mode: asMode,
      sample: asMode === "mock" ? sample : null,
    };
    setFailure(null);
    return unwrap(
      await api.POST("/api/v1/clients/{client}/apis/{api_id}/requests/{request_id}/test", {
        params: { path: { client, api_id: apiId, request_id: request.id } },
        body: body as never,
      }),
    );
  }

  async function send() {
    setSending(true);
    try {
      const answered = await test(mode);
      if (answered) setResult(answered);
    } catch (error) {
      setResult(null);
      setFailure(describe(error));
    } finally {
      setSending(false);
    }
  }

  async function copyAsCurl() {
    try {
      const rendered = await test("dry_run");
      if (!rendered?.request) return;
      // The server writes the line (`callout send --curl` prints the same), secrets masked.
      const line = rendered.request.curl;
      setCurl(line);
      // Copied at once; where the browser refuses the clipboard, the line is there to select.
      await navigator.clipboard?.writeText(line).catch(() => undefined);
    } catch (error) {
      setFailure(describe(error));
    }
  }

  return (
    <Paper
      withBorder
      p="md"
      onKeyDown={(e) => {
        if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
          e.preventDefault();
          void send();
        }
      }}
    >
      <Stack>
        <Group justify="space-between">
          <Title order={4}>Send</Title>
          <SegmentedControl
            size="xs"
            value={mode}
            onChange={(v) => setMode(v as Mode)}
            data={[
              { value: "live", label: "Live" },
              { value: "dry_run", label: "Dry run" },
              { value: "mock", label: "Mock" },
            ]}
          />
        </Group>
        {unsaved && (
          <Text size="sm" c="orange">
            Send uses the saved request: save your edits first.
          </Text>
        )}
        {parameters.map((p) => (
          <TextInput
            key={p.name}
            label={`${p.name}${p.required ? " *" : ""}`}
            description={[p.type, p.description].filter(Boolean).join(" · ")}
            placeholder={p.default != null ? String(p.default) : undefined}
            type={p.secret ? "password" : "text"}
            value={values[p.name] ?? ""}
            onChange={(e) => setValues({ ...values, [p.name]: e.currentTarget.value })}
          />
        ))}
        {mode === "mock" && (
          <Select label="Sample response" data={(request.samples ?? []).map((s) => s.name)} value={sample} onChange={setSample} placeholder="The first" clearable />
        )}
        <div>
          <Text size="sm" fw={500}>
            Context
          </Text>
          <Suspense fallback={<Code block>{context}</Code>}>
            <TemplateEditor label="Context" value={context} language="json" onChange={setContext} minHeight="80px" />
          </Suspense>
        </div>
        <Group>
          <Button onClick={send} loading={sending}>
            Send
          </Button>
          <Text size="xs" c="dimmed">
            Ctrl+Enter
          </Text>
          <Button variant="subtle" onClick={copyAsCurl}>
            Copy as cURL
          </Button>
        </Group>
        {curl && (
          <Stack gap={4}>
            <Code block aria-label="cURL">
              {curl}
            </Code>
            <CopyButton value={curl}>{({ copied, copy }) => <Button size="compact-xs" variant="light" onClick={copy}>{copied ? "Copied" : "Copy"}</Button>}</CopyButton>
          </Stack>
        )}
        <div ref={shown}>
          {failure && (
            <Alert color="red" title="Not sent">
              {failure}
            </Alert>
          )}
          {result && <ResultView result={result} />}
        </div>
      </Stack>
    </Paper>
  );
}

function pretty(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

function ResultView({ result }: { result: TracedResult }) {
  const color = result.outcome === "success" ? "teal" : result.outcome === "timeout" ? "orange" : "red";
  const headers = (rows: { name: string; value: string }[]) => (
    <Table fz="xs">
      <Table.Tbody>
        {rows.map((h, i) => (
          <Table.Tr key={i}>
            <Table.Td fw={600}>{h.name}</Table.Td>
            <Table.Td style={{ wordBreak: "break-all" }}>{h.value}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
  return (
    <Stack gap="xs" aria-label="Result">
      <Group>
        <Badge color={color} aria-label="Outcome">
          {result.outcome}
        </Badge>
        {result.status != null && <Text size="sm" aria-label="Status">{`HTTP ${result.status}`}</Text>}
        <Text size="sm" c="dimmed">
          {result.duration_ms.toFixed(1)} ms
        </Text>
        {result.reason && <Text size="sm">{result.reason}</Text>}
      </Group>
      {result.message && <Text size="sm">{result.message}</Text>}
      {(result.alerts ?? []).map((alert, i) => (
        <Alert key={i} color="blue" title="Alert">
          {alert}
        </Alert>
      ))}
      {(result.warnings ?? []).map((warning, i) => (
        <Text key={i} size="sm" c="orange">
          {warning}
        </Text>
      ))}
      <Tabs defaultValue="outputs">
        <Tabs.List>
          <Tabs.Tab value="outputs">Outputs</Tabs.Tab>
          <Tabs.Tab value="body">Body</Tabs.Tab>
          <Tabs.Tab value="headers">Headers</Tabs.Tab>
          <Tabs.Tab value="trace">Trace</Tabs.Tab>
          <Tabs.Tab value="sent">Request sent</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="outputs" pt="xs">
          <Table fz="sm" aria-label="Mapped outputs">
            <Table.Tbody>
              {Object.entries(result.outputs ?? {}).map(([name, value]) => (
                <Table.Tr key={name}>
                  <Table.Td fw={600}>{name}</Table.Td>
                  <Table.Td>{typeof value === "string" ? value : JSON.stringify(value)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Tabs.Panel>
        <Tabs.Panel value="body" pt="xs">
          <Code block aria-label="Response body">
            {result.response ? pretty(result.response.body) : "No response"}
          </Code>
          {result.response?.truncated && <Text size="xs" c="dimmed">Cut at the trace's limit.</Text>}
        </Tabs.Panel>
        <Tabs.Panel value="headers" pt="xs">
          {result.response ? headers(result.response.headers) : <Text size="sm">No response</Text>}
        </Tabs.Panel>
        <Tabs.Panel value="trace" pt="xs">
          <Table fz="xs" aria-label="Trace steps">
            <Table.Tbody>
              {(result.steps ?? []).map((step, i) => (
                <Table.Tr key={i}>
                  <Table.Td fw={600}>{step.name}</Table.Td>
                  <Table.Td>{step.duration_ms.toFixed(2)} ms</Table.Td>
                  <Table.Td style={{ wordBreak: "break-all" }}>{step.detail}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Tabs.Panel>
        <Tabs.Panel value="sent" pt="xs">
          {result.request ? (
            <Stack gap={4}>
              <Code>{`${result.request.method} ${result.request.url}`}</Code>
              {headers(result.request.headers)}
              {result.request.body && <Code block>{pretty(result.request.body)}</Code>}
            </Stack>
          ) : (
            <Text size="sm">Nothing was sent</Text>
          )}
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
