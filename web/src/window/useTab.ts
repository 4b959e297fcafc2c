import { notifications } from "@mantine/notifications";
import { useCallback, useEffect } from "react";
import { describe } from "../api/client";
import type { TabProps } from "./ApiTab";

interface Editor<T> {
  stored: { data?: { body: T } };
  dirty: boolean;
  submit: () => Promise<T | null>;
  setFailure: (failure: string | null) => void;
}

interface Options {
  /** What the tab holds, for its messages: "API", "Request". */
  what: string;
  readOnly: boolean;
  /** The delete, sent with the ETag the tab read. */
  remove: () => Promise<unknown>;
  /** After a save: what lists the object must read again (its name may have changed). */
  saved: () => void;
}

/** What an API tab and a Request tab share: the title follows the name, Save (and Ctrl+S,
 * through `registerSave`) reports what it saved, Delete reports what it deleted or why not. */
export function useTab<T extends { name: string }>(editor: Editor<T>, tab: Omit<TabProps, "client" | "apiId">, { what, readOnly, remove, saved: refresh }: Options) {
  const read = editor.stored.data?.body;
  const { onTitle, registerSave, onDeleted } = tab;

  useEffect(() => {
    if (read) onTitle(read.name);
  }, [read, onTitle]);

  const save = useCallback(async () => {
    if (!editor.dirty) return;
    const saved = await editor.submit();
    if (!saved) return;
    notifications.show({ color: "teal", message: `${what} “${saved.name}” saved` });
    refresh();
  }, [editor, what, refresh]);

  useEffect(() => {
    registerSave(readOnly ? null : save);
    return () => registerSave(null);
  }, [registerSave, save, readOnly]);

  const deleteIt = useCallback(async () => {
    try {
      await remove();
      notifications.show({ color: "teal", message: `${what} “${read?.name}” deleted` });
      onDeleted();
    } catch (error) {
      editor.setFailure(describe(error));
    }
  }, [remove, what, read, onDeleted, editor]);

  return { save, deleteIt };
}
