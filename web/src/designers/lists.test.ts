import { choices, itemErrors, moved, openAfterRemoval, removed, replaced } from "./lists";

describe("ordered lists", () => {
  it("moves an item one place up or down, and leaves the ends as they are", () => {
    const list = ["a", "b", "c"];
    expect(moved(list, 1, -1)).toEqual(["b", "a", "c"]);
    expect(moved(list, 1, 1)).toEqual(["a", "c", "b"]);
    expect(moved(list, 0, -1)).toEqual(list);
    expect(moved(list, 2, 1)).toEqual(list);
    expect(list).toEqual(["a", "b", "c"]);
  });

  it("replaces and removes by position", () => {
    expect(replaced(["a", "b"], 1, "x")).toEqual(["a", "x"]);
    expect(removed(["a", "b", "c"], 0)).toEqual(["b", "c"]);
  });

  it("keeps the same items open when one before them is removed", () => {
    expect(openAfterRemoval(["0", "2", "3"], 2)).toEqual(["0", "2"]);
    expect(openAfterRemoval(["1"], 0)).toEqual(["0"]);
    expect(openAfterRemoval(["0"], 1)).toEqual(["0"]);
  });

  it("finds an item's errors under its position, not under a longer one", () => {
    const errors = { "[1].name": "taken", "[1].actions[0].url": "not absolute", "[10].name": "other", "[1]": "whole item" };
    expect(itemErrors(errors, 1)).toEqual({ name: "taken", "actions[0].url": "not absolute", "": "whole item" });
  });

  it("offers each name once, blanks left out", () => {
    expect(choices(["Home", "", "Customer", "Home", " "])).toEqual(["Home", "Customer"]);
  });
});
