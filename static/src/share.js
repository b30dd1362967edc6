// Sharing on the IDE page: the Share dialog (a stored snippet's link, a link that holds the program
// in its fragment, an <iframe> to embed it), opening a shared program read-only until the person
// edits a copy, and downloading or opening a program file.

import * as fragment from "./fragment.js";

const FRAGMENT_LINK_MAX = 8000; // characters; longer links break in mail and chat
const EMBED_HEIGHT = 360;

let app = null;
let editor = null;
let shared = null; // the shared program on view (read-only), or null
let lastShare = null; // {key, id, url}: sharing the same program again reuses its snippet
let embedSource = null; // {id} or {fragment}: what the iframe snippet shows
const loaded = new Map(); // language -> the example or file last loaded (nothing to lose if unchanged)

const $ = (id) => document.getElementById(id);

function languageName(id) {
  const lang = app.languages.find((l) => l.id === id);
  return lang ? lang.name : id;
}

export function initShare(appRef) {
  app = appRef;
  editor = app.editor;

  $("share")?.addEventListener("click", share);
  $("download")?.addEventListener("click", download);
  $("upload")?.addEventListener("click", () => $("upload-file")?.click());
  $("upload-file")?.addEventListener("change", upload);
  $("fork")?.addEventListener("click", fork);
  for (const button of document.querySelectorAll("#share-dialog [data-copy]")) {
    button.addEventListener("click", () => copy(button));
  }
  for (const id of ["embed-autorun", "embed-readonly", "embed-theme"]) {
    $(id)?.addEventListener("change", updateEmbedSnippet);
  }
  app.on("readonly-input", () => {
    const bar = $("shared-bar");
    if (!bar || bar.hidden) return;
    bar.classList.remove("attention");
    void bar.offsetWidth; // restart the animation
    bar.classList.add("attention");
  });

  if (app.page.mode === "snippet" && app.page.program) {
    enterShared(app.page.program);
  } else if (fragment.hasProgram(location.hash)) {
    openFragment();
  }
  window.addEventListener("hashchange", () => {
    if (fragment.hasProgram(location.hash)) openFragment();
  });
}

// ---- viewing a shared program ------------------------------------------------------------------

async function openFragment() {
  let program;
  try {
    program = await fragment.programFromFragment(location.hash, app.limits);
  } catch (error) {
    app.showBanner(`The program in this link could not be read (${error.message}).`, "warn", 10000);
    return;
  }
  if (!program) return;
  if (!program.language) program.language = editor.getLanguage();
  if (!app.languages.some((l) => l.id === program.language)) {
    app.showBanner(`This link holds a program in a language this server does not run (${program.language}).`, "warn", 10000);
    return;
  }
  editor.setPersist(false);
  editor.loadProgram(program.language, program.code);
  enterShared({ ...program, id: null });
}

function enterShared(program) {
  shared = program;
  app.setStdin(program.stdin || "");
  if (program.stdin) document.querySelector(".stdin-panel")?.setAttribute("open", "");
  editor.setReadOnly(true);
  const bar = $("shared-bar");
  if (bar) bar.hidden = false;
  document.body.classList.add("is-shared");
}

function leaveShared() {
  shared = null;
  editor.setReadOnly(false);
  const bar = $("shared-bar");
  if (bar) bar.hidden = true;
  document.body.classList.remove("is-shared");
  // From now on this is the person's own program: a reload keeps it, not the shared one.
  history.replaceState(null, "", "/");
}

function wouldLose(language, code) {
  const kept = editor.storedCode(language);
  return kept !== null && !editor.isTemplate(language, kept) && kept.trim() !== code.trim();
}

/** Makes the shared program on view the person's own, editable, kept in this browser. */
export function fork() {
  if (!shared) return true;
  const language = editor.getLanguage();
  if (wouldLose(language, editor.getCode())
      && !window.confirm(`Your copy replaces the ${languageName(language)} program you had in this browser. Continue?`)) {
    return false;
  }
  leaveShared();
  editor.setPersist(true);
  editor.focusEditor();
  return true;
}

/** Puts `code` into the editor as the person's `language` program (an example, an opened file),
 *  asking first when that would replace code of their own. */
export function replaceProgram(language, code, what) {
  const mine = shared || language !== editor.getLanguage() ? editor.storedCode(language) : editor.getCode();
  const unchanged = (text) => mine.trim() === String(text ?? "").trim();
  if (mine !== null && !editor.isTemplate(language, mine) && !unchanged(code) && !unchanged(loaded.get(language))
      && !window.confirm(`Replace your ${languageName(language)} program with ${what}?`)) {
    return false;
  }
  if (shared) leaveShared(); // not persisting yet: the shared program is not kept
  loaded.set(language, code);
  editor.loadProgram(language, code);
  editor.setPersist(true);
  editor.focusEditor();
  return true;
}

// ---- the Share dialog --------------------------------------------------------------------------

function show(id, visible) {
  const node = $(id);
  if (node) node.hidden = !visible;
}

