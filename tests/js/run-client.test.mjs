// The run client against a fake socket: the protocol's ordering rules (docs/protocol.md, `run`)
// as the page sees them through the callbacks.

import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";

import { RunClient } from "../../static/src/run-client.js";
import { FakeSocket, recorder } from "./fake-socket.mjs";

const PROGRAM = { language: "python", code: "print(1)" };

let socket;
let record;
let client;

beforeEach(() => {
  socket = new FakeSocket();
  record = recorder();
  client = new RunClient(socket, record.callbacks);
  socket.fire("connect");
  record.calls.length = 0;
});

/** Requests a run and has the server accept it as `runId`. */
function started(runId) {
  assert.equal(client.run(PROGRAM), true);
  socket.ack({ ok: true, run_id: runId });
}

const exitOf = (runId, more = {}) => ({
  run_id: runId, code: 0, reason: "exited", signal: null, time_ms: 5, memory_kb: 900, ...more,
});

describe("the run request", () => {
  test("sends the program and waits for the acknowledgement", () => {
    assert.equal(client.run(PROGRAM), true);
    assert.deepEqual(socket.sent, [["run", PROGRAM]]);
    assert.equal(socket.acks[0].timeoutMs, 20000);
    assert.deepEqual(client.state, {
      connected: true, everConnected: true, pending: true, running: false, runId: null, buffer: 0, pendingStdin: 0,
    });
    socket.ack({ ok: true, run_id: "r1" });
    assert.deepEqual(record.calls, [["onStarted", { run_id: "r1" }]]);
    assert.equal(client.running, true);
    assert.equal(client.runId, "r1");
  });

  test("is not sent while disconnected", () => {
    socket.fire("disconnect", "transport close");
    assert.equal(client.run(PROGRAM), false);
    assert.deepEqual(socket.sent, []);
  });

  test("events after the acknowledgement are handled at once", () => {
    started("r1");
    socket.fire("output", { run_id: "r1", stream: "stdout", data: "1\n" });
    socket.fire("exit", exitOf("r1"));
    assert.deepEqual(record.calls, [
      ["onStarted", { run_id: "r1" }],
      ["onOutput", { run_id: "r1", stream: "stdout", data: "1\n" }],
      ["onExit", exitOf("r1")],
    ]);
  });

  test("events before the acknowledgement are kept, then handled in order after it", () => {
    client.run(PROGRAM);
    socket.fire("status", { run_id: "r1", phase: "running" });
    socket.fire("output", { run_id: "r1", stream: "stderr", data: "oops" });
    socket.fire("prompt", { run_id: "r1", text: "Name: " });
    assert.deepEqual(record.calls, []);
    assert.equal(client.state.buffer, 3);
    socket.ack({ ok: true, run_id: "r1" });
    assert.deepEqual(record.calls, [
      ["onStarted", { run_id: "r1" }],
      ["onStatus", { run_id: "r1", phase: "running", position: undefined }],
      ["onOutput", { run_id: "r1", stream: "stderr", data: "oops" }],
      ["onPrompt", { run_id: "r1", text: "Name: " }],
    ]);
    assert.equal(client.state.buffer, 0);
  });

  test("input typed before the acknowledgement is sent after it", () => {
    client.run(PROGRAM);
    assert.equal(client.sendStdin({ data: "Ada\n" }), true);
    assert.equal(client.sendStdin({ eof: true }), true);
    assert.deepEqual(socket.sentNamed("stdin"), []);
    socket.ack({ ok: true, run_id: "r1" });
    assert.deepEqual(socket.sentNamed("stdin"), [{ data: "Ada\n" }, { eof: true }]);
    assert.equal(client.sendStdin({ data: "more\n" }), true);
    assert.deepEqual(socket.sentNamed("stdin").at(-1), { data: "more\n" });
  });

  test("no answer within the timeout is reported as a refusal", () => {
    client.run(PROGRAM);
    socket.ackTimeout();
    assert.deepEqual(record.calls, [["onRefused", { message: "The server did not answer the run request." }]]);
    assert.equal(client.active, false);
  });
});

describe("a replaced run", () => {
  test("its events are dropped, the new run's are kept", () => {
    started("r1");
    socket.fire("output", { run_id: "r1", stream: "stdout", data: "old" });
    client.run(PROGRAM); // the server stops r1 first: its exit comes before r2's events
    socket.fire("output", { run_id: "r1", stream: "stdout", data: "late" });
    socket.fire("exit", exitOf("r1", { code: null, reason: "killed" }));
    socket.fire("output", { run_id: "r2", stream: "stdout", data: "new" });
    socket.ack({ ok: true, run_id: "r2" });
    socket.fire("output", { run_id: "r1", stream: "stdout", data: "later still" });
    socket.fire("output", { run_id: "r2", stream: "stdout", data: "!" });
    assert.deepEqual(record.named("onOutput").map((e) => e.data), ["old", "new", "!"]);
    assert.deepEqual(record.named("onExit"), []);
    assert.equal(client.running, true);
  });

  test("the acknowledgement of a request replaced before its answer is ignored", () => {
    client.run(PROGRAM);
    client.run(PROGRAM);
    socket.ack({ ok: true, run_id: "r1" });
    assert.equal(client.pending, true);
    assert.equal(client.runId, null);
    socket.ack({ ok: true, run_id: "r2" });
    assert.deepEqual(record.named("onStarted"), [{ run_id: "r2" }]);
    assert.equal(client.runId, "r2");
  });

  test("an event without a run id is not taken for the current run's", () => {
    started("r1");
    socket.fire("output", { stream: "stdout", data: "whose?" });
    socket.fire("exit", { code: 0, reason: "exited" });
    assert.deepEqual(record.calls, [["onStarted", { run_id: "r1" }]]);
  });
});

