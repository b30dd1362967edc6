// Programs in a link's fragment: the format docs/embed.md gives other tools (raw DEFLATE, unpadded
// base64url), checked against Node's zlib as a second implementation.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { deflateRawSync, inflateRawSync } from "node:zlib";

import {
  compress, decompress, hasProgram, programFromFragment, programToFragment,
} from "../../static/src/fragment.js";

// CompressionStream("deflate-raw") came to Node in 21.2 and was backported to later 18.x and 20.x
// releases; where it is missing, only the tests that need it are skipped.
const noDeflateRaw = (() => {
  try {
    new CompressionStream("deflate-raw");
    return false;
  } catch {
    return "this Node has no CompressionStream(\"deflate-raw\")";
  }
})();

const PROGRAM = 'name = input("Name: ")\nprint(f"Grüße, {name} ✓")\n';

/** What the Python recipe in docs/embed.md makes. */
const zlibData = (text) => deflateRawSync(Buffer.from(text, "utf8")).toString("base64url");

describe("the data format", { skip: noDeflateRaw }, () => {
  test("compress makes unpadded base64url of raw DEFLATE", async () => {
    const data = await compress(PROGRAM);
    assert.match(data, /^[A-Za-z0-9_-]+$/);
    assert.equal(inflateRawSync(Buffer.from(data, "base64url")).toString("utf8"), PROGRAM);
  });

  test("decompress reads what another implementation made", async () => {
    assert.equal(await decompress(zlibData(PROGRAM)), PROGRAM);
    assert.equal(await decompress(zlibData("")), "");
  });

  test("a long program survives (more than one chunk of base64)", async () => {
    const text = Array.from({ length: 4000 }, (_, i) => `print(${i * 7919 % 1000003})\n`).join("");
    assert.equal(await decompress(await compress(text)), text);
  });

  test("a program that inflates past the limit is refused", async () => {
    const data = zlibData("x".repeat(10000));
    assert.equal((await decompress(data, 10000)).length, 10000);
    await assert.rejects(decompress(data, 9999), /larger than 9999 bytes/);
  });

  test("data that is not base64url, not DEFLATE or not UTF-8 is refused", async () => {
    await assert.rejects(decompress("a+b/"), /not base64url/);
    await assert.rejects(decompress("bm90IGRlZmxhdGU"));
    const latin1 = deflateRawSync(Buffer.from([0x47, 0x72, 0xfc, 0xdf])).toString("base64url");
    await assert.rejects(decompress(latin1), TypeError);
  });
});

describe("fragments", { skip: noDeflateRaw }, () => {
  test("a program and its stdin make a fragment and come back from it", async () => {
    const fragment = await programToFragment({ language: "c++", code: PROGRAM, stdin: "Ada\n" });
    assert.match(fragment, /^lang=c%2B%2B&code=[A-Za-z0-9_-]+&stdin=[A-Za-z0-9_-]+$/);
    assert.deepEqual(await programFromFragment("#" + fragment), { language: "c++", code: PROGRAM, stdin: "Ada\n" });
  });

  test("stdin is left out when empty; lang may be missing", async () => {
    const fragment = await programToFragment({ language: "python", code: "print(1)", stdin: "" });
    assert.doesNotMatch(fragment, /stdin=/);
    assert.deepEqual(await programFromFragment(`#code=${zlibData("print(2)")}`), { language: "", code: "print(2)", stdin: "" });
  });

  test("the limits apply to code and stdin separately", async () => {
    const hash = `#lang=python&code=${zlibData("12345")}&stdin=${zlibData("123")}`;
    assert.equal((await programFromFragment(hash, { code_limit_bytes: 5, stdin_limit_bytes: 3 })).code, "12345");
    await assert.rejects(programFromFragment(hash, { code_limit_bytes: 4, stdin_limit_bytes: 3 }), /larger than 4 bytes/);
    await assert.rejects(programFromFragment(hash, { code_limit_bytes: 5, stdin_limit_bytes: 2 }), /larger than 2 bytes/);
  });
});

describe("a hash without a program", () => {
  test("holds none", async () => {
    for (const hash of ["", "#", "#lang=python", null, undefined]) {
      assert.equal(hasProgram(hash), false, String(hash));
      assert.equal(await programFromFragment(hash), null, String(hash));
    }
    assert.equal(hasProgram("#lang=python&code="), true);
    assert.equal(hasProgram("code=abc"), true);
  });
});
