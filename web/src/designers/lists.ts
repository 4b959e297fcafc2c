/** Ordered lists edited in place: conditions and actions run in their order, so moving one
 * up or down is an edit of its own. Each returns a new list and leaves the old one alone. */
import { under } from "../common/Rows";

/** The list with the item at `index` moved one place (-1 up, +1 down); unchanged at an end. */
export function moved<T>(items: readonly T[], index: number, by: -1 | 1): T[] {
  const to = index + by;
  if (index < 0 || index >= items.length || to < 0 || to >= items.length) return [...items];
  const copy = [...items];
  [copy[index], copy[to]] = [copy[to] as T, copy[index] as T];
  return copy;
}

export function replaced<T>(items: readonly T[], index: number, item: T): T[] {
  return items.map((old, i) => (i === index ? item : old));
}

export function removed<T>(items: readonly T[], index: number): T[] {
  return items.filter((_, i) => i !== index);
}

/** Which items stay open (an accordion's values: positions as text) once the item at
 * `index` is removed: those after it move up one place. */
export function openAfterRemoval(open: readonly string[], index: number): string[] {
  return open.filter((v) => Number(v) !== index).map((v) => (Number(v) > index ? String(Number(v) - 1) : v));
}

/** The errors of the list's item at `index`, by path under it: `[2].name` -> `name`. */
export const itemErrors = (errors: Record<string, string>, index: number) => under(errors, `[${index}]`);

/** Names to offer in a select: each once, blanks left out (a select cannot hold one twice). */
export function choices(names: Iterable<string>): string[] {
  return [...new Set([...names].filter((n) => n.trim() !== ""))];
}
