import { NEW_CONTACT, contextOf, contextValue } from "./contact";

describe("the contact's context", () => {
  it("reads a value as JSON when it is JSON, and as text otherwise", () => {
    expect(contextValue("42")).toBe(42);
    expect(contextValue("true")).toBe(true);
    expect(contextValue('{"vip": true}')).toEqual({ vip: true });
    expect(contextValue('"017"')).toBe("017");
    expect(contextValue("+15550100")).toBe("+15550100");
    expect(contextValue("017")).toBe("017");
    expect(contextValue("")).toBe("");
  });

  it("sends the enabled, named rows and the fields the desktop holds", () => {
    const contact = {
      ...NEW_CONTACT,
      loginData: [{ name: "agentId", value: "agent-17", enabled: true }, { name: "skill", value: "sales", enabled: false }, { name: " ", value: "x" }],
      call: [{ name: "ani", value: "+15550100" }],
      account: [{ name: "balance", value: "1250.5", enabled: true }],
    };
    expect(contextOf(contact, { customerId: "C-1001" })).toEqual({
      loginData: { agentId: "agent-17" },
      call: { ani: "+15550100" },
      account: { balance: 1250.5 },
      fields: { customerId: "C-1001" },
    });
  });
});