describe("a refused run", () => {
  test("is reported once when the server answers only in the acknowledgement", () => {
    client.run(PROGRAM);
    socket.ack({ ok: false, error: "too many runs from your address" });
    assert.deepEqual(record.calls, [["onRefused", { message: "too many runs from your address" }]]);
    assert.equal(client.active, false);
  });

  test("is reported once when the server also sends an error event before the acknowledgement", () => {
    client.run(PROGRAM);
    socket.fire("error", { message: "unknown language 'cobol'" });
    socket.ack({ ok: false, error: "unknown language 'cobol'" });
    assert.deepEqual(record.calls, [["onRefused", { message: "unknown language 'cobol'" }]]);
  });

  test("without a message is still reported", () => {
    client.run(PROGRAM);
    socket.ack({ ok: false });
    assert.deepEqual(record.calls, [["onRefused", { message: "The run was refused." }]]);
  });

  test("drops what it kept: input typed meanwhile is not sent", () => {
    client.run(PROGRAM);
    client.sendStdin({ data: "x\n" });
    socket.fire("output", { run_id: "r0", stream: "stdout", data: "of the run it replaced" });
    socket.ack({ ok: false, error: "busy" });
    assert.deepEqual(socket.sentNamed("stdin"), []);
    assert.deepEqual(record.named("onOutput"), []);
    assert.equal(client.sendStdin({ data: "y\n" }), false);
  });
});

describe("the end of a run", () => {
  test("exit ends the run: no more input, stop or status", () => {
    started("r1");
    socket.fire("exit", exitOf("r1", { code: 3 }));
    assert.equal(client.running, false);
    assert.equal(client.active, false);
    assert.equal(client.sendStdin({ data: "x\n" }), false);
    assert.equal(client.kill(), false);
    socket.fire("status", { run_id: "r1", phase: "running" });
    assert.deepEqual(record.named("onStatus"), []);
    assert.deepEqual(record.named("onExit"), [exitOf("r1", { code: 3 })]);
    assert.deepEqual(socket.sentNamed("stdin"), []);
  });

  test("kill asks the server to stop the run, which then ends with its exit", () => {
    started("r1");
    assert.equal(client.kill(), true);
    assert.deepEqual(socket.sentNamed("kill"), [{}]);
    assert.equal(client.running, true);
    socket.fire("exit", exitOf("r1", { code: null, reason: "killed" }));
    assert.equal(client.running, false);
  });

  test("kill while the request waits for its acknowledgement is sent", () => {
    client.run(PROGRAM);
    assert.equal(client.kill(), true);
  });
});

describe("error events", () => {
  test("one without a run is reported when no run request is waiting", () => {
    socket.fire("error", { message: "malformed Socket.IO packet: bad JSON" });
    started("r1");
    socket.fire("error", { message: "stdin line too long" });
    assert.deepEqual(record.named("onError"), [
      { message: "malformed Socket.IO packet: bad JSON" },
      { message: "stdin line too long" },
    ]);
  });

  test("one about the current run is reported with its run id; about another, dropped", () => {
    started("r1");
    socket.fire("error", { run_id: "r1", message: "input over the limit" });
    socket.fire("error", { run_id: "r0", message: "old news" });
    assert.deepEqual(record.named("onError"), [{ run_id: "r1", message: "input over the limit" }]);
  });

  test("one about the run is kept until the acknowledgement, like its other events", () => {
    client.run(PROGRAM);
    socket.fire("error", { run_id: "r1", message: "input over the limit" });
    assert.deepEqual(record.named("onError"), []);
    socket.ack({ ok: true, run_id: "r1" });
    assert.deepEqual(record.named("onError"), [{ run_id: "r1", message: "input over the limit" }]);
  });

  test("a missing message becomes 'Error'; a payload that is not an object is ignored", () => {
    socket.fire("error", { message: 42 });
    socket.fire("error", "text");
    socket.fire("error", null);
    assert.deepEqual(record.named("onError"), [{ message: "Error" }]);
  });
});

