// The console's ANSI parser: output chunks in, text segments with a style out.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { AnsiParser, applySgr, cleanText, defaultStyle, isDefaultStyle, styleKey } from "../../static/src/ansi.js";

/** The segments of `chunks` fed to one parser, as [text, the style's non-default fields]. */
function parse(...chunks) {
  const parser = new AnsiParser();
  return chunks.flatMap((chunk) => parser.push(chunk)).map(({ text, style }) => [text, changed(style)]);
}

function changed(style) {
  const base = defaultStyle();
  return Object.fromEntries(Object.entries(style).filter(([key, value]) => base[key] !== value));
}

describe("text", () => {
  test("plain text is one segment in the default style", () => {
    assert.deepEqual(parse("hello\nworld"), [["hello\nworld", {}]]);
  });

  test("\\r\\n becomes \\n; a lone \\r stays for the console to rewrite the line", () => {
    assert.deepEqual(parse("a\r\nb\r\r\nc\rd"), [["a\nb\nc\rd", {}]]);
  });

  test("control characters other than tab, newline and carriage return are removed", () => {
    assert.equal(cleanText("a\x00b\x07c\td\x7fe\x9bf\u00a0g"), "abc\tdef\u00a0g");
    assert.deepEqual(parse("ding\x07!"), [["ding!", {}]]);
  });

  test("empty segments are left out", () => {
    assert.deepEqual(parse("\x1b[31m\x1b[0m"), []);
    assert.deepEqual(parse(""), []);
  });
});

describe("SGR styles", () => {
  test("a colour applies until it is reset", () => {
    assert.deepEqual(parse("\x1b[31mred\x1b[0m plain"), [
      ["red", { fg: "var(--ansi-red)" }],
      [" plain", {}],
    ]);
  });

  test("bright, background and attribute codes", () => {
    assert.deepEqual(parse("\x1b[1;3;4;9;92;44mx"), [
      ["x", { fg: "var(--ansi-bright-green)", bg: "var(--ansi-blue)", bold: true, italic: true, underline: true, strike: true }],
    ]);
    assert.deepEqual(parse("\x1b[1;2m\x1b[22mx"), [["x", {}]]);
    assert.deepEqual(parse("\x1b[7mx\x1b[27my"), [["x", { inverse: true }], ["y", {}]]);
    assert.deepEqual(parse("\x1b[31;42m\x1b[39;49mx"), [["x", {}]]);
  });

  test("256-colour and true-colour codes, with ; or :", () => {
    assert.deepEqual(parse("\x1b[38;5;196ma\x1b[48;5;1mb"), [
      ["a", { fg: "rgb(255, 0, 0)" }],
      ["b", { fg: "rgb(255, 0, 0)", bg: "var(--ansi-red)" }],
    ]);
    assert.deepEqual(parse("\x1b[38;5;232mg"), [["g", { fg: "rgb(8, 8, 8)" }]]);
    assert.deepEqual(parse("\x1b[38;2;1;2;300mt"), [["t", { fg: "rgb(1, 2, 255)" }]]);
    assert.deepEqual(parse("\x1b[38:2::10:20:30mc\x1b[48:5:2md"), [
      ["c", { fg: "rgb(10, 20, 30)" }],
      ["d", { fg: "rgb(10, 20, 30)", bg: "var(--ansi-green)" }],
    ]);
  });

  test("an empty SGR resets; unknown and malformed codes are ignored", () => {
    assert.deepEqual(parse("\x1b[31m\x1b[mx"), [["x", {}]]);
    assert.deepEqual(parse("\x1b[5;8;31mx"), [["x", { fg: "var(--ansi-red)" }]]);
    assert.deepEqual(parse("\x1b[38;9;1mx"), [["x", {}]]);
  });

  test("applySgr changes the style it is given", () => {
    const style = defaultStyle();
    assert.equal(applySgr(style, "1;33"), style);
    assert.equal(style.bold, true);
    assert.equal(style.fg, "var(--ansi-yellow)");
  });

  test("styles are snapshots: later codes do not change segments already returned", () => {
    const parser = new AnsiParser();
    const [first] = parser.push("\x1b[31mred");
    parser.push("\x1b[32mgreen");
    assert.equal(first.style.fg, "var(--ansi-red)");
  });
});

describe("other escape sequences", () => {
  test("cursor moves, screen clears and private modes are dropped without acting", () => {
    assert.deepEqual(parse("a\x1b[2J\x1b[H\x1b[?25lb\x1b[10;5Hc"), [["abc", {}]]);
  });

  test("OSC titles (BEL or ST), DCS strings and short escapes are dropped", () => {
    assert.deepEqual(parse("\x1b]0;title\x07a\x1b]8;;http://x\x1b\\b\x1bPq#0\x1b\\c\x1b(Bd\x1b7e"), [["abcde", {}]]);
  });

  test("a sequence split across chunks is held back until the rest arrives", () => {
    assert.deepEqual(parse("a\x1b[3", "1mb"), [["a", {}], ["b", { fg: "var(--ansi-red)" }]]);
    assert.deepEqual(parse("x\x1b]0;ti", "tle\x07y"), [["x", {}], ["y", {}]]);
    assert.deepEqual(parse("x\x1b", "[1my"), [["x", {}], ["y", { bold: true }]]);
  });

  test("an unterminated sequence longer than 4096 characters is dropped", () => {
    const parser = new AnsiParser();
    assert.deepEqual(parser.push("a\x1b]0;" + "t".repeat(5000)), [{ text: "a", style: defaultStyle() }]);
    assert.equal(parser.carry, "");
  });

  test("reset forgets the style and any partial sequence", () => {
    const parser = new AnsiParser();
    parser.push("\x1b[31mred\x1b[");
    parser.reset();
    assert.deepEqual(parser.push("1mplain").map((s) => [s.text, changed(s.style)]), [["1mplain", {}]]);
  });
});

describe("style keys", () => {
  test("the default style has an empty key; others a key per style", () => {
    const red = applySgr(defaultStyle(), "31");
    const boldRed = applySgr(defaultStyle(), "1;31");
    assert.equal(isDefaultStyle(defaultStyle()), true);
    assert.equal(isDefaultStyle(red), false);
    assert.equal(styleKey(defaultStyle()), "");
    assert.notEqual(styleKey(red), styleKey(boldRed));
    assert.equal(styleKey(red), styleKey(applySgr(defaultStyle(), "31")));
  });
});
