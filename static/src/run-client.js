// The Socket.IO run client: one program at a time over the protocol in docs/protocol.md.
//
// It keeps what the protocol asks of a client: the `run` request and its acknowledgement, the id
// of the current run, the events that arrive before the acknowledgement (kept, then handled once
// the run's id is known), the events of a replaced run (dropped), the input typed before the run
// was accepted (sent after), and whether the connection is up. It does not touch the page: it is
// given a socket and reports through callbacks, so it can be tested with a fake socket
// (tests/js/run-client.test.mjs).

/**
 * The payload of `run` (client → server).
 * @typedef {{language: string, code: string, stdin?: string, args?: string[]}} RunRequest
 */
/**
 * The acknowledgement of `run`.
 * @typedef {{ok: true, run_id: string} | {ok: false, error: string}} RunAck
 */
/**
 * The payload of `stdin` (client → server): data, end-of-file, or both (data first).
 * @typedef {{data?: string, eof?: boolean}} StdinRequest
 */
/**
 * `output`: what the program wrote, as text (never markup).
 * @typedef {{run_id: string, stream: "stdout" | "stderr", data: string}} OutputEvent
 */
/**
 * `display`: a picture the program showed. `data` is base64, or the SVG's text; a picture with
 * the `id` of an earlier one replaces it (a plot's frames); `name` is the file it came from.
 * @typedef {{run_id: string, mime: PictureType, data: string, id?: string, name?: string}} DisplayEvent
 * @typedef {"image/png" | "image/jpeg" | "image/gif" | "image/svg+xml"} PictureType
 */
/**
 * `prompt`: the program waits for a line of input; `text` is the prompt ("" when it has none).
 * @typedef {{run_id: string, text: string}} PromptEvent
 */
/**
 * `status`: the run's phase; `position` (1-based) only while `queued`.
 * @typedef {{run_id: string, phase: "queued" | "compiling" | "running", position?: number}} StatusEvent
 */
/**
 * One compiler message or traceback line that points into the program (1-based).
 * @typedef {{line: number, column: number | null, severity: "error" | "warning", message: string}} Diagnostic
 */
/**
 * `diagnostics`: sent before `exit` when there are any.
 * @typedef {{run_id: string, items: Diagnostic[]}} DiagnosticsEvent
 */
/**
 * Why a run ended (docs/protocol.md, `exit`).
 * @typedef {"exited" | "killed" | "timeout" | "memory" | "output_limit" | "display_limit" | "compile_error" | "error"} ExitReason
 */
/**
 * `exit`: sent exactly once for every accepted run.
 * @typedef {{run_id: string, code: number | null, reason: ExitReason, signal: string | null,
 *   time_ms: number, memory_kb: number | null}} ExitEvent
 */
/**
 * `error`: a refused request; `run_id` only when it is about a run.
 * @typedef {{message: string, run_id?: string}} ErrorEvent
 */
/**
 * What the client reports. Every callback is optional; an exception in one is logged and does not
 * stop the client.
 * @typedef {object} RunCallbacks
 * @property {(run: {run_id: string}) => void} [onStarted]  the run was accepted
 * @property {(event: OutputEvent) => void} [onOutput]
 * @property {(event: DisplayEvent) => void} [onDisplay]
 * @property {(event: {run_id: string, commands: unknown[][]}) => void} [onTurtle]  turtle drawing
 * @property {(event: PromptEvent) => void} [onPrompt]
 * @property {(event: StatusEvent) => void} [onStatus]  only while the run is running
 * @property {(event: DiagnosticsEvent) => void} [onDiagnostics]
 * @property {(event: ExitEvent) => void} [onExit]  the run has ended
 * @property {(event: ErrorEvent) => void} [onError]  an `error` event (not a refused run)
 * @property {(refusal: {message: string}) => void} [onRefused]  the run was refused or not answered
 * @property {(info: {reconnected: boolean}) => void} [onConnect]
 * @property {(info: {reason: string, interrupted: boolean}) => void} [onDisconnect]
 *   `interrupted`: a run was requested or running, and has ended with the connection
 * @property {(info: {everConnected: boolean}) => void} [onConnectError]
 */
