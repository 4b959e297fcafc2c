import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import { ProblemError, describe } from "../api/client";

export interface Loaded<T> {
  body: T;
  etag: string;
}

interface Options<T, D> {
  queryKey: unknown[];
  load: () => Promise<Loaded<T>>;
  toDraft: (body: T) => D;
  save: (draft: D, etag: string) => Promise<Loaded<T>>;
  onDirty: (dirty: boolean) => void;
}

/** A tab's editing state: the stored object, the draft being edited, and what a save answered.
 *
 * The draft starts from the stored object and follows it after a refresh while it has no
 * edits. A save sends the ETag it was read with; when someone else saved first (412) the tab
 * says so and offers to reload, and never overwrites. */
export function useEditor<T, D>({ queryKey, load, toDraft, save, onDirty }: Options<T, D>) {
  const queries = useQueryClient();
  const stored = useQuery({ queryKey, queryFn: load });
  const [draft, setDraftState] = useState<D | null>(null);
  const [dirty, setDirty] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [stale, setStale] = useState(false);
  const [saving, setSaving] = useState(false);
  const etag = useRef("");

  useEffect(() => {
    if (stored.data && !dirty) {
      setDraftState(toDraft(stored.data.body));
      etag.current = stored.data.etag;
    }
    // The draft follows the stored object only while nothing is edited.
  }, [stored.data]);

  useEffect(() => onDirty(dirty), [dirty, onDirty]);

  const setDraft = useCallback((change: (draft: D) => D) => {
    setDraftState((d) => (d === null ? d : change(d)));
    setDirty(true);
  }, []);

  const submit = useCallback(async (): Promise<T | null> => {
    if (draft === null) return null;
    setSaving(true);
    try {
      const saved = await save(draft, etag.current);
      etag.current = saved.etag;
      queries.setQueryData(queryKey, saved);
      setDraftState(toDraft(saved.body));
      setDirty(false);
      setErrors({});
      setFailure(null);
      return saved.body;
    } catch (error) {
      if (error instanceof ProblemError && error.status === 412) setStale(true);
      setErrors(error instanceof ProblemError ? error.fields : {});
      setFailure(describe(error));
      return null;
    } finally {
      setSaving(false);
    }
  }, [draft, save, queries, queryKey, toDraft]);

  /** Drop the edits and read the stored object again. */
  const reload = useCallback(async () => {
    setDirty(false);
    setStale(false);
    setErrors({});
    setFailure(null);
    const fresh = await stored.refetch();
    if (fresh.data) {
      setDraftState(toDraft(fresh.data.body));
      etag.current = fresh.data.etag;
    }
  }, [stored, toDraft]);

  return { stored, draft, setDraft, dirty, errors, failure, setFailure, stale, saving, submit, reload, etag };
}
