# Count from 1 to 5
for i in range(1, 6):
    print("Counting:", i)

# Add up the numbers from 1 to 100
total = 0
for n in range(1, 101):
    total += n
print("1 + 2 + ... + 100 =", total)

# Draw a triangle
size = 5
row = 1
while row <= size:
    print(" " * (size - row) + "*" * (2 * row - 1))
    row += 1
