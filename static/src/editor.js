// The code editor (CodeMirror 6): one editor, a language per `mode`, each language's code kept in
// localStorage, and compiler/runtime diagnostics shown as underlines plus a list under the editor.
//
// Module functions (no globals): initEditor, getCode, setCode, getLanguage, setLanguage,
// loadProgram, setReadOnly, setPersist, markDiagnostics, clearDiagnostics, getCursor, focusEditor.
//
// A shared program (a share link, an embed) is shown with `persist: false`, so that it never
// overwrites the code a person keeps in this browser, until they choose to edit a copy.

import { EditorView, basicSetup } from "codemirror";
import { Compartment, EditorState, Prec } from "@codemirror/state";
import { keymap } from "@codemirror/view";
import { indentWithTab } from "@codemirror/commands";
import { indentUnit, StreamLanguage } from "@codemirror/language";
import { lintGutter, setDiagnostics } from "@codemirror/lint";
import { python } from "@codemirror/lang-python";
import { cpp } from "@codemirror/lang-cpp";
import { javascript } from "@codemirror/lang-javascript";
import { java } from "@codemirror/lang-java";
import { ruby } from "@codemirror/legacy-modes/mode/ruby";
import { shell } from "@codemirror/legacy-modes/mode/shell";
import { oneDark } from "@codemirror/theme-one-dark";

const STORAGE_LANGUAGE = "codyskool.language";
const STORAGE_CODE = "codyskool.code."; // + language id
const DEFAULT_LANGUAGE = "python";

const modes = {
  python: () => [python(), indentUnit.of("    ")],
  c: () => [cpp(), indentUnit.of("    ")],
  cpp: () => [cpp(), indentUnit.of("    ")],
  javascript: () => [javascript(), indentUnit.of("  ")],
  java: () => [java(), indentUnit.of("    ")],
  ruby: () => [StreamLanguage.define(ruby), indentUnit.of("  ")],
  shell: () => [StreamLanguage.define(shell), indentUnit.of("  ")],
};

const languageConf = new Compartment();
const themeConf = new Compartment();
const readOnlyConf = new Compartment();

let view = null;
let languages = new Map(); // id -> language dict from the server
let current = null; // current language id
let select = null;
let diagnosticsList = null;
let hasDiagnostics = false;
let saveTimer = 0;
let persist = true; // keep the code in localStorage
let readOnly = false;
const unsaved = new Map(); // language id -> code, while not persisting
let options = { onRun: () => {}, onChange: () => {}, onLanguage: () => {}, onReadOnlyInput: () => {} };

