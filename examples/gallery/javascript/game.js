const readline = require("readline");

const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();

async function ask(question) {
  process.stdout.write(question);
  const { value, done } = await lines.next();
  return done ? null : value;
}

async function main() {
  const secret = Math.floor(Math.random() * 100) + 1;
  console.log("I'm thinking of a number from 1 to 100. You have 7 tries.");

  for (let attempt = 1; attempt <= 7; attempt++) {
    const text = await ask(`Guess #${attempt}: `);
    if (text === null) {
      console.log(`\nBye! The number was ${secret}`);
      process.exit(0);
    }
    const guess = Number.parseInt(text, 10);
    if (Number.isNaN(guess)) {
      console.log("Please type a whole number.");
    } else if (guess < secret) {
      console.log("Too low.");
    } else if (guess > secret) {
      console.log("Too high.");
    } else {
      console.log(`You got it in ${attempt} tries!`);
      process.exit(0);
    }
  }
  console.log(`Out of tries! The number was ${secret}`);
  process.exit(0);
}

main();
