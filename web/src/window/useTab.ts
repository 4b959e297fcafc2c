import { notifications } from "@mantine/notifications";
import { useCallback, useEffect } from "react";
import { describe } from "../api/client";
import type { TabProps } from "./ApiTab";

interface Editor<T> {
  stored: { data?: { body: T } };
  submit: () => Promise<T | null>;
  setFailure: (failure: string | null) => void;
}

interface Options {
  /** What the tab holds, for its messages: "API", "Request". */
  what: string;
  readOnly: boolean;
  /** The delete, sent with the ETag the tab read. */
  remove: () => Promise<unknown>;
}

/** What an API tab and a Request tab share: the title follows the name, Save (and Ctrl+S,
 * through `registerSave`) reports what it saved, Delete reports what it deleted or why not. */
export function useTab<T extends { name: string }>(editor: Editor<T>, tab: Omit<TabProps, "client" | "apiId">, { what, readOnly, remove }: Options) {
  const read = editor.stored.data?.body;
  const { onTitle, registerSave, onDeleted } = tab;

  useEffect(() => {
    if (read) onTitle(read.name);
  }, [read, onTitle]);

  const save = useCallback(async () => {
    const saved = await editor.submit();
    if (saved) notifications.show({ color: "teal", message: `${what} “${saved.name}” saved` });
  }, [editor, what]);

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
