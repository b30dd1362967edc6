// Count from 1 to 5
for (let i = 1; i <= 5; i++) {
  console.log("Counting:", i);
}

// Add up the numbers from 1 to 100
let total = 0;
for (let n = 1; n <= 100; n++) {
  total += n;
}
console.log("1 + 2 + ... + 100 =", total);

// Draw a triangle
const size = 5;
let row = 1;
while (row <= size) {
  console.log(" ".repeat(size - row) + "*".repeat(2 * row - 1));
  row++;
}

// Go through the items of an array
for (const fruit of ["apple", "banana", "cherry"]) {
  console.log(`I like ${fruit}s`);
}
