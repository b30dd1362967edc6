// The IDE page: wires the editor, the console and the Socket.IO connection (docs/protocol.md).
// The same script runs the embed page (/embed): #page-config says which page this is and what
// program to open; share.js, gallery.js and embed.js add what only some pages have.

import { io } from "socket.io-client";
import * as editor from "./editor.js";
import { Console } from "./console.js";
import { initEmbed } from "./embed.js";
import { programFromFragment, programToFragment } from "./fragment.js";
import { initGallery } from "./gallery.js";
import { initShare } from "./share.js";

const $ = (id) => document.getElementById(id);

function readJson(id, fallback) {
  const node = $(id);
  if (!node) return fallback;
  try {
    return JSON.parse(node.textContent);
  } catch {
    return fallback;
  }
}

const languages = readJson("languages", []);
const limits = readJson("limits", {});
const page = readJson("page-config", { mode: "ide" });
const program = page.program || null; // a shared program to open instead of the kept code
const embedOptions = page.embed || {};
let presetStdin = (program && program.stdin) || ""; // stdin of pages without a stdin box (embeds)

const runButton = $("run");
const stopButton = $("stop");
const statusEl = $("status");
const banner = $("connection-banner");
const stdinBox = $("stdin-text");
const isMac = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent || "");

// What the page's other modules listen to: "connect", "run" (a run was accepted), "output",
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

// A refused run gets both an `error` event and a refused acknowledgement: report it once.
let lastError = { message: "", at: 0 };
function notifyError(data) {
  const now = Date.now();
  if (data.message === lastError.message && now - lastError.at < 3000) return;
  lastError = { message: data.message, at: now };
  notify("error", data);
}

const state = {
  connected: false,
  everConnected: false,
  pending: false, // a run was requested and its acknowledgement has not arrived
  seq: 0, // which request the pending acknowledgement belongs to
  runId: null, // the current run; events of any other run are ignored
  code: "", // the program as it was when the current run started
  running: false,
  buffer: [], // events received while pending (their run_id is not known yet)
  pendingStdin: [], // input typed while pending
};

// ---- status bar and banner ---------------------------------------------------------------------

function setStatus(text, phase = "idle") {
  statusEl.textContent = text;
  statusEl.dataset.phase = phase;
}

let bannerTimer = 0;
function showBanner(text, kind, hideAfterMs = 0) {
  clearTimeout(bannerTimer);
  banner.textContent = text;
  banner.dataset.kind = kind;
  banner.hidden = false;
  if (hideAfterMs) bannerTimer = setTimeout(() => { banner.hidden = true; }, hideAfterMs);
}

function hideBanner() {
  clearTimeout(bannerTimer);
  banner.hidden = true;
}

function updateButtons() {
  const active = state.pending || state.running;
  runButton.disabled = !state.connected;
  runButton.title = state.connected
    ? `Run (${isMac ? "⌘" : "Ctrl"}+Enter)${active ? " — restarts the program" : ""}`
    : "Not connected to the server";
  stopButton.disabled = !state.connected || !active;
  document.body.classList.toggle("is-running", active);
}

// ---- console -----------------------------------------------------------------------------------

let lastSystem = { text: "", at: 0 };
function systemLine(text, kind = "info") {
  const now = Date.now();
  if (text === lastSystem.text && now - lastSystem.at < 3000) return; // an error event + a refused ack
  lastSystem = { text, at: now };
  term.system(text, kind);
}

const term = new Console($("console"), {
  onInput(payload) {
    if (state.pending) {
      state.pendingStdin.push(payload);
      return true;
    }
    if (!state.running || !state.connected) return false;
    socket.emit("stdin", payload);
    return true;
  },
});

// ---- runs --------------------------------------------------------------------------------------

function utf8Length(text) {
  return new TextEncoder().encode(text).length;
}

function run() {
  if (!state.connected) {
    showBanner("Not connected to the server — waiting to reconnect…", "warn");
    return;
  }
  const language = editor.getLanguage();
  const code = editor.getCode();
  editor.clearDiagnostics();
  term.clear();
  if (limits.code_bytes && utf8Length(code) > limits.code_bytes) {
    systemLine(`The program is larger than the limit of ${Math.floor(limits.code_bytes / 1024)} KiB.`, "error");
    return;
  }
  const payload = { language, code };
  const stdin = stdinBox ? stdinBox.value : presetStdin;
  if (stdin) payload.stdin = stdin.endsWith("\n") ? stdin : stdin + "\n";

  const seq = ++state.seq;
  state.code = code;
  state.pending = true;
  state.running = false;
  state.runId = null;
  state.buffer = [];
  state.pendingStdin = [];
  term.setRunning(true);
  setStatus("Starting…", "starting");
  // Stacked layout (phones): bring the console into view.
  if (window.matchMedia && window.matchMedia("(max-width: 800px)").matches) {
    $("console").closest(".pane")?.scrollIntoView({ behavior: "smooth", block: "start" });
  }
  updateButtons();

  socket.timeout(20000).emit("run", payload, (err, ack) => {
    if (seq !== state.seq || !state.pending) return; // replaced by a newer run or a disconnect
    state.pending = false;
    const buffered = state.buffer;
    state.buffer = [];
    if (err || !ack || !ack.ok) {
      const message = err
        ? "The server did not answer the run request."
        : (ack && ack.error) || "The run was refused.";
      systemLine(message, "error");
      finishRun("Not started", "error");
      notifyError({ message });
      return;
    }
    state.runId = ack.run_id;
    state.running = true;
    notify("run", { run_id: ack.run_id });
    for (const data of state.pendingStdin) socket.emit("stdin", data);
    state.pendingStdin = [];
    updateButtons();
    for (const [, handler, data] of buffered) {
      if (!data.run_id || data.run_id === state.runId) handler(data);
    }
  });
}

