/** The API window's open tabs: API tabs and Request tabs, at most MAX_TABS at once. */

export const MAX_TABS = 6;

export type Tab =
  | { kind: "api"; key: string; apiId: number; title: string; dirty: boolean }
  | { kind: "request"; key: string; apiId: number; requestId: number; title: string; dirty: boolean };

export interface Tabs {
  open: Tab[];
  active: string | null;
}

export const noTabs: Tabs = { open: [], active: null };

export const apiTabKey = (apiId: number) => `api:${apiId}`;
export const requestTabKey = (apiId: number, requestId: number) => `request:${apiId}:${requestId}`;

export type Opened = { tabs: Tabs; refused: false } | { tabs: Tabs; refused: true };

/** Open a tab, or bring it forward when it is open already; a seventh is refused. */
export function openTab(tabs: Tabs, tab: Tab): Opened {
  if (tabs.open.some((t) => t.key === tab.key)) return { tabs: { ...tabs, active: tab.key }, refused: false };
  if (tabs.open.length >= MAX_TABS) return { tabs, refused: true };
  return { tabs: { open: [...tabs.open, tab], active: tab.key }, refused: false };
}

/** Close a tab; the one beside it becomes active. */
export function closeTab(tabs: Tabs, key: string): Tabs {
  const index = tabs.open.findIndex((t) => t.key === key);
  if (index < 0) return tabs;
  const open = tabs.open.filter((t) => t.key !== key);
  const active = tabs.active === key ? (open[Math.min(index, open.length - 1)]?.key ?? null) : tabs.active;
  return { open, active };
}

/** Close every tab of an API (it was deleted), its request tabs included. */
export function closeApi(tabs: Tabs, apiId: number): Tabs {
  return tabs.open.filter((t) => t.apiId === apiId).reduce((left, t) => closeTab(left, t.key), tabs);
}

/** A tab's title or mark changed; the same object when nothing did, so React re-renders nothing. */
export function updateTab(tabs: Tabs, key: string, change: Partial<Pick<Tab, "title" | "dirty">>): Tabs {
  const tab = tabs.open.find((t) => t.key === key);
  if (!tab || Object.entries(change).every(([k, v]) => tab[k as keyof typeof change] === v)) return tabs;
  const open = tabs.open.map((t) => (t.key === key ? ({ ...t, ...change } as Tab) : t));
  return { ...tabs, open };
}