/**
 * The part of a Socket.IO client socket that the run client uses.
 * @typedef {object} SocketLike
 * @property {(name: string, listener: (...args: any[]) => void) => unknown} on
 * @property {(name: string, payload?: unknown) => unknown} emit
 * @property {(ms: number) => {emit: (name: string, payload: unknown,
 *   ack: (err: Error | null, ack?: RunAck) => void) => unknown}} timeout
 * @property {() => unknown} connect
 */

const ACK_TIMEOUT_MS = 20000;

const text = (value) => (typeof value === "string" ? value : "");

// Each event about a run: its payload as the callbacks get it, and the callback's name.
const RUN_EVENTS = {
  output: (d) => ["onOutput", { run_id: d.run_id, stream: d.stream === "stderr" ? "stderr" : "stdout", data: text(d.data) }],
  display: (d) => ["onDisplay", displayEvent(d)],
  turtle: (d) => ["onTurtle", { run_id: d.run_id, commands: Array.isArray(d.commands) ? d.commands : [] }],
  prompt: (d) => ["onPrompt", { run_id: d.run_id, text: text(d.text) }],
  status: (d) => ["onStatus", { run_id: d.run_id, phase: d.phase, position: d.position }],
  diagnostics: (d) => ["onDiagnostics", { run_id: d.run_id, items: Array.isArray(d.items) ? d.items : [] }],
  exit: (d) => ["onExit", {
    run_id: d.run_id, code: d.code, reason: d.reason, signal: d.signal, time_ms: d.time_ms, memory_kb: d.memory_kb,
  }],
  error: (d) => ["onError", errorEvent(d)],
};

export const PICTURE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/svg+xml"];

function displayEvent(d) {
  if (!PICTURE_TYPES.includes(d.mime)) return null; // the server sends no other kind
  const picture = { run_id: d.run_id, mime: d.mime, data: text(d.data) };
  if (typeof d.id === "string" && d.id) picture.id = d.id;
  if (typeof d.name === "string" && d.name) picture.name = d.name;
  return picture;
}

function errorEvent(data) {
  const message = text(data.message) || "Error";
  return data.run_id ? { run_id: data.run_id, message } : { message };
}

export class RunClient {
  /**
   * @param {SocketLike} socket  a Socket.IO client socket, or a fake with the same methods
   * @param {RunCallbacks} [callbacks]
   * @param {{ackTimeoutMs?: number}} [options]  how long to wait for the `run` acknowledgement
   */
  constructor(socket, callbacks = {}, { ackTimeoutMs = ACK_TIMEOUT_MS } = {}) {
    this.socket = socket;
    this.callbacks = callbacks;
    this.ackTimeoutMs = ackTimeoutMs;
    this.connected = false;
    this.everConnected = false;
    this.pending = false; // a run was requested and its acknowledgement has not arrived
    this.seq = 0; // which request the pending acknowledgement belongs to
    /** @type {string | null} the current run; events of any other run are dropped */
    this.runId = null;
    this.running = false;
    this.buffer = []; // [name, payload] received while pending (the run's id is not known yet)
    this.pendingStdin = []; // input sent while pending

    for (const name of Object.keys(RUN_EVENTS)) socket.on(name, (data) => this.receive(name, data));
    socket.on("connect", () => this.connect());
    socket.on("disconnect", (reason) => this.disconnect(reason));
    socket.on("connect_error", () => this.call("onConnectError", { everConnected: this.everConnected }));
  }

  /** A run was requested or is running. */
  get active() {
    return this.pending || this.running;
  }

  /** A snapshot, for tests and debugging. */
  get state() {
    const { connected, everConnected, pending, running, runId } = this;
    return { connected, everConnected, pending, running, runId, buffer: this.buffer.length, pendingStdin: this.pendingStdin.length };
  }

