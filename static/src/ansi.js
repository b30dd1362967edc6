// ANSI escape handling for the console.
//
// Program output is text, never markup. This module turns a stream of output chunks into
// segments {text, style}: SGR colour/attribute sequences (ESC [ ... m) become a style, every other
// escape sequence (cursor moves, clear screen, OSC titles, DCS strings, ...) is dropped without
// acting, and control characters other than \t, \n and \r are removed. "\r\n" becomes "\n"; a lone
// "\r" is kept so the console can rewrite the current line (progress bars); the console treats a
// "\r" directly followed by "\n" in a later chunk as a plain newline.
//
// A sequence split across two chunks is held back until the rest arrives.

/* eslint no-control-regex: "off" -- matching control characters is this module's job */

const MAX_CARRY = 4096; // an unterminated sequence longer than this is dropped

// Regexes anchored (sticky) at an ESC.
const CSI = /\x1b\[([0-?]*)([ -/]*)([@-~])/y;
const CSI_PREFIX = /\x1b\[[0-?]*[ -/]*/y;
const STRING_SEQ = /\x1b[\]PX^_][\s\S]*?(?:\x07|\x1b\\)/y; // OSC (BEL or ST), DCS, SOS, PM, APC
const OTHER_ESC = /\x1b[ -/]*[0-~]/y; // ESC ( B, ESC 7, ESC c, ESC =, ...
const INCOMPLETE = /\x1b(?:\[[0-?]*[ -/]*|[\]PX^_][\s\S]*|[ -/]*)$/y;

// C0 controls except \t \n \r, DEL, and C1 controls (U+0080..U+009F).
const CONTROL_CHARS = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/g;

export function defaultStyle() {
  return {
    fg: null, bg: null, // a CSS colour string or null
    bold: false, dim: false, italic: false, underline: false, inverse: false, strike: false,
  };
}

export function isDefaultStyle(s) {
  return !s.fg && !s.bg && !s.bold && !s.dim && !s.italic && !s.underline && !s.inverse && !s.strike;
}

export function styleKey(s) {
  if (isDefaultStyle(s)) return "";
  return [s.fg, s.bg, +s.bold, +s.dim, +s.italic, +s.underline, +s.inverse, +s.strike].join("|");
}

const BASIC = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"];

function paletteColour(n) {
  // 0..15 follow the theme (CSS variables); the rest of the 256-colour table is fixed.
  if (n < 16) return `var(--ansi-${n < 8 ? BASIC[n] : "bright-" + BASIC[n - 8]})`;
  if (n < 232) {
    const i = n - 16;
    const level = (v) => (v === 0 ? 0 : 55 + v * 40);
    return `rgb(${level(Math.floor(i / 36))}, ${level(Math.floor(i / 6) % 6)}, ${level(i % 6)})`;
  }
  const grey = 8 + (n - 232) * 10;
  return `rgb(${grey}, ${grey}, ${grey})`;
}

function byte(v) {
  const n = Number.parseInt(v, 10);
  if (!Number.isFinite(n)) return 0;
  return Math.max(0, Math.min(255, n));
}

// Reads an extended colour (38/48) from params starting after the 38/48. Returns [colour, used].
function extendedColour(params, i) {
  const kind = Number.parseInt(params[i], 10);
  if (kind === 5 && i + 1 < params.length) {
    const n = Number.parseInt(params[i + 1], 10);
    return [Number.isFinite(n) && n >= 0 && n <= 255 ? paletteColour(n) : null, 2];
  }
  if (kind === 2 && i + 3 < params.length) {
    return [`rgb(${byte(params[i + 1])}, ${byte(params[i + 2])}, ${byte(params[i + 3])})`, 4];
  }
  return [null, params.length - i]; // malformed: ignore the rest
}

// Colon sub-parameters, e.g. 38:2::255:0:0 or 38:5:196 or 4:3.
function colonColour(parts) {
  const kind = Number.parseInt(parts[1], 10);
  if (kind === 5) {
    const n = Number.parseInt(parts[2], 10);
    return Number.isFinite(n) && n >= 0 && n <= 255 ? paletteColour(n) : null;
  }
  if (kind === 2) {
    const rgb = parts.length >= 6 ? parts.slice(parts.length - 3) : parts.slice(2, 5);
    if (rgb.length < 3) return null;
    return `rgb(${byte(rgb[0])}, ${byte(rgb[1])}, ${byte(rgb[2])})`;
  }
  return null;
}

export function applySgr(style, paramText) {
  const params = paramText === "" ? ["0"] : paramText.split(";");
  for (let i = 0; i < params.length; i++) {
    const raw = params[i];
    if (raw.includes(":")) {
      const parts = raw.split(":");
      const head = Number.parseInt(parts[0], 10);
      if (head === 38) style.fg = colonColour(parts);
      else if (head === 48) style.bg = colonColour(parts);
      else if (head === 4) style.underline = parts[1] !== "0";
      continue;
    }
    const p = raw === "" ? 0 : Number.parseInt(raw, 10);
    if (!Number.isFinite(p)) continue;
    if (p === 0) Object.assign(style, defaultStyle());
    else if (p === 1) style.bold = true;
    else if (p === 2) style.dim = true;
    else if (p === 3) style.italic = true;
    else if (p === 4 || p === 21) style.underline = true;
    else if (p === 7) style.inverse = true;
    else if (p === 9) style.strike = true;
    else if (p === 22) { style.bold = false; style.dim = false; }
    else if (p === 23) style.italic = false;
    else if (p === 24) style.underline = false;
    else if (p === 27) style.inverse = false;
    else if (p === 29) style.strike = false;
    else if (p >= 30 && p <= 37) style.fg = paletteColour(p - 30);
    else if (p === 38 || p === 48) {
      const [colour, used] = extendedColour(params, i + 1);
      if (p === 38) style.fg = colour; else style.bg = colour;
      i += used;
    }
    else if (p === 39) style.fg = null;
    else if (p >= 40 && p <= 47) style.bg = paletteColour(p - 40);
    else if (p === 49) style.bg = null;
    else if (p >= 90 && p <= 97) style.fg = paletteColour(p - 90 + 8);
    else if (p >= 100 && p <= 107) style.bg = paletteColour(p - 100 + 8);
    // anything else (blink, conceal, fonts, ...) is ignored
  }
  return style;
}

// One parser per output stream: it keeps the current SGR style and any partial sequence.
export class AnsiParser {
  constructor() {
    this.style = defaultStyle();
    this.carry = "";
  }

  reset() {
    this.style = defaultStyle();
    this.carry = "";
  }

  // Returns [{text, style}] for the chunk. Styles are snapshots (safe to keep).
  push(chunk) {
    let data = this.carry + chunk;
    this.carry = "";
    const out = [];
    let snapshot = { ...this.style };
    let text = "";
    const emit = () => {
      if (text) {
        out.push({ text: cleanText(text), style: snapshot });
        text = "";
      }
    };

    let pos = 0;
    while (pos < data.length) {
      const esc = data.indexOf("\x1b", pos);
      if (esc === -1) {
        text += data.slice(pos);
        break;
      }
      text += data.slice(pos, esc);
      pos = esc;

      CSI.lastIndex = pos;
      let m = CSI.exec(data);
      if (m) {
        if (m[3] === "m" && m[2] === "" && !/[<=>?]/.test(m[1])) {
          emit();
          applySgr(this.style, m[1]);
          snapshot = { ...this.style };
        }
        pos = CSI.lastIndex;
        continue;
      }
      STRING_SEQ.lastIndex = pos;
      m = STRING_SEQ.exec(data);
      if (m) {
        pos = STRING_SEQ.lastIndex;
        continue;
      }
      INCOMPLETE.lastIndex = pos;
      if (INCOMPLETE.test(data)) {
        const rest = data.slice(pos);
        if (rest.length <= MAX_CARRY) this.carry = rest;
        pos = data.length;
        break;
      }
      OTHER_ESC.lastIndex = pos;
      m = OTHER_ESC.exec(data);
      if (m) {
        pos = OTHER_ESC.lastIndex;
        continue;
      }
      // A malformed sequence: drop the ESC and whatever CSI prefix follows it.
      CSI_PREFIX.lastIndex = pos;
      pos = CSI_PREFIX.test(data) ? CSI_PREFIX.lastIndex : pos + 1;
    }

    emit();
    return out.filter((seg) => seg.text.length > 0);
  }

}

export function cleanText(text) {
  return text.replace(/\r+\n/g, "\n").replace(CONTROL_CHARS, "");
}
