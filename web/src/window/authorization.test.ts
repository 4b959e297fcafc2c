import { MASK } from "../api/client";
import { authorizationInput, offeredTypes } from "./authorization";

describe("authorization", () => {
  it("offers LiveVox only while the base URL names livevox, and keeps it on an API that has it", () => {
    expect(offeredTypes("https://crm.example.com", "none")).not.toContain("livevox");
    expect(offeredTypes("https://api.LiveVox.com/v1", "none")).toContain("livevox");
    expect(offeredTypes("https://crm.example.com", "livevox")).toContain("livevox");
  });

  it("sends back the type's input fields, the mask included, and drops what only a read carries", () => {
    const read = { type: "basic", username: "ann", password: MASK, has_password: true };
    expect(authorizationInput(read)).toEqual({ type: "basic", username: "ann", password: MASK });
    expect(authorizationInput(null)).toEqual({ type: "none" });
  });
});