describe("payloads", () => {
  test("are given to the callbacks in the protocol's shapes", () => {
    started("r1");
    socket.fire("output", { run_id: "r1", stream: "weird", data: 5, extra: true });
    socket.fire("prompt", { run_id: "r1" });
    socket.fire("status", { run_id: "r1", phase: "queued", position: 2 });
    socket.fire("diagnostics", { run_id: "r1", items: "nope" });
    socket.fire("exit", { ...exitOf("r1"), extra: 1 });
    assert.deepEqual(record.calls.slice(1), [
      ["onOutput", { run_id: "r1", stream: "stdout", data: "" }],
      ["onPrompt", { run_id: "r1", text: "" }],
      ["onStatus", { run_id: "r1", phase: "queued", position: 2 }],
      ["onDiagnostics", { run_id: "r1", items: [] }],
      ["onExit", exitOf("r1")],
    ]);
  });

  test("a callback that throws does not stop the events after it", (t) => {
    const calls = [];
    const quiet = t.mock.method(console, "error", () => {});
    const other = new FakeSocket();
    const c = new RunClient(other, {
      onOutput: (e) => {
        calls.push(e.data);
        if (e.data === "a") throw new Error("boom");
      },
    });
    other.fire("connect");
    c.run(PROGRAM);
    other.fire("output", { run_id: "r1", stream: "stdout", data: "a" });
    other.fire("output", { run_id: "r1", stream: "stdout", data: "b" });
    other.ack({ ok: true, run_id: "r1" });
    assert.deepEqual(calls, ["a", "b"]);
    assert.equal(quiet.mock.callCount(), 1);
  });
});

describe("the connection", () => {
  test("connect, then reconnect, are told apart", () => {
    socket.fire("disconnect", "transport close");
    socket.fire("connect_error");
    socket.fire("connect");
    assert.deepEqual(record.calls, [
      ["onDisconnect", { reason: "transport close", interrupted: false }],
      ["onConnectError", { everConnected: true }],
      ["onConnect", { reconnected: true }],
    ]);
    const fresh = recorder();
    new RunClient(new FakeSocket(), fresh.callbacks);
    const other = new FakeSocket();
    new RunClient(other, fresh.callbacks);
    other.fire("connect_error");
    other.fire("connect");
    assert.deepEqual(fresh.calls, [["onConnectError", { everConnected: false }], ["onConnect", { reconnected: false }]]);
  });

  test("a disconnect ends the run; its late acknowledgement and events are ignored", () => {
    client.run(PROGRAM);
    socket.fire("disconnect", "transport close");
    assert.deepEqual(record.calls, [["onDisconnect", { reason: "transport close", interrupted: true }]]);
    assert.equal(client.active, false);
    socket.ack({ ok: true, run_id: "r1" });
    socket.fire("output", { run_id: "r1", stream: "stdout", data: "x" });
    assert.equal(record.calls.length, 1);
    assert.equal(client.runId, null);
    assert.equal(socket.reconnects, 0); // Socket.IO retries by itself
  });

  test("a disconnect by the server is followed by a new connection attempt", () => {
    started("r1");
    socket.fire("disconnect", "io server disconnect");
    assert.equal(socket.reconnects, 1);
    assert.equal(client.runId, null);
    assert.equal(client.sendStdin({ data: "x" }), false);
    assert.equal(client.kill(), false);
  });
});

describe("pictures", () => {
  test("a display event reaches onDisplay with only the fields of the protocol", () => {
    started("r1");
    socket.fire("display", { run_id: "r1", mime: "image/png", data: "iVBORw0K", id: "figure-1", extra: 1 });
    socket.fire("display", { run_id: "r1", mime: "image/svg+xml", data: "<svg/>", name: "a.svg" });
    assert.deepEqual(record.calls.slice(1), [
      ["onDisplay", { run_id: "r1", mime: "image/png", data: "iVBORw0K", id: "figure-1" }],
      ["onDisplay", { run_id: "r1", mime: "image/svg+xml", data: "<svg/>", name: "a.svg" }],
    ]);
  });

  test("a picture of a type the protocol does not name is dropped", () => {
    started("r1");
    socket.fire("display", { run_id: "r1", mime: "text/html", data: "<b>hi</b>" });
    socket.fire("display", { run_id: "r2", mime: "image/png", data: "x" });
    assert.deepEqual(record.calls.slice(1), []);
  });
});

describe("the turtle canvas", () => {
  test("turtle events reach onTurtle, and clicks and keys go out only while the run runs", () => {
    assert.equal(client.sendCanvas({ type: "keydown", key: "Up" }), false);
    started("r1");
    socket.fire("turtle", { run_id: "r1", commands: [["clear"]] });
    socket.fire("turtle", { run_id: "r1", commands: "not a list" });
    assert.deepEqual(record.named("onTurtle"), [{ run_id: "r1", commands: [["clear"]] }, { run_id: "r1", commands: [] }]);
    assert.equal(client.sendCanvas({ type: "click", x: 1, y: 2, button: 1 }), true);
    assert.deepEqual(socket.sent.at(-1), ["canvas", { type: "click", x: 1, y: 2, button: 1 }]);
    socket.fire("exit", exitOf("r1"));
    assert.equal(client.sendCanvas({ type: "keyup", key: "q" }), false);
  });
});
