// A stand-in for a Socket.IO client socket, driven by the test: it records what the client sends
// and lets the test play the server (events, acknowledgements, connection changes).

export class FakeSocket {
  constructor() {
    this.listeners = new Map();
    this.sent = []; // [name, payload] in the order the client sent them
    this.acks = []; // {name, payload, timeoutMs, answer(err, ack)} not answered yet
    this.reconnects = 0; // calls of connect()
  }

  on(name, listener) {
    if (!this.listeners.has(name)) this.listeners.set(name, []);
    this.listeners.get(name).push(listener);
    return this;
  }

  emit(name, payload) {
    this.sent.push([name, payload]);
    return this;
  }

  timeout(timeoutMs) {
    return {
      emit: (name, payload, answer) => {
        this.sent.push([name, payload]);
        this.acks.push({ name, payload, timeoutMs, answer });
      },
    };
  }

  connect() {
    this.reconnects += 1;
    return this;
  }

  // ---- the server's side -------------------------------------------------------------------

  /** The server sends event `name` (also "connect", "disconnect", "connect_error"). */
  fire(name, ...args) {
    for (const listener of this.listeners.get(name) || []) listener(...args);
  }

  /** Answers the oldest acknowledgement still waiting. */
  ack(answer) {
    const waiting = this.acks.shift();
    if (!waiting) throw new Error("no acknowledgement is waiting");
    waiting.answer(null, answer);
  }

  /** The oldest acknowledgement still waiting times out. */
  ackTimeout() {
    this.acks.shift().answer(new Error("operation has timed out"));
  }

  sentNamed(name) {
    return this.sent.filter(([n]) => n === name).map(([, payload]) => payload);
  }
}

/** Callbacks that record every call as [name, payload], in order. */
export function recorder() {
  const calls = [];
  const callbacks = new Proxy({}, {
    get: (_, name) => (typeof name === "string" && name.startsWith("on")
      ? (payload) => calls.push([name, payload])
      : undefined),
  });
  return { calls, callbacks, named: (name) => calls.filter(([n]) => n === name).map(([, p]) => p) };
}