function stop() {
  if (!state.connected || !(state.pending || state.running)) return;
  socket.emit("kill", {});
  setStatus("Stopping…", "stopping");
}

function finishRun(statusText, phase) {
  state.running = false;
  state.pending = false;
  term.setRunning(false);
  setStatus(statusText, phase);
  updateButtons();
}

// Events about a run: buffered until the run's id is known, ignored when about another run.
function runEvent(name, handler) {
  socket.on(name, (data) => {
    if (!data || typeof data !== "object") return;
    if (state.pending) {
      state.buffer.push([name, handler, data]);
      return;
    }
    if (!state.runId || data.run_id !== state.runId) return;
    handler(data);
  });
}

function onOutput(data) {
  const stream = data.stream === "stderr" ? "stderr" : "stdout";
  const text = typeof data.data === "string" ? data.data : "";
  term.write(stream, text);
  notify("output", { run_id: data.run_id, stream, data: text });
}

function onPrompt(data) {
  const text = typeof data.text === "string" ? data.text : "";
  term.prompt(text);
  notify("prompt", { run_id: data.run_id, text });
}

function onStatus(data) {
  if (!state.running) return;
  notify("status", { run_id: data.run_id, phase: data.phase, position: data.position });
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
  if (editor.getCode() !== state.code) return;
  editor.markDiagnostics(Array.isArray(data.items) ? data.items : []);
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
  const { run_id, code, reason, signal, time_ms, memory_kb } = data;
  notify("exit", { run_id, code, reason, signal, time_ms, memory_kb });
}

function onError(data) {
  const message = typeof data.message === "string" && data.message ? data.message : "Error";
  systemLine(message, "error");
  notifyError(data.run_id ? { run_id: data.run_id, message } : { message });
}

// ---- connection --------------------------------------------------------------------------------

const socket = io({ reconnectionDelayMax: 5000 });

runEvent("output", onOutput);
runEvent("prompt", onPrompt);
runEvent("status", onStatus);
runEvent("diagnostics", onDiagnostics);
runEvent("exit", onExit);

socket.on("error", (data) => {
  if (!data || typeof data !== "object") return;
  if (data.run_id) {
    if (state.pending) state.buffer.push(["error", onError, data]);
    else if (data.run_id === state.runId) onError(data);
    return;
  }
  onError(data);
});

socket.on("connect", () => {
  state.connected = true;
  if (state.everConnected) showBanner("Reconnected.", "ok", 3000);
  else hideBanner();
  state.everConnected = true;
  if (!state.running && !state.pending) setStatus("Ready", "idle");
  updateButtons();
  notify("connect", {});
});

socket.on("disconnect", (reason) => {
  state.connected = false;
  showBanner("Connection lost — reconnecting…", "warn");
  if (state.running || state.pending) {
    term.flush();
    systemLine("— connection lost: the program was stopped and its output ends here —", "error");
    state.runId = null;
    finishRun("Disconnected", "failed");
  } else {
    setStatus("Disconnected", "failed");
  }
  // The server closed the connection on purpose: Socket.IO will not retry by itself.
  if (reason === "io server disconnect") socket.connect();
  updateButtons();
});

socket.on("connect_error", () => {
  if (!state.everConnected) {
    showBanner("Cannot reach the server — retrying…", "warn");
    setStatus("Connecting…", "starting");
  }
});

// ---- page --------------------------------------------------------------------------------------

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
});

runButton.addEventListener("click", run);
stopButton.addEventListener("click", stop);
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

// Typed input for the running program, shown in the console as if typed there.
function sendInput(payload) {
  const text = payload.data || "";
  return term.send(payload.eof ? { data: text, eof: true } : { data: text }, text);
}

const app = {
  page, languages, limits, editor, term, run, stop, sendInput, on, setStatus, showBanner,
  get state() { return state; },
  setStdin(text) {
    if (stdinBox) stdinBox.value = text;
    else presetStdin = text;
  },
};
initShare(app);
initGallery(app);
initEmbed(app);

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
    return { ...state, buffer: state.buffer.length, pendingStdin: state.pendingStdin.length };
  },
};
