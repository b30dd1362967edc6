// The embed page (/embed): its options and the postMessage API for the page that embeds it.
// docs/embed.md is the reference; keep the two in step.
//
// Every message, both ways, is an object whose `type` starts with "codyskool:". Events carry the
// embed's `frame` (from ?frame=) so a page with several embeds can tell them apart. Commands are
// taken only from the parent window, and only from an allowed origin; events are posted to one
// origin, never "*" when an origin is known or configured.

import * as fragment from "./fragment.js";

const PREFIX = "codyskool:";

let app = null;
let options = {};
let learnedOrigin = ""; // the origin of the first command accepted
let ready = false;

// ---- origins -----------------------------------------------------------------------------------

function normalOrigin(text) {
  try {
    return new URL(text).origin;
  } catch {
    return "";
  }
}

/** Whether `origin` matches one source of CODYSKOOL_EMBED_ALLOWED_ORIGINS. */
function matchSource(source, origin) {
  if (source === "*") return true;
  if (source === "'none'") return false;
  if (source === "'self'") return origin === location.origin;
  if (/^[a-z][a-z0-9+.-]*:$/i.test(source)) return origin.toLowerCase().startsWith(`${source.toLowerCase()}//`);
  const wildcard = /^([a-z][a-z0-9+.-]*:\/\/)\*\.([^:/]+)(:\d+)?$/i.exec(source);
  if (wildcard) {
    const url = normalOrigin(origin) ? new URL(origin) : null;
    if (!url || `${url.protocol}//` !== wildcard[1].toLowerCase()) return false;
    if (wildcard[3] && url.port !== wildcard[3].slice(1)) return false;
    return url.hostname.endsWith(`.${wildcard[2].toLowerCase()}`);
  }
  return normalOrigin(source) === origin;
}

function allowedByServer(origin) {
  return (options.allowed_origins || ["*"]).some((source) => matchSource(source, origin));
}

function commandAllowed(origin) {
  if (options.origin) return origin === options.origin && allowedByServer(origin);
  return allowedByServer(origin);
}

function parentOrigin() {
  const ancestors = location.ancestorOrigins;
  if (ancestors && ancestors.length && ancestors[0] !== "null") return ancestors[0];
  return document.referrer ? normalOrigin(document.referrer) : "";
}

/** Where events go: the origin the URL names, else one the server allows, else (only when the
 *  server allows any page) "*". Null: nowhere yet. */
function eventTarget() {
  if (options.origin) return allowedByServer(options.origin) ? options.origin : null;
  const sources = options.allowed_origins || ["*"];
  const known = [learnedOrigin, parentOrigin()].filter(Boolean);
  const match = known.find(allowedByServer);
  if (match) return match;
  if (sources.includes("*")) return known.length ? null : "*";
  const fixed = sources.map(normalOrigin).filter(Boolean);
  return sources.length === 1 && fixed.length === 1 ? fixed[0] : null;
}

function post(type, data = {}) {
  if (window.parent === window) return;
  let target = eventTarget();
  // A parent with an opaque origin (a file:// page, a sandboxed frame) can only be reached with
  // "*", which is used only when the server lets any page drive embeds.
  if (target === "null") target = (options.allowed_origins || ["*"]).includes("*") ? "*" : null;
  if (!target) return;
  window.parent.postMessage({ ...data, type: PREFIX + type, frame: options.frame || null }, target);
}

// ---- commands ----------------------------------------------------------------------------------

function utf8Length(text) {
  return new TextEncoder().encode(text).length;
}

function setCode(message) {
  const language = message.language || app.editor.getLanguage();
  if (typeof message.code !== "string") return "set-code needs 'code' (a string)";
  if (!app.languages.some((l) => l.id === language)) return `unknown language ${JSON.stringify(language)}`;
  if (app.limits.code_limit_bytes && utf8Length(message.code) > app.limits.code_limit_bytes) {
    return `the program is larger than the limit of ${Math.floor(app.limits.code_limit_bytes / 1024)} KiB`;
  }
  app.editor.loadProgram(language, message.code);
  if (typeof message.stdin === "string") app.setStdin(message.stdin);
  return null;
}

