// The console: program output, prompts and the input line.
//
// Everything a program sends is shown with textContent in <span>s — never parsed as HTML. Output is
// queued and added to the page once per animation frame, and the oldest text is removed once the
// console holds more than MAX_CHARS, so a program that floods its output cannot freeze the tab.
// Pictures are <img>s of data: URLs (an SVG's scripts never run in one), each counted as
// PICTURE_CHARS of text.

import { AnsiParser, isDefaultStyle, styleKey } from "./ansi.js";

const MAX_CHARS = 2_000_000; // text kept in the console
const TRIM_TO = 1_500_000; // after a trim, keep this much
const SPAN_CHARS = 32_768; // a span grows by merging up to this size
const STICK_PX = 48; // "at the bottom" tolerance for auto-scroll
const PICTURE_CHARS = 20_000; // what a picture counts for in MAX_CHARS

export class Console {
  /**
   * @param {HTMLElement} root  the #console element (the scroll container)
   * @param {{onInput: (payload: {data?: string, eof?: boolean}) => boolean}} options
   *   onInput sends typed input; it returns false when the input could not be sent.
   */
  constructor(root, { onInput }) {
    this.root = root;
    this.onInput = onInput;
    this.parsers = { stdout: new AnsiParser(), stderr: new AnsiParser() };
    this.queue = [];
    this.queuedChars = 0;
    this.clearOnFlush = false;
    this.frame = 0;
    this.timer = 0;
    this.totalChars = 0;
    this.pendingCR = false;
    this.last = null; // {el, key}: the span new text of the same kind is merged into
    this.pictures = new Map(); // a picture's id -> its <img>, which a later one of that id replaces
    this.focusWanted = false;
    this.running = false;
    this.history = [];
    this.historyPos = 0;

    root.textContent = "";
    // Shown (as CSS generated content, so it is not part of the console's text) when empty, and
    // when old output was removed.
    root.classList.add("is-empty");
    this.out = el("pre", "console-output");
    this.inputLine = el("span", "console-inputline");
    this.inputLine.hidden = true;
    this.input = el("input", "console-input");
    Object.assign(this.input, {
      type: "text",
      autocomplete: "off",
      spellcheck: false,
      placeholder: "",
    });
    this.input.setAttribute("autocapitalize", "off");
    this.input.setAttribute("autocorrect", "off");
    this.input.setAttribute("enterkeyhint", "send");
    this.input.setAttribute("aria-label", "Program input: Enter sends a line, Ctrl+D ends the input");
    this.inputLine.append(this.input);
    this.out.append(this.inputLine);
    root.append(this.out);

    this.input.addEventListener("keydown", (e) => this.onKeyDown(e));
    this.input.addEventListener("paste", (e) => this.onPaste(e));
    // A click anywhere in the console (that is not a text selection) goes to the input line.
    root.addEventListener("mouseup", () => {
      if (!this.running || this.input.disabled) return;
      const selection = window.getSelection();
      if (selection && selection.toString()) return;
      this.input.focus({ preventScroll: true });
    });
  }

  // ---- writing -------------------------------------------------------------------------------

  clear() {
    this.queue = [];
    this.queuedChars = 0;
    this.clearOnFlush = false;
    this.parsers.stdout.reset();
    this.parsers.stderr.reset();
    for (let node = this.out.firstChild; node && node !== this.inputLine; ) {
      const next = node.nextSibling;
      node.remove();
      node = next;
    }
    this.totalChars = 0;
    this.pendingCR = false;
    this.last = null;
    this.pictures.clear();
    this.root.classList.remove("is-trimmed");
    this.root.classList.add("is-empty");
  }

  /** Program output on "stdout" or "stderr". */
  write(stream, data) {
    if (!data) return;
    const parser = this.parsers[stream] || this.parsers.stdout;
    for (const seg of parser.push(data)) {
      this.enqueue({ type: "text", cls: `out-${stream}`, text: seg.text, style: seg.style });
    }
  }

  /**
   * A picture the program showed (a `display` event), on a line of its own.
   * @param {{mime: string, data: string, id?: string, name?: string}} picture
   */
  picture(picture) {
    this.enqueue({ type: "picture", picture });
  }

  /** A prompt: its text inline, then the focused input. */
  prompt(text) {
    // A prompt is what the program would have written to stdout: same escape handling.
    const segs = text ? this.parsers.stdout.push(text) : [];
    this.enqueue({ type: "prompt", segs });
  }

  /** A line from the app itself (errors, notices), on a line of its own. */
  system(text, kind = "info") {
    this.enqueue({ type: "block", cls: `sys-line sys-${kind}`, text });
  }

  exitLine(text, ok) {
    this.enqueue({ type: "block", cls: `exit-line ${ok ? "exit-ok" : "exit-fail"}`, text });
    this.flush();
  }

