// The turtle scene (static/src/turtle-canvas.js): batches of `turtle` commands make the items
// the canvas draws, in z order; and the page's keys named as Tk names them.

import assert from "node:assert/strict";
import { test } from "node:test";

import { TurtleScene, tkKey } from "../../static/src/turtle-canvas.js";

test("commands create, replace and delete items, drawn in z order", () => {
  const scene = new TurtleScene();
  scene.apply([
    ["size", 400, 300], ["bg", "lightyellow"],
    ["line", 4, [0, 0, 10, 0], "black", 1, 5],
    ["poly", 3, [0, 0, 1, 1, 2, 0], "red", "black", 1, 9],
    ["line", 4, [0, 0, 10, 0, 10, -10], "blue", 2, 5],
  ]);
  assert.deepEqual([scene.width, scene.height, scene.background], [400, 300, "lightyellow"]);
  assert.deepEqual(scene.ordered().map((item) => [item.kind, item.colour ?? item.fill]), [["line", "blue"], ["poly", "red"]]);
  scene.apply([["poly", 3, [0, 0, 1, 1, 2, 0], "red", "black", 1, 2], ["text", 7, [0, 0], "hi", "s", ["Arial", 8, "normal"], "black", 11]]);
  assert.deepEqual(scene.ordered().map((item) => item.kind), ["poly", "line", "text"], "a lower z goes under");
  scene.apply([["delete", 4]]);
  assert.deepEqual(scene.ordered().map((item) => item.kind), ["poly", "text"]);
  scene.apply([["clear"]]);
  assert.deepEqual(scene.ordered(), []);
});

test("pictures of other types and unknown commands change nothing; sizes are kept in bounds", () => {
  const scene = new TurtleScene();
  scene.apply([["picture", 1, "image/svg+xml", "PHN2Zz4="], ["script", "alert(1)"], "line", ["size", 1e9, -5]]);
  assert.equal(scene.pictures.size, 0);
  assert.deepEqual(scene.ordered(), []);
  assert.deepEqual([scene.width, scene.height], [4000, 1]);
  scene.apply([["picture", 2, "image/gif", "R0lGOD"], ["image", 5, [0, 0], 2, 1]]);
  assert.deepEqual(scene.pictures.get(2), { mime: "image/gif", data: "R0lGOD" });
});

test("keys are named as Tk names them", () => {
  assert.deepEqual(["ArrowUp", " ", "Enter", "a", "A", "F5", "Backspace", "Dead", "Unidentified"].map(tkKey),
    ["Up", "space", "Return", "a", "A", "F5", "BackSpace", null, null]);
});
