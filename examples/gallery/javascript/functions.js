// n! = 1 * 2 * ... * n
function factorial(n) {
  let result = 1;
  for (let i = 2; i <= n; i++) {
    result *= i;
  }
  return result;
}

function isPrime(n) {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) {
    if (n % d === 0) return false;
  }
  return true;
}

// An arrow function with a default argument
const greet = (name, greeting = "Hello") => `${greeting}, ${name}!`;

console.log("5! =", factorial(5));
const primes = [...Array(30).keys()].filter(isPrime);
console.log("Primes below 30:", primes.join(" "));
console.log(greet("Ada"));
console.log(greet("Alan", "Welcome"));
