import { AppShell, Button, CloseButton, Group, Modal, Stack, Tabs as TabStrip, Text, TextInput, Tooltip } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import { type ApiRead, type ApiSummary, api, describe, unwrap } from "../api/client";
import { ApiTab } from "./ApiTab";
import { ApiTree } from "./ApiTree";
import { ImportModal } from "./ImportModal";
import { type ImportReport, saveDownload } from "./interchange";
import { useLeaveGuard } from "../common/useLeaveGuard";
import { RequestTab } from "./RequestTab";
import { MAX_TABS, type Tab, type Tabs, apiTabKey, closeApi, closeTab, noTabs, openTab, requestTabKey, updateTab } from "./tabs";

type Selected = Pick<ApiSummary, "id" | "name" | "system">;

/** The API window: the client's and the system's APIs on the left, up to six tabs on the right. */
export function ApiWindow({ client, shown }: { client: string; shown: boolean }) {
  const queries = useQueryClient();
  const [tabs, setTabs] = useState<Tabs>(noTabs);
  const [selected, setSelected] = useState<Selected | null>(null);
  const [closing, setClosing] = useState<Tab | null>(null);
  const [copying, setCopying] = useState<{ api: Selected; name: string; error?: string } | null>(null);
  const [importing, setImporting] = useState(false);
  const saves = useRef(new Map<string, () => Promise<unknown>>());

  const open = useCallback((tab: Tab) => {
    const opened = openTab(tabs, tab);
    if (opened.refused) {
      notifications.show({ color: "red", title: "Too many tabs", message: `At most ${MAX_TABS} tabs can be open: close one first.` });
      return false;
    }
    setTabs(opened.tabs);
    return true;
  }, [tabs]);

  /** The toolbar acts on the API of the tab in front, as it does on the one picked in the lists. */
  const follow = useCallback((key: string | null) => {
    const tab = tabs.open.find((t) => t.key === key);
    if (!tab) return;
    const stored = queries.getQueryData<{ body: ApiRead }>([client, "api", tab.apiId])?.body;
    setSelected(stored ? { id: stored.id, name: stored.name, system: stored.system } : { id: tab.apiId, name: tab.title, system: false });
  }, [tabs, queries, client]);

  const openApi = useCallback((api: Selected) => {
    if (open({ kind: "api", key: apiTabKey(api.id), apiId: api.id, title: api.name, dirty: false })) setSelected(api);
  }, [open]);

  const openRequest = useCallback((api: Selected, requestId: number, name: string) => {
    if (open({ kind: "request", key: requestTabKey(api.id, requestId), apiId: api.id, requestId, title: name, dirty: false })) setSelected(api);
  }, [open]);

  const refreshLists = () => queries.invalidateQueries({ queryKey: [client] });

  /** Add and Copy open what they make: with six tabs open they make nothing. */
  function roomForATab(): boolean {
    if (tabs.open.length < MAX_TABS) return true;
    notifications.show({ color: "red", title: "Too many tabs", message: `At most ${MAX_TABS} tabs can be open: close one first.` });
    return false;
  }

  async function addApi() {
    if (!roomForATab()) return;
    try {
      const created = unwrap(await api.POST("/api/v1/clients/{client}/apis/new", { params: { path: { client } } }));
      notifications.show({ color: "teal", message: `API “${created.name}” added` });
      await refreshLists();
      openApi(created);
    } catch (error) {
      notifications.show({ color: "red", title: "API not added", message: describe(error) });
    }
  }

  async function addRequest() {
    if (!selected || !roomForATab()) return;
    try {
      const created = unwrap(
        await api.POST("/api/v1/clients/{client}/apis/{api_id}/requests/new", { params: { path: { client, api_id: selected.id } } }),
      );
      notifications.show({ color: "teal", message: `Request “${created.name}” added to “${selected.name}”` });
      await refreshLists();
      openRequest(selected, created.id, created.name);
    } catch (error) {
      notifications.show({ color: "red", title: "Request not added", message: describe(error) });
    }
  }

  async function startCopy(source: Selected) {
    if (!roomForATab()) return;
    try {
      const offer = unwrap(await api.GET("/api/v1/clients/{client}/apis/{api_id}/copy-name", { params: { path: { client, api_id: source.id } } }));
      setCopying({ api: source, name: offer.name });
    } catch (error) {
      notifications.show({ color: "red", title: "Cannot copy", message: describe(error) });
    }
  }

  async function copy() {
    if (!copying) return;
    try {
      const made: ApiRead = unwrap(
        await api.POST("/api/v1/clients/{client}/apis/{api_id}/copy", {
          params: { path: { client, api_id: copying.api.id } },
          body: { name: copying.name },
        }),
      );
      setCopying(null);
      notifications.show({ color: "teal", message: `Copied to “${made.name}”` });
      await refreshLists();
      openApi(made);
    } catch (error) {
      setCopying({ ...copying, error: describe(error) });
    }
  }

  /** The library changed: the lists show it, and the first API written opens in a tab. */
  async function imported(report: ImportReport) {
    await refreshLists();
    const first = report.apis.find((a) => a.id != null);
    if (first?.id != null) openApi({ id: first.id, name: first.name, system: false });
  }

  async function exportLibrary() {
    try {
      const answer = await api.GET("/api/v1/clients/{client}/export", { params: { path: { client } }, parseAs: "blob" });
      saveDownload(unwrap(answer) as Blob, answer.response, `${client}-apis.zip`);
    } catch (error) {
      notifications.show({ color: "red", title: "Library not exported", message: describe(error) });
    }
  }

  const active = tabs.open.find((t) => t.key === tabs.active) ?? null;
  const requestClose = (tab: Tab) => (tab.dirty ? setClosing(tab) : setTabs((t) => closeTab(t, tab.key)));

  // Ctrl+S saves the active tab while the window is shown; the browser's own save dialog is
  // kept out of the way.
  useEffect(() => {
    if (!shown) return;
    const onKey = (event: KeyboardEvent) => {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
        event.preventDefault();
        const save = tabs.active ? saves.current.get(tabs.active) : undefined;
        void save?.();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [tabs.active, shown]);
  useLeaveGuard(tabs.open.some((t) => t.dirty));

  const tabProps = (tab: Tab) => ({
    client,
    apiId: tab.apiId,
    onDirty: (dirty: boolean) => setTabs((t) => updateTab(t, tab.key, { dirty })),
    onTitle: (title: string) => {
      setTabs((t) => updateTab(t, tab.key, { title }));
      // A renamed API is named by its new name wherever the window shows the selection.
      if (tab.kind === "api") setSelected((s) => (s?.id === tab.apiId && s.name !== title ? { ...s, name: title } : s));
    },
    registerSave: (save: (() => Promise<unknown>) | null) => {
      if (save) saves.current.set(tab.key, save);
      else saves.current.delete(tab.key);
    },
  });

  return (
    <>
      <AppShell.Navbar p="sm">
        <ApiTree client={client} selected={selected?.id ?? null} onSelect={openApi} onOpenRequest={openRequest} />
      </AppShell.Navbar>
      <AppShell.Main>
        <Group mb="sm" gap="xs" role="toolbar" aria-label="API window">
          <Button size="xs" onClick={addApi}>
            Add API
          </Button>
          <Button size="xs" variant="light" onClick={() => setImporting(true)}>
            Import
          </Button>
          <Tooltip label={selected ? `Under “${selected.name}”` : "Select an API first"}>
            <Button size="xs" variant="light" onClick={addRequest} disabled={!selected || selected.system}>
              Add Request
            </Button>
          </Tooltip>
          <Button size="xs" variant="light" onClick={() => selected && startCopy(selected)} disabled={!selected}>
            Copy API
          </Button>
          <Button size="xs" variant="light" onClick={refreshLists}>
            Refresh
          </Button>
          <Button size="xs" variant="light" onClick={exportLibrary}>
            Export library
          </Button>
          <Button size="xs" variant="light" onClick={() => active && requestClose(active)} disabled={!active}>
            Close tab
          </Button>
          <Text size="xs" c="dimmed">
            {tabs.open.length} of {MAX_TABS} tabs open
          </Text>
        </Group>
        {tabs.open.length === 0 ? (
          <Text c="dimmed" mt="xl">
            Open an API or a request from the lists, or add one.
          </Text>
        ) : (
          <TabStrip
            value={tabs.active}
            onChange={(key) => {
              setTabs((t) => ({ ...t, active: key }));
              follow(key);
            }}
            keepMounted
          >
            <TabStrip.List>
              {tabs.open.map((tab) => (
                <TabStrip.Tab
                  key={tab.key}
                  value={tab.key}
                  rightSection={<CloseButton size="xs" component="span" aria-label={`Close ${tab.title}`} onClick={(e) => { e.stopPropagation(); requestClose(tab); }} />}
                >
                  {tab.kind === "request" ? "↳ " : ""}
                  {tab.title}
                  {tab.dirty ? " •" : ""}
                </TabStrip.Tab>
              ))}
            </TabStrip.List>
            {tabs.open.map((tab) => (
              <TabStrip.Panel key={tab.key} value={tab.key} pt="md">
                {tab.kind === "api" ? (
                  <ApiTab
                    {...tabProps(tab)}
                    onDeleted={() => {
                      setTabs((t) => closeApi(t, tab.apiId));
                      setSelected(null);
                      void refreshLists();
                    }}
                    onCopy={() => startCopy({ id: tab.apiId, name: tab.title, system: false })}
                  />
                ) : (
                  <RequestTab
                    {...tabProps(tab)}
                    requestId={tab.requestId}
                    onDeleted={() => {
                      setTabs((t) => closeTab(t, tab.key));
                      void refreshLists();
                    }}
                  />
                )}
              </TabStrip.Panel>
            ))}
          </TabStrip>
        )}
      </AppShell.Main>

      <ImportModal client={client} opened={importing} onClose={() => setImporting(false)} onImported={imported} />

      <Modal opened={closing !== null} onClose={() => setClosing(null)} title="Close with unsaved edits?">
        <Text size="sm">“{closing?.title}” has edits that are not saved. Closing drops them.</Text>
        <Group justify="flex-end" mt="md">
          <Button variant="default" onClick={() => setClosing(null)}>
            Keep editing
          </Button>
          <Button
            color="red"
            onClick={() => {
              if (closing) setTabs((t) => closeTab(t, closing.key));
              setClosing(null);
            }}
          >
            Close and drop edits
          </Button>
        </Group>
      </Modal>

      <Modal opened={copying !== null} onClose={() => setCopying(null)} title={`Copy “${copying?.api.name}”`}>
        <form onSubmit={(e) => { e.preventDefault(); void copy(); }}>
          <Stack>
            <TextInput
              label="Name of the copy"
              data-autofocus
              value={copying?.name ?? ""}
              error={copying?.error}
              onChange={(e) => copying && setCopying({ ...copying, name: e.currentTarget.value, error: undefined })}
            />
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setCopying(null)}>
                Cancel
              </Button>
              <Button type="submit">Copy</Button>
            </Group>
          </Stack>
        </form>
      </Modal>
    </>
  );
}
