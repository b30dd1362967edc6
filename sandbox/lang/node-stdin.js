// Preloaded into every JavaScript program (`node --require`, see codyskool/languages.toml).
//
// On a terminal, a program that stops reading its input (readline's `rl.close()`,
// `process.stdin.pause()`) ends as soon as it has nothing else to do. In the sandbox, standard
// input is a pipe that stays open while the program runs, and Node keeps a paused pipe open until
// end-of-file: the program would hang until the time limit. Un-referencing standard input while it
// is paused gives the terminal's behaviour back; resuming it (a new readline interface, a `data`
// listener) references it again.
"use strict";

const descriptor = Object.getOwnPropertyDescriptor(process, "stdin");
if (descriptor && typeof descriptor.get === "function" && descriptor.configurable) {
  let watched = false;
  Object.defineProperty(process, "stdin", {
    configurable: true,
    enumerable: descriptor.enumerable,
    get() {
      const stdin = descriptor.get.call(this); // created lazily, as without this file
      if (!watched && stdin && typeof stdin.unref === "function") {
        watched = true;
        stdin.on("pause", () => stdin.unref());
        stdin.on("resume", () => stdin.ref());
      }
      return stdin;
    },
  });
}
