// What the IDE page and the embed page share: the editor, the console, the status bar and the
// run client (run-client.js, which speaks docs/protocol.md over Socket.IO). Each page has its own
// entry point that starts this and adds what only it has: ide-page.js (sharing, the gallery),
// embed-page.js (the embed's options and postMessage API). #page-config says what to open.

import { io } from "socket.io-client";
import * as editor from "./editor.js";
import { Console } from "./console.js";
import { TurtleCanvas } from "./turtle-canvas.js";
import { programFromFragment, programToFragment } from "./fragment.js";
import { RunClient } from "./run-client.js";

const $ = (id) => document.getElementById(id);
const isMac = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent || "");

function readJson(id, fallback) {
  const node = $(id);
  if (!node) return fallback;
  try {
    return JSON.parse(node.textContent);
  } catch {
    return fallback;
  }
}

// Set once by startPage.
let limits = {};
let presetStdin = ""; // stdin of pages without a stdin box (embeds)
let els = {}; // the page's elements this module updates
let term = null; // the Console
let turtle = null; // the TurtleCanvas
let client = null; // the RunClient
let runCode = ""; // the program as it was when the current run started

// What the page's other modules listen to: "connect", "run" (a run was accepted), "output", "display",
// "prompt", "status", "exit", "error".
const listeners = new Map();
function on(name, listener) {
  if (!listeners.has(name)) listeners.set(name, []);
  listeners.get(name).push(listener);
}
function notify(name, data) {
  for (const listener of listeners.get(name) || []) {
    try {
      listener(data);
    } catch (error) {
      console.error(error);
    }
  }
}

// ---- status bar and banner ---------------------------------------------------------------------

function setStatus(text, phase = "idle") {
  els.status.textContent = text;
  els.status.dataset.phase = phase;
}

let bannerTimer = 0;
function showBanner(text, kind, hideAfterMs = 0) {
  const banner = els.banner;
  clearTimeout(bannerTimer);
  banner.textContent = text;
  banner.dataset.kind = kind;
  banner.hidden = false;
  if (hideAfterMs) bannerTimer = setTimeout(() => { banner.hidden = true; }, hideAfterMs);
}

function hideBanner() {
  clearTimeout(bannerTimer);
  els.banner.hidden = true;
}

function updateButtons() {
  const { connected, active } = client;
  const { runButton, stopButton } = els;
  runButton.disabled = !connected;
  runButton.title = connected
    ? `Run (${isMac ? "⌘" : "Ctrl"}+Enter)${active ? " — restarts the program" : ""}`
    : "Not connected to the server";
  stopButton.disabled = !connected || !active;
  document.body.classList.toggle("is-running", active);
}

// ---- runs --------------------------------------------------------------------------------------

function utf8Length(text) {
  return new TextEncoder().encode(text).length;
}

function run() {
  if (!client.connected) {
    showBanner("Not connected to the server — waiting to reconnect…", "warn");
    return;
  }
  const language = editor.getLanguage();
  const code = editor.getCode();
  editor.clearDiagnostics();
  term.clear();
  turtle?.reset();
  if (limits.code_limit_bytes && utf8Length(code) > limits.code_limit_bytes) {
    term.system(`The program is larger than the limit of ${Math.floor(limits.code_limit_bytes / 1024)} KiB.`, "error");
    return;
  }
  const payload = { language, code };
  const stdin = els.stdinBox ? els.stdinBox.value : presetStdin;
  if (stdin) payload.stdin = stdin.endsWith("\n") ? stdin : stdin + "\n";

  runCode = code;
  client.run(payload);
  term.setRunning(true);
  setStatus("Starting…", "starting");
  // Stacked layout (phones): bring the console into view.
  if (window.matchMedia && window.matchMedia("(max-width: 800px)").matches) {
    $("console").closest(".pane")?.scrollIntoView({ behavior: "smooth", block: "start" });
  }
  updateButtons();
}

function stop() {
  if (client.kill()) setStatus("Stopping…", "stopping");
}

function finishRun(statusText, phase) {
  term.setRunning(false);
  setStatus(statusText, phase);
  updateButtons();
}

// ---- what the run client reports ---------------------------------------------------------------

function onStarted(data) {
  notify("run", data);
  updateButtons();
}

function onRefused({ message }) {
  term.system(message, "error");
  finishRun("Not started", "error");
  notify("error", { message });
}

function onOutput(data) {
  term.write(data.stream, data.data);
  notify("output", data);
}

function onDisplay(data) {
  term.picture(data);
  notify("display", data);
}

function onTurtle(data) {
  turtle?.apply(data.commands);
}

function onPrompt(data) {
  term.prompt(data.text);
  notify("prompt", data);
}

function onStatus(data) {
  notify("status", data);
  if (data.phase === "queued") {
    setStatus(Number.isFinite(data.position) ? `Queued (#${data.position})…` : "Queued…", "queued");
  } else if (data.phase === "compiling") {
    setStatus("Compiling…", "compiling");
  } else if (data.phase === "running") {
    setStatus("Running…", "running");
  }
}

function onDiagnostics(data) {
  // Lines of a program edited since it started would point at the wrong places: the console
  // still has the messages.
  if (editor.getCode() !== runCode) return;
  editor.markDiagnostics(data.items);
}

function formatDuration(ms) {
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms <= 0) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
}

function formatMemory(kb) {
  if (typeof kb !== "number" || !Number.isFinite(kb)) return "";
  return kb < 1024 ? `${kb} KB` : `${(kb / 1024).toFixed(1)} MB`;
}

