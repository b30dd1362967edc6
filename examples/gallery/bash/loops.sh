# Count from 1 to 5
for i in 1 2 3 4 5; do
    echo "Counting: $i"
done

# Add up the numbers from 1 to 100
total=0
for ((n = 1; n <= 100; n++)); do
    total=$((total + n))
done
echo "1 + 2 + ... + 100 = $total"

# Draw a triangle
size=5
row=1
while ((row <= size)); do
    spaces=$(printf "%*s" $((size - row)) "")
    stars=$(printf "%*s" $((2 * row - 1)) "" | tr " " "*")
    echo "$spaces$stars"
    row=$((row + 1))
done

# Go through the items of a list
for fruit in apple banana cherry; do
    echo "I like ${fruit}s"
done