async function share() {
  const dialog = $("share-dialog");
  const status = $("share-status");
  const language = editor.getLanguage();
  const code = editor.getCode();
  const stdin = $("stdin-text")?.value || "";
  for (const id of ["share-link-field", "share-fragment-field", "share-embed-field"]) show(id, false);
  if (!dialog.open) dialog.showModal();
  if (!code.trim()) {
    status.textContent = "There is nothing to share yet: the editor is empty.";
    return;
  }
  status.textContent = "Saving…";

  let fragmentUrl = null;
  try {
    const url = `${location.origin}/#${await fragment.programToFragment({ language, code, stdin })}`;
    if (url.length <= FRAGMENT_LINK_MAX) fragmentUrl = url;
  } catch {
    // a browser without CompressionStream: the stored link still works
  }
  if (fragmentUrl) $("share-fragment").value = fragmentUrl;
  show("share-fragment-field", !!fragmentUrl);

  const key = JSON.stringify([language, code, stdin]);
  try {
    let saved = lastShare && lastShare.key === key ? lastShare : null;
    if (!saved && shared && shared.id && shared.language === language && shared.code === code
        && (shared.stdin || "") === stdin) {
      saved = { key, id: shared.id, url: `${location.origin}/s/${shared.id}` };
    }
    if (!saved) {
      const response = await fetch("/api/snippets", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(stdin ? { language, code, stdin } : { language, code }),
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(body.error || `the server answered ${response.status}`);
      // The server's link is relative unless it knows its public address (CODYSKOOL_BASE_URL).
      saved = { key, id: body.id, url: new URL(body.url, location.href).href };
      lastShare = saved;
    }
    $("share-link").value = saved.url;
    show("share-link-field", true);
    status.textContent = "";
    embedSource = { id: saved.id, language };
  } catch (error) {
    status.textContent = `The program could not be saved: ${error.message}.`
      + (fragmentUrl ? " The link below holds the whole program and works without saving." : "");
    embedSource = fragmentUrl ? { fragment: fragmentUrl.split("#")[1], language } : null;
  }
  updateEmbedSnippet();
  const first = dialog.querySelector(".share-field:not([hidden]) input, .share-field:not([hidden]) textarea");
  if (first) {
    first.focus();
    first.select();
  }
}

function escapeAttribute(text) {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}

function updateEmbedSnippet() {
  show("share-embed-field", !!embedSource);
  if (!embedSource) return;
  const params = new URLSearchParams();
  if (!embedSource.id) params.set("language", embedSource.language);
  if ($("embed-autorun")?.checked) params.set("autorun", "1");
  if ($("embed-readonly")?.checked) params.set("readonly", "1");
  const theme = $("embed-theme")?.value;
  if (theme) params.set("theme", theme);
  const query = params.toString();
  let src = embedSource.id ? `${location.origin}/embed/${embedSource.id}` : `${location.origin}/embed`;
  if (query) src += `?${query}`;
  if (embedSource.fragment) src += `#${embedSource.fragment}`;
  const title = `Run this ${languageName(embedSource.language)} program (CodySkool)`;
  $("share-embed").value = `<iframe src="${escapeAttribute(src)}" width="100%" height="${EMBED_HEIGHT}" `
    + `style="border: 0" loading="lazy" title="${escapeAttribute(title)}"></iframe>`;
}

async function copy(button) {
  const field = $(button.dataset.copy);
  if (!field) return;
  let ok = false;
  try {
    await navigator.clipboard.writeText(field.value);
    ok = true;
  } catch {
    field.focus();
    field.select();
    try {
      ok = document.execCommand("copy");
    } catch {
      ok = false;
    }
  }
  const label = button.textContent;
  button.textContent = ok ? "Copied" : "Press Ctrl+C";
  setTimeout(() => { button.textContent = label; }, 1500);
}

// ---- files -------------------------------------------------------------------------------------

function download() {
  const language = app.languages.find((l) => l.id === editor.getLanguage());
  const blob = new Blob([editor.getCode()], { type: "text/plain;charset=utf-8" });
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = language ? language.file : "program.txt";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function languageForFile(name) {
  const dot = name.lastIndexOf(".");
  const extension = dot >= 0 ? name.slice(dot).toLowerCase() : "";
  if (!extension) return null;
  const match = app.languages.find((l) => l.file.toLowerCase().endsWith(extension));
  return match ? match.id : null;
}

async function upload(event) {
  const input = event.target;
  const file = input.files && input.files[0];
  input.value = ""; // choosing the same file again fires "change" again
  if (!file) return;
  if (app.limits.code_limit_bytes && file.size > app.limits.code_limit_bytes) {
    app.showBanner(`${file.name} is larger than the limit of ${Math.floor(app.limits.code_limit_bytes / 1024)} KiB.`, "warn", 6000);
    return;
  }
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(await file.arrayBuffer());
  } catch {
    app.showBanner(`${file.name} is not a text file (UTF-8).`, "warn", 6000);
    return;
  }
  replaceProgram(languageForFile(file.name) || editor.getLanguage(), text, `the file ${file.name}`);
}