const REASONS = {
  killed: ["killed", "Stopped"],
  timeout: ["timed out", "Timed out"],
  memory: ["memory limit exceeded", "Memory limit exceeded"],
  output_limit: ["output limit reached", "Output limit reached"],
  display_limit: ["picture limit reached", "Picture limit reached"],
  compile_error: ["compile error", "Compile error"],
  error: ["sandbox error", "Sandbox error"],
};

function describeExit(data) {
  const time = formatDuration(data.time_ms);
  const signal = typeof data.signal === "string" && data.signal ? data.signal : null;
  let line;
  let status;
  if (data.reason === "exited" || !REASONS[data.reason]) {
    if (typeof data.code === "number") {
      line = `exited with code ${data.code}${signal ? ` (${signal})` : ""}`;
    } else {
      line = signal ? `exited with signal ${signal}` : "exited";
    }
    if (time) line += ` in ${time}`;
    status = typeof data.code === "number" ? `Exited with code ${data.code}` : signal ? `Ended by ${signal}` : "Finished";
  } else {
    [line, status] = REASONS[data.reason];
    if (signal) line += ` (${signal})`;
  }
  const memory = formatMemory(data.memory_kb);
  const details = [time, memory].filter(Boolean).join(" · ");
  return { line: `— ${line} —`, status: details ? `${status} · ${details}` : status };
}

function onExit(data) {
  const { line, status } = describeExit(data);
  const ok = data.reason === "exited" && data.code === 0;
  term.exitLine(line, ok);
  finishRun(status, ok ? "done" : "failed");
  notify("exit", data);
}

function onError(data) {
  term.system(data.message, "error");
  notify("error", data);
}

function onConnect({ reconnected }) {
  if (reconnected) showBanner("Reconnected.", "ok", 3000);
  else hideBanner();
  if (!client.active) setStatus("Ready", "idle");
  updateButtons();
  notify("connect", {});
}

function onDisconnect({ interrupted }) {
  showBanner("Connection lost — reconnecting…", "warn");
  if (interrupted) {
    term.flush();
    term.system("— connection lost: the program was stopped and its output ends here —", "error");
    finishRun("Disconnected", "failed");
  } else {
    setStatus("Disconnected", "failed");
  }
  updateButtons();
}

function onConnectError({ everConnected }) {
  if (!everConnected) {
    showBanner("Cannot reach the server — retrying…", "warn");
    setStatus("Connecting…", "starting");
  }
}

// Typed input for the running program, shown in the console as if typed there.
function sendInput(payload) {
  const text = payload.data || "";
  return term.send(payload.eof ? { data: text, eof: true } : { data: text }, text);
}

// ---- the page ----------------------------------------------------------------------------------

/** Starts the page and returns what the page's own modules use (share.js, gallery.js, embed.js). */
export function startPage() {
  // The nonce the page's CSP gives its <style> elements (codyskool/headers.py), from the script
  // element that loaded this bundle: startPage runs while it executes.
  const styleNonce = document.currentScript?.nonce || "";
  const languages = readJson("languages", []);
  limits = readJson("limits", {});
  const page = readJson("page-config", { mode: "ide" });
  const program = page.program || null; // a shared program to open instead of the kept code
  const embedOptions = page.embed || {};
  presetStdin = (program && program.stdin) || "";
  els = {
    runButton: $("run"),
    stopButton: $("stop"),
    status: $("status"),
    banner: $("connection-banner"),
    stdinBox: $("stdin-text"),
  };

  term = new Console($("console"), { onInput: (payload) => client.sendStdin(payload) });
  if ($("turtle")) turtle = new TurtleCanvas($("turtle"), { onEvent: (event) => client.sendCanvas(event) });
  client = new RunClient(io({ reconnectionDelayMax: 5000 }), {
    onStarted, onOutput, onDisplay, onTurtle, onPrompt, onStatus, onDiagnostics, onExit, onError, onRefused,
    onConnect, onDisconnect, onConnectError,
  });

  editor.initEditor({
    parent: $("editor"),
    languages,
    select: $("language"),
    diagnostics: $("diagnostics"),
    onRun: run,
    onLanguage: (id) => document.body.dispatchEvent(new CustomEvent("language-change", { detail: { language: id } })),
    onReadOnlyInput: () => notify("readonly-input", {}),
    program,
    persist: page.mode === "ide",
    readOnly: !!program && (page.mode === "snippet" || !!embedOptions.readonly),
    theme: embedOptions.theme || "",
    styleNonce,
  });

  els.runButton.addEventListener("click", run);
  els.stopButton.addEventListener("click", stop);
  $("clear")?.addEventListener("click", () => term.clear());

  // Ctrl/Cmd+Enter runs from anywhere on the page (the editor handles it itself).
  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.key !== "Enter" || !(e.ctrlKey || e.metaKey) || e.altKey) return;
    if (e.target && e.target.classList && e.target.classList.contains("console-input")) return;
    e.preventDefault();
    run();
  });

  const shortcut = $("run-shortcut");
  if (shortcut) shortcut.textContent = isMac ? "⌘↵" : "Ctrl+↵";

  setStatus("Connecting…", "starting");
  updateButtons();

  // A small handle for tests and debugging.
  window.codyskool = {
    getCode: editor.getCode,
    setCode: editor.setCode,
    getLanguage: editor.getLanguage,
    setLanguage: editor.setLanguage,
    markDiagnostics: editor.markDiagnostics,
    getCursor: editor.getCursor,
    isReadOnly: editor.isReadOnly,
    encodeProgram: programToFragment,
    decodeProgram: (hash) => programFromFragment(hash, limits),
    run,
    stop,
    get state() {
      return client.state;
    },
  };

  return {
    page, languages, limits, editor, term, run, stop, sendInput, on, setStatus, showBanner,
    get state() { return client.state; },
    setStdin(text) {
      if (els.stdinBox) els.stdinBox.value = text;
      else presetStdin = text;
    },
  };
}
