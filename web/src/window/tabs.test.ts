import { MAX_TABS, apiTabKey, closeApi, closeTab, noTabs, openTab, requestTabKey, type Tab, updateTab } from "./tabs";

const apiTab = (id: number): Tab => ({ kind: "api", key: apiTabKey(id), apiId: id, title: `API ${id}`, dirty: false });

describe("tabs", () => {
  it("opens up to six and refuses a seventh, leaving the six as they were", () => {
    let tabs = noTabs;
    for (let id = 1; id <= MAX_TABS; id++) {
      const opened = openTab(tabs, apiTab(id));
      expect(opened.refused).toBe(false);
      tabs = opened.tabs;
    }
    const seventh = openTab(tabs, apiTab(7));
    expect(seventh.refused).toBe(true);
    expect(seventh.tabs).toBe(tabs);
    expect(tabs.open.map((t) => t.apiId)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("brings an open tab forward instead of opening it twice, even when six are open", () => {
    let tabs = noTabs;
    for (let id = 1; id <= MAX_TABS; id++) tabs = openTab(tabs, apiTab(id)).tabs;
    const again = openTab(tabs, apiTab(2));
    expect(again.refused).toBe(false);
    expect(again.tabs.active).toBe(apiTabKey(2));
    expect(again.tabs.open).toHaveLength(MAX_TABS);
  });

  it("closing the active tab activates its neighbour", () => {
    let tabs = noTabs;
    for (const id of [1, 2, 3]) tabs = openTab(tabs, apiTab(id)).tabs;
    tabs = { ...tabs, active: apiTabKey(2) };
    expect(closeTab(tabs, apiTabKey(2)).active).toBe(apiTabKey(3));
    expect(closeTab(closeTab(tabs, apiTabKey(3)), apiTabKey(2)).active).toBe(apiTabKey(1));
  });

  it("closing an API closes its request tabs, and marks follow the tab", () => {
    let tabs = openTab(noTabs, apiTab(1)).tabs;
    tabs = openTab(tabs, { kind: "request", key: requestTabKey(1, 9), apiId: 1, requestId: 9, title: "Get", dirty: false }).tabs;
    tabs = openTab(tabs, apiTab(2)).tabs;
    tabs = updateTab(tabs, requestTabKey(1, 9), { dirty: true });
    expect(tabs.open.find((t) => t.key === requestTabKey(1, 9))?.dirty).toBe(true);
    expect(updateTab(tabs, requestTabKey(1, 9), { dirty: true })).toBe(tabs);
    expect(closeApi(tabs, 1).open.map((t) => t.key)).toEqual([apiTabKey(2)]);
  });
});