let runWhenConnected = false;

const COMMANDS = {
  "set-code": setCode,
  "get-code": () => {
    post("code", { language: app.editor.getLanguage(), code: app.editor.getCode() });
    return null;
  },
  run: () => {
    if (app.state.connected) app.run();
    else runWhenConnected = true;
    return null;
  },
  stop: () => {
    runWhenConnected = false;
    app.stop();
    return null;
  },
  stdin: (message) => {
    const data = typeof message.data === "string" ? message.data : "";
    const eof = message.eof === true;
    if (!data && !eof) return "stdin needs 'data' (a string) or 'eof': true";
    return app.sendInput({ data, eof }) ? null : "no program is running";
  },
  ping: () => {
    if (ready) sendReady();
    return null;
  },
};

function onMessage(event) {
  if (event.source !== window.parent || window.parent === window) return;
  const message = event.data;
  if (!message || typeof message !== "object" || typeof message.type !== "string") return;
  if (!message.type.startsWith(PREFIX)) return;
  if (!commandAllowed(event.origin)) {
    console.warn(`CodySkool embed: ignored a message from ${event.origin}, which may not drive this embed`);
    return;
  }
  if (message.frame != null && options.frame && message.frame !== options.frame) return;
  if (!learnedOrigin) learnedOrigin = event.origin;
  const name = message.type.slice(PREFIX.length);
  const command = Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name] : null;
  const error = command ? command(message) : `unknown command ${JSON.stringify(message.type)}`;
  if (error) post("error", { message: error, command: name });
}

function sendReady() {
  post("ready", { language: app.editor.getLanguage(), readonly: !!options.readonly });
}

// ---- the page ----------------------------------------------------------------------------------

function openLink() {
  const link = document.getElementById("open-link");
  if (!link) return;
  link.addEventListener("click", async (event) => {
    const program = app.page.program || {};
    const language = app.editor.getLanguage();
    const code = app.editor.getCode();
    if (app.page.open_url && program.language === language && program.code === code) return; // the snippet
    event.preventDefault();
    const target = `${location.origin}/#${await fragment.programToFragment({ language, code, stdin: program.stdin || "" })}`;
    window.open(target, "_blank", "noopener");
  });
}

export async function initEmbed(appRef) {
  app = appRef;
  options = app.page.embed || {};
  window.addEventListener("message", onMessage);
  openLink();
  document.body.addEventListener("language-change", (event) => {
    const label = document.getElementById("embed-language");
    const language = app.languages.find((l) => l.id === event.detail.language);
    if (label && language) {
      label.textContent = language.name;
      label.title = `${language.name} ${language.version}`;
    }
  });

  if (fragment.hasProgram(location.hash)) {
    try {
      const program = await fragment.programFromFragment(location.hash, app.limits);
      if (program && !program.language) program.language = app.editor.getLanguage(); // ?language=
      if (program && app.languages.some((l) => l.id === program.language)) {
        app.editor.loadProgram(program.language, program.code);
        app.setStdin(program.stdin || "");
        app.page.program = { ...app.page.program, ...program };
      }
    } catch (error) {
      app.term.system(`The program in this link could not be read (${error.message}).`, "error");
    }
  }

  for (const name of ["output", "display", "prompt", "status", "exit", "error"]) {
    app.on(name, (data) => post(name, data));
  }
  app.on("run", (data) => post("started", data));
  const start = () => {
    if (!ready) {
      ready = true;
      sendReady();
      if (options.autorun) app.run();
    }
    if (runWhenConnected) {
      runWhenConnected = false;
      app.run();
    }
  };
  app.on("connect", start);
  if (app.state.connected) start();
}
