import { autocompletion } from "@codemirror/autocomplete";
import { json } from "@codemirror/lang-json";
import { xml } from "@codemirror/lang-xml";
import { Prec, RangeSetBuilder } from "@codemirror/state";
import { Decoration, type DecorationSet, EditorView, keymap, ViewPlugin, type ViewUpdate } from "@codemirror/view";
import CodeMirror from "@uiw/react-codemirror";
import { useMemo } from "react";
import { placeholderCompletions, placeholderSpans } from "./placeholders";

const mark = Decoration.mark({ class: "cm-placeholder" });

/** Marks every `${...}` so a template's holes stand out from its literal text. */
const highlightPlaceholders = ViewPlugin.fromClass(
  class {
    decorations: DecorationSet;
    constructor(view: EditorView) {
      this.decorations = this.build(view);
    }
    update(update: ViewUpdate) {
      if (update.docChanged || update.viewportChanged) this.decorations = this.build(update.view);
    }
    build(view: EditorView): DecorationSet {
      const builder = new RangeSetBuilder<Decoration>();
      for (const { from, to } of view.visibleRanges) {
        for (const span of placeholderSpans(view.state.doc.sliceString(from, to))) builder.add(from + span.from, from + span.to, mark);
      }
      return builder.finish();
    }
  },
  { decorations: (plugin) => plugin.decorations },
);

// Inside a JSON string the string's own colour is on an inner span: the mark's wins over it.
const theme = EditorView.baseTheme({
  ".cm-placeholder, .cm-placeholder *": { color: "#5f3dc4 !important", fontWeight: "600" },
  ".cm-placeholder": { backgroundColor: "#e5dbff", borderRadius: "3px" },
});

// Ctrl+Enter sends (the Send panel listens for it); it must not also insert a line.
const sendKey = Prec.highest(keymap.of([{ key: "Mod-Enter", run: () => true }]));

interface Props {
  value: string;
  onChange: (value: string) => void;
  language: "json" | "xml" | "text";
  parameters?: readonly string[];
  label: string;
  readOnly?: boolean;
  minHeight?: string;
}

/** A body or context editor: JSON or XML highlighting, `${...}` marked and completed. */
export default function TemplateEditor({ value, onChange, language, parameters = [], label, readOnly, minHeight = "120px" }: Props) {
  const extensions = useMemo(
    () => [
      ...(language === "json" ? [json()] : language === "xml" ? [xml()] : []),
      highlightPlaceholders,
      theme,
      sendKey,
      autocompletion({ override: [placeholderCompletions(parameters)] }),
      EditorView.contentAttributes.of({ "aria-label": label }),
    ],
    [language, parameters, label],
  );
  return <CodeMirror value={value} onChange={onChange} extensions={extensions} readOnly={readOnly} minHeight={minHeight} basicSetup={{ foldGutter: false }} />;
}
