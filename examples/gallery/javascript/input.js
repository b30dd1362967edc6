const readline = require("readline");

// Reads the lines typed in the console, one at a time.
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();

async function ask(question) {
  process.stdout.write(question);
  const { value, done } = await lines.next();
  return done ? "" : value;
}

async function main() {
  const name = await ask("What is your name? ");
  const age = await ask("How old are you? ");
  console.log(`Hello, ${name}!`);
  if (/^\d+$/.test(age.trim())) {
    console.log(`Next year you will be ${Number(age) + 1}.`);
  }
  process.exit(0);
}

main();