  enqueue(item) {
    this.queue.push(item);
    if (item.type === "text") {
      this.queuedChars += item.text.length;
      if (this.queuedChars > MAX_CHARS + TRIM_TO) this.trimQueue();
    }
    this.schedule();
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => this.flush());
    // A hidden tab gets no animation frames; keep the queue moving slowly anyway.
    this.timer = setTimeout(() => this.flush(), 250);
  }

  // Too much text waits for a frame (a hidden tab): drop the oldest, it would be trimmed anyway.
  trimQueue() {
    let drop = this.queuedChars - TRIM_TO;
    const kept = [];
    for (const item of this.queue) {
      if (drop > 0 && item.type === "text") {
        if (item.text.length <= drop) {
          drop -= item.text.length;
          this.queuedChars -= item.text.length;
          continue;
        }
        item.text = item.text.slice(drop);
        this.queuedChars -= drop;
        drop = 0;
      }
      kept.push(item);
    }
    this.queue = kept;
    this.clearOnFlush = true; // what is on the page now is older than what was dropped
  }

  flush() {
    if (this.frame) cancelAnimationFrame(this.frame);
    if (this.timer) clearTimeout(this.timer);
    this.frame = 0;
    this.timer = 0;
    if (!this.queue.length && !this.focusWanted) return;
    const stick = this.atBottom();

    if (this.clearOnFlush) {
      this.clearOnFlush = false;
      const queue = this.queue;
      this.clear();
      this.queue = queue;
      this.root.classList.add("is-trimmed");
    }
    const queue = this.queue;
    this.queue = [];
    this.queuedChars = 0;
    if (queue.length) this.root.classList.remove("is-empty");

    for (const item of queue) {
      if (item.type === "text") {
        this.appendText(item.cls, item.text, item.style);
      } else if (item.type === "prompt") {
        for (const seg of item.segs) this.appendText("prompt-text", seg.text, seg.style);
        this.input.classList.add("prompting");
        this.focusWanted = true;
      } else if (item.type === "echo") {
        this.appendText("out-stdin user-input", item.text, null);
        if (item.eof) this.appendBlockless("eof-marker", "^D\n");
      } else if (item.type === "picture") {
        this.appendPicture(item.picture);
      } else if (item.type === "block") {
        const span = el("span", `${item.cls} block`);
        span.textContent = item.text;
        this.out.insertBefore(span, this.inputLine);
        this.totalChars += item.text.length;
        this.pendingCR = false;
        this.last = null;
      }
    }
    this.trim();
    if (stick || this.focusWanted) this.scrollToBottom();
    if (this.focusWanted && this.running && !this.input.disabled) {
      // Not preventScroll: on a phone the page itself scrolls to bring the field into view.
      this.input.focus();
    }
    this.focusWanted = false;
  }

  appendPicture({ mime, data, id, name }) {
    const src = `data:${mime};base64,${mime === "image/svg+xml" ? base64OfText(data) : data}`;
    const shown = id && this.pictures.get(id);
    if (shown && shown.isConnected) {
      shown.src = src; // the next frame of a plot: in place
      return;
    }
    // Spans, not <figure>: the console's text is a <pre>, which holds phrasing content only.
    const figure = el("span", "console-picture block");
    const img = el("img");
    img.src = src;
    img.alt = name ? `Picture ${name}` : "Picture from the program";
    figure.append(img);
    if (name) {
      const caption = el("span", "console-picture-name");
      caption.textContent = name;
      figure.append(caption);
    }
    this.out.insertBefore(figure, this.inputLine);
    if (id) this.pictures.set(id, img);
    this.totalChars += PICTURE_CHARS;
    this.pendingCR = false;
    this.last = null;
  }

  appendBlockless(cls, text) {
    const span = el("span", cls);
    span.textContent = text;
    this.out.insertBefore(span, this.inputLine);
    this.totalChars += text.length;
    this.last = null;
  }

  appendText(cls, text, style) {
    const parts = text.split("\r");
    for (let i = 0; i < parts.length; i++) {
      if (i > 0) this.pendingCR = true;
      const part = parts[i];
      if (!part) continue;
      if (this.pendingCR) {
        this.pendingCR = false;
        if (part[0] !== "\n") this.eraseLine(); // "\r" then text: rewrite the line
      }
      this.appendPlain(cls, part, style);
    }
  }

  appendPlain(cls, text, style) {
    const key = style && !isDefaultStyle(style) ? `${cls}#${styleKey(style)}` : cls;
    let offset = 0;
    const last = this.last;
    if (last && last.key === key && last.el.parentNode === this.out
        && last.el.nextSibling === this.inputLine && last.el.firstChild) {
      const room = SPAN_CHARS - last.el.firstChild.length;
      if (room > 0) {
        last.el.firstChild.appendData(text.slice(0, room));
        offset = Math.min(room, text.length);
      }
    }
    while (offset < text.length) {
      const piece = text.slice(offset, offset + SPAN_CHARS);
      offset += piece.length;
      const span = el("span", cls);
      if (style && !isDefaultStyle(style)) applyStyle(span, style, cls);
      span.textContent = piece;
      this.out.insertBefore(span, this.inputLine);
      this.last = { el: span, key };
    }
    this.totalChars += text.length;
  }

  // Removes the text after the last newline (what a "\r" moves back over).
  eraseLine() {
    let node = this.inputLine.previousSibling;
    while (node) {
      if (node.nodeType !== 1 || node.classList.contains("block")) break;
      const text = node.textContent;
      const nl = text.lastIndexOf("\n");
      if (nl >= 0) {
        if (nl < text.length - 1) {
          node.textContent = text.slice(0, nl + 1);
          this.totalChars -= text.length - nl - 1;
        }
        break;
      }
      const prev = node.previousSibling;
      node.remove();
      this.totalChars -= text.length;
      node = prev;
    }
    this.last = null;
  }

  trim() {
    if (this.totalChars <= MAX_CHARS) return;
    while (this.totalChars > TRIM_TO) {
      const node = this.out.firstChild;
      if (!node || node === this.inputLine) break;
      this.totalChars -= node.textContent.length + (node.classList?.contains("console-picture") ? PICTURE_CHARS : 0);
      node.remove();
    }
    if (this.last && this.last.el.parentNode !== this.out) this.last = null;
    this.root.classList.add("is-trimmed");
  }

  atBottom() {
    const r = this.root;
    return r.scrollHeight - r.scrollTop - r.clientHeight < STICK_PX;
  }

  scrollToBottom() {
    this.root.scrollTop = this.root.scrollHeight;
  }

  // ---- input ---------------------------------------------------------------------------------

  setRunning(running) {
    this.running = running;
    this.inputLine.hidden = !running;
    this.input.disabled = !running;
    this.input.classList.remove("prompting");
    if (running) {
      this.input.value = "";
      this.input.placeholder = "type input, Enter sends";
    } else {
      this.flush();
      if (document.activeElement === this.input) this.input.blur();
    }
  }

  focusInput() {
    if (this.running && !this.input.disabled) this.input.focus({ preventScroll: true });
  }

  send(payload, echoText) {
    if (!this.onInput(payload)) return false;
    this.enqueue({ type: "echo", text: echoText, eof: !!payload.eof });
    this.input.classList.remove("prompting");
    this.flush();
    this.scrollToBottom();
    return true;
  }

  onKeyDown(e) {
    if (e.isComposing || e.keyCode === 229) return;
    const input = this.input;
    if (e.key === "Enter" && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      const value = input.value;
      if (this.send({ data: value + "\n" }, value + "\n")) {
        if (value) this.history.push(value);
        this.historyPos = this.history.length;
        input.value = "";
      }
    } else if ((e.key === "d" || e.key === "D") && e.ctrlKey && !e.altKey && !e.metaKey) {
      e.preventDefault();
      const value = input.value;
      const payload = value ? { data: value, eof: true } : { eof: true };
      if (this.send(payload, value)) {
        input.value = "";
        input.disabled = true;
        input.placeholder = "input closed";
      }
    } else if (e.key === "ArrowUp" && this.history.length) {
      e.preventDefault();
      this.historyPos = Math.max(0, this.historyPos - 1);
      input.value = this.history[this.historyPos] ?? "";
    } else if (e.key === "ArrowDown" && this.history.length) {
      e.preventDefault();
      this.historyPos = Math.min(this.history.length, this.historyPos + 1);
      input.value = this.history[this.historyPos] ?? "";
    }
  }

  // Pasting several lines sends every complete line; the last, unfinished one stays in the field.
  onPaste(e) {
    const text = e.clipboardData && e.clipboardData.getData("text/plain");
    if (!text || !/[\r\n]/.test(text)) return;
    e.preventDefault();
    const input = this.input;
    const before = input.value.slice(0, input.selectionStart ?? input.value.length);
    const after = input.value.slice(input.selectionEnd ?? input.value.length);
    const lines = (before + text + after).split(/\r\n|\r|\n/);
    const rest = lines.pop();
    const data = lines.join("\n") + "\n";
    if (this.send({ data }, data)) input.value = rest;
  }
}

function base64OfText(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function el(tag, className) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  return node;
}

function applyStyle(span, style, cls) {
  let fg = style.fg;
  let bg = style.bg;
  if (style.inverse) {
    const defaultFg = cls === "out-stderr" ? "var(--stderr)" : "var(--console-fg)";
    [fg, bg] = [bg || "var(--console-bg)", fg || defaultFg];
  }
  // Colours are built by the ANSI module from numbers only (never from program text).
  if (fg) span.style.color = fg;
  if (bg) span.style.backgroundColor = bg;
  if (style.bold) span.classList.add("ansi-bold");
  if (style.dim) span.classList.add("ansi-dim");
  if (style.italic) span.classList.add("ansi-italic");
  if (style.underline) span.classList.add("ansi-underline");
  if (style.strike) span.classList.add("ansi-strike");
}