  /**
   * Starts a run, replacing the current one (the server stops it). False when not connected.
   * @param {RunRequest} request
   */
  run(request) {
    if (!this.connected) return false;
    const seq = ++this.seq;
    this.pending = true;
    this.running = false;
    this.runId = null;
    this.buffer = [];
    this.pendingStdin = [];
    this.socket.timeout(this.ackTimeoutMs).emit("run", request, (err, ack) => this.acknowledged(seq, err, ack));
    return true;
  }

  /**
   * Sends input to the run (kept until the run is accepted). False when nothing runs.
   * @param {StdinRequest} payload
   */
  sendStdin(payload) {
    if (this.pending) {
      this.pendingStdin.push(payload);
      return true;
    }
    if (!this.running || !this.connected) return false;
    this.socket.emit("stdin", payload);
    return true;
  }

  /**
   * A click or key in the turtle canvas, for the running program. False when nothing runs.
   * @param {{type: string, x?: number, y?: number, button?: number, key?: string}} event
   */
  sendCanvas(event) {
    if (!this.running || !this.connected) return false;
    this.socket.emit("canvas", event);
    return true;
  }

  /** Asks the server to stop the run (it ends with its `exit`). False when nothing runs. */
  kill() {
    if (!this.connected || !this.active) return false;
    this.socket.emit("kill", {});
    return true;
  }

  // ---- from the socket ---------------------------------------------------------------------

  acknowledged(seq, err, ack) {
    if (seq !== this.seq || !this.pending) return; // replaced by a newer run, or a disconnect
    this.pending = false;
    const buffered = this.buffer;
    const stdin = this.pendingStdin;
    this.buffer = [];
    this.pendingStdin = [];
    if (err || !ack || !ack.ok) {
      const message = err
        ? "The server did not answer the run request."
        : (ack && text(ack.error)) || "The run was refused.";
      this.call("onRefused", { message });
      return;
    }
    this.runId = ack.run_id;
    this.running = true;
    this.call("onStarted", { run_id: ack.run_id });
    for (const payload of stdin) this.socket.emit("stdin", payload);
    for (const [name, data] of buffered) this.handle(name, data);
  }

  receive(name, data) {
    if (!data || typeof data !== "object") return;
    if (this.pending) {
      // A refused run is reported once, by its acknowledgement. A server that asks for an
      // acknowledgement answers a refusal only there; an older server also sent an `error`
      // event without a run id, before the acknowledgement. So an `error` without a run id that
      // arrives while a `run` waits for its acknowledgement is about that request and is
      // dropped (this client sends nothing else then that the server could refuse).
      if (name === "error" && !data.run_id) return;
      // The run's id is not known yet: keep the event until the acknowledgement.
      this.buffer.push([name, data]);
      return;
    }
    this.handle(name, data);
  }

  handle(name, data) {
    if (name === "error" && !data.run_id) {
      this.call("onError", errorEvent(data));
      return;
    }
    if (!this.runId || data.run_id !== this.runId) return; // another run (one replaced, say)
    if (name === "status" && !this.running) return;
    if (name === "exit") this.running = false;
    const [callback, event] = RUN_EVENTS[name](data);
    if (event) this.call(callback, event);
  }

  connect() {
    const reconnected = this.everConnected;
    this.connected = true;
    this.everConnected = true;
    this.call("onConnect", { reconnected });
  }

  disconnect(reason) {
    this.connected = false;
    // The server stops a connection's run when the connection goes: nothing more will come of it.
    const interrupted = this.active;
    if (interrupted) {
      this.pending = false;
      this.running = false;
      this.runId = null;
      this.buffer = [];
      this.pendingStdin = [];
    }
    this.call("onDisconnect", { reason: String(reason || ""), interrupted });
    // The server closed the connection on purpose: Socket.IO will not retry by itself.
    if (reason === "io server disconnect") this.socket.connect();
  }

  call(name, data) {
    const callback = this.callbacks[name];
    if (!callback) return;
    try {
      callback(data);
    } catch (error) {
      console.error(error);
    }
  }
}