function storageGet(key) {
  if (!persist) return key.startsWith(STORAGE_CODE) ? unsaved.get(key) ?? null : null;
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

function storageSet(key, value) {
  if (!persist) {
    if (key.startsWith(STORAGE_CODE)) unsaved.set(key, value);
    return;
  }
  try {
    window.localStorage.setItem(key, value);
  } catch {
    // storage full or disabled: the code just does not survive a reload
  }
}

function templateFor(id) {
  const lang = languages.get(id);
  const templates = (lang && lang.templates) || {};
  return templates.input || templates.hello || "";
}

function modeExtension(id) {
  const lang = languages.get(id);
  const make = lang && modes[lang.mode];
  return make ? make() : [];
}

const darkQuery = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
let forcedTheme = ""; // "light" or "dark" overrides the system's preference
const themeFor = () => {
  const dark = forcedTheme ? forcedTheme === "dark" : darkQuery && darkQuery.matches;
  return dark ? oneDark : [];
};

const readOnlyExtension = (on) => (on ? [EditorState.readOnly.of(true)] : []);

const baseTheme = EditorView.theme({
  "&": { height: "100%", fontSize: "14px" },
  ".cm-scroller": {
    fontFamily: "var(--mono)",
    lineHeight: "1.5",
    overflow: "auto",
  },
  ".cm-content": { paddingBottom: "2em" },
});

/**
 * @param {{parent: HTMLElement, languages: object[], select?: HTMLSelectElement,
 *          diagnostics?: HTMLElement, onRun?: () => void, onChange?: () => void,
 *          onLanguage?: (id: string) => void, onReadOnlyInput?: () => void,
 *          persist?: boolean, readOnly?: boolean, theme?: "light" | "dark" | "",
 *          program?: {language: string, code: string}, styleNonce?: string}} config
 *   `program` opens that program instead of the one kept in the browser; `persist: false` keeps
 *   changes in memory only; `onReadOnlyInput` is called when someone types while read-only;
 *   `styleNonce` is the CSP nonce CodeMirror's <style> elements need to apply.
 */
export function initEditor(config) {
  options = { ...options, ...config };
  languages = new Map(config.languages.map((lang) => [lang.id, lang]));
  select = config.select || null;
  diagnosticsList = config.diagnostics || null;
  persist = config.persist !== false;
  readOnly = !!config.readOnly;
  forcedTheme = config.theme === "light" || config.theme === "dark" ? config.theme : "";

  const program = config.program && languages.has(config.program.language) ? config.program : null;
  let id = program ? program.language : storageGet(STORAGE_LANGUAGE);
  if (!languages.has(id)) id = languages.has(DEFAULT_LANGUAGE) ? DEFAULT_LANGUAGE : config.languages[0]?.id;
  current = id || null;
  const saved = program ? program.code : current ? storageGet(STORAGE_CODE + current) : null;

  const runKeys = Prec.highest(
    keymap.of([
      { key: "Mod-Enter", run: () => { options.onRun(); return true; }, preventDefault: true },
      { key: "Shift-Mod-Enter", run: () => { options.onRun(); return true; }, preventDefault: true },
    ]),
  );

  view = new EditorView({
    parent: config.parent,
    state: EditorState.create({
      doc: saved ?? (current ? templateFor(current) : ""),
      extensions: [
        config.styleNonce ? EditorView.cspNonce.of(config.styleNonce) : [],
        runKeys,
        basicSetup,
        keymap.of([indentWithTab]),
        lintGutter(),
        baseTheme,
        themeConf.of(themeFor()),
        languageConf.of(current ? modeExtension(current) : []),
        readOnlyConf.of(readOnlyExtension(readOnly)),
        EditorView.contentAttributes.of({ "aria-label": "Program code" }),
        EditorView.domEventHandlers({
          keydown(event) {
            if (readOnly && event.key.length === 1 && !event.ctrlKey && !event.metaKey) options.onReadOnlyInput();
            return false;
          },
          paste() {
            if (readOnly) options.onReadOnlyInput();
            return false;
          },
        }),
        EditorView.updateListener.of((update) => {
          if (!update.docChanged) return;
          scheduleSave();
          if (hasDiagnostics) Promise.resolve().then(clearDiagnostics);
          options.onChange();
        }),
      ],
    }),
  });

  if (darkQuery && !forcedTheme) {
    const onScheme = () => view.dispatch({ effects: themeConf.reconfigure(themeFor()) });
    if (darkQuery.addEventListener) darkQuery.addEventListener("change", onScheme);
    else if (darkQuery.addListener) darkQuery.addListener(onScheme);
  }
  if (select) {
    if (current) select.value = current;
    select.disabled = readOnly;
    select.addEventListener("change", () => setLanguage(select.value));
  }
  window.addEventListener("pagehide", saveNow);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") saveNow();
  });
  if (current) storageSet(STORAGE_LANGUAGE, current);
  if (program) storageSet(STORAGE_CODE + current, program.code);
  return view;
}

function scheduleSave() {
  clearTimeout(saveTimer);
  saveTimer = setTimeout(saveNow, 300);
}

function saveNow() {
  clearTimeout(saveTimer);
  saveTimer = 0;
  if (view && current) storageSet(STORAGE_CODE + current, getCode());
}

export function getCode() {
  return view ? view.state.doc.toString() : "";
}

export function setCode(text) {
  if (!view) return;
  const doc = String(text ?? "");
  view.dispatch({
    changes: { from: 0, to: view.state.doc.length, insert: doc },
    selection: { anchor: doc.length },
    scrollIntoView: true,
  });
  saveNow();
}

export function getLanguage() {
  return current;
}

export function getLanguageInfo(id = current) {
  return languages.get(id) || null;
}

/** Switches language: keeps the current code for the old one, loads the saved code (or the
 *  template) of the new one. */
export function setLanguage(id) {
  if (!languages.has(id) || !view) return false;
  if (id === current) {
    if (select && select.value !== id) select.value = id;
    return true;
  }
  saveNow();
  clearDiagnostics();
  current = id;
  storageSet(STORAGE_LANGUAGE, id);
  if (select && select.value !== id) select.value = id;
  const code = storageGet(STORAGE_CODE + id) ?? templateFor(id);
  view.dispatch({
    changes: { from: 0, to: view.state.doc.length, insert: code },
    selection: { anchor: 0 },
    effects: languageConf.reconfigure(modeExtension(id)),
    scrollIntoView: true,
  });
  saveNow();
  options.onChange();
  options.onLanguage(id);
  return true;
}

/** Opens `code` as the program of language `id` (an example, an uploaded file, a shared program):
 *  the code kept for the previous language stays; this one replaces the code kept for `id`. */
