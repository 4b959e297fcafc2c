import { type Effect, NEW_DESKTOP, applied } from "./desktop";

describe("the desktop a fire's effects leave", () => {
  it("fills fields, switches the page and loads a component, in the server's order", () => {
    const effects: Effect[] = [
      { kind: "set_field", field: "customerId", value: "C-1001" },
      { kind: "set_field", field: "balance", value: 1250.5 },
      { kind: "alert", message: "Ann Example is overdue" },
      { kind: "pop_url", url: "https://crm.example.com/customers/C-1001" },
      { kind: "show_page", page: "Customer" },
      { kind: "load_component", page: "Customer", component: "Notes" },
      { kind: "set_field", field: "balance", value: 0 },
    ];
    expect(applied(NEW_DESKTOP, effects)).toEqual({
      fields: { customerId: "C-1001", balance: 0 },
      page: "Customer",
      loaded: { page: "Customer", component: "Notes" },
      alerts: ["Ann Example is overdue"],
      popped: ["https://crm.example.com/customers/C-1001"],
    });
  });

  it("keeps fields and the page from fire to fire, but shows each alert and URL once", () => {
    const first = applied(NEW_DESKTOP, [
      { kind: "set_field", field: "agentName", value: "Ada" },
      { kind: "alert", message: "Welcome" },
      { kind: "show_page", page: "Home" },
    ]);
    const second = applied(first, [{ kind: "set_field", field: "customerId", value: "C-1" }]);
    expect(second).toEqual({ fields: { agentName: "Ada", customerId: "C-1" }, page: "Home", loaded: null, alerts: [], popped: [] });
    expect(first.fields).toEqual({ agentName: "Ada" });
    expect(NEW_DESKTOP.fields).toEqual({});
  });
});