export function loadProgram(id, code) {
  if (!languages.has(id) || !view) return false;
  saveNow();
  clearDiagnostics();
  const changed = id !== current;
  current = id;
  storageSet(STORAGE_LANGUAGE, id);
  if (select && select.value !== id) select.value = id;
  const doc = String(code ?? "");
  view.dispatch({
    changes: { from: 0, to: view.state.doc.length, insert: doc },
    selection: { anchor: 0 },
    effects: changed ? languageConf.reconfigure(modeExtension(id)) : [],
    scrollIntoView: true,
  });
  saveNow();
  options.onChange();
  if (changed) options.onLanguage(id);
  return true;
}

export function setReadOnly(on) {
  readOnly = !!on;
  if (view) view.dispatch({ effects: readOnlyConf.reconfigure(readOnlyExtension(readOnly)) });
  if (select) select.disabled = readOnly;
}

export function isReadOnly() {
  return readOnly;
}

/** Starts (true) or stops keeping the code in localStorage; starting saves the current code. */
export function setPersist(on) {
  const was = persist;
  if (was && !on) saveNow(); // keep what was typed in the last moments
  persist = !!on;
  if (persist && !was) {
    unsaved.clear();
    if (current) storageSet(STORAGE_LANGUAGE, current);
    saveNow();
  }
}

/** Whether `code` is empty or one of language `id`'s templates (nothing to lose). */
export function isTemplate(id, code) {
  const text = String(code ?? "").trim();
  if (!text) return true;
  const lang = languages.get(id);
  const templates = (lang && lang.templates) || {};
  return Object.values(templates).some((t) => typeof t === "string" && t.trim() === text);
}

/** The code this browser keeps for language `id` (even while not persisting), or null. */
export function storedCode(id) {
  try {
    return window.localStorage.getItem(STORAGE_CODE + id);
  } catch {
    return null;
  }
}

/** The cursor as {line, column}, both 1-based. */
export function getCursor() {
  if (!view) return null;
  const head = view.state.selection.main.head;
  const line = view.state.doc.lineAt(head);
  return { line: line.number, column: head - line.from + 1 };
}

export function focusEditor() {
  if (view) view.focus();
}

function positionOf(item) {
  const doc = view.state.doc;
  const lineNo = Math.min(Math.max(1, Number.parseInt(item.line, 10) || 1), doc.lines);
  const line = doc.line(lineNo);
  const column = Number.parseInt(item.column, 10);
  const indent = /^\s*/.exec(line.text)[0].length;
  const from = Number.isFinite(column) && column >= 1
    ? line.from + Math.min(column - 1, line.length)
    : line.from + indent;
  return { line, from };
}

/**
 * Underlines the lines of `items` ([{line, column, severity, message}], 1-based) and lists them
 * under the editor. Cleared by the next run or edit.
 */
export function markDiagnostics(items) {
  if (!view) return;
  const list = Array.isArray(items) ? items.filter((i) => i && typeof i === "object") : [];
  const diagnostics = [];
  for (const item of list) {
    const { line, from } = positionOf(item);
    const to = Math.max(from, line.to);
    const severity = ["error", "warning", "info", "hint"].includes(item.severity) ? item.severity : "error";
    diagnostics.push({ from, to, severity, message: String(item.message ?? "") });
  }
  view.dispatch(setDiagnostics(view.state, diagnostics));
  hasDiagnostics = diagnostics.length > 0;
  renderList(list);
}

export function clearDiagnostics() {
  if (!view) return;
  if (hasDiagnostics) view.dispatch(setDiagnostics(view.state, []));
  hasDiagnostics = false;
  renderList([]);
}

function renderList(items) {
  if (!diagnosticsList) return;
  diagnosticsList.textContent = "";
  diagnosticsList.hidden = items.length === 0;
  if (!items.length) return;
  const heading = document.createElement("div");
  heading.className = "diagnostics-heading";
  heading.textContent = items.length === 1 ? "1 problem" : `${items.length} problems`;
  const ul = document.createElement("ul");
  for (const item of items) {
    const severity = item.severity === "warning" ? "warning" : "error";
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = `diagnostic diagnostic-${severity}`;
    const where = document.createElement("span");
    where.className = "diagnostic-where";
    const column = Number.parseInt(item.column, 10);
    where.textContent = `Line ${item.line}${Number.isFinite(column) ? `:${column}` : ""}`;
    const kind = document.createElement("span");
    kind.className = "diagnostic-severity";
    kind.textContent = severity;
    const message = document.createElement("span");
    message.className = "diagnostic-message";
    message.textContent = String(item.message ?? "");
    button.append(where, kind, message);
    button.addEventListener("click", () => {
      const { from } = positionOf(item);
      view.dispatch({ selection: { anchor: from }, scrollIntoView: true });
      view.focus();
    });
    li.append(button);
    ul.append(li);
  }
  diagnosticsList.append(heading, ul);
}
