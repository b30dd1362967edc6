# n! = 1 * 2 * ... * n (a function "returns" text by printing it)
factorial() {
    local result=1
    for ((i = 2; i <= $1; i++)); do
        result=$((result * i))
    done
    echo "$result"
}

# A function's exit status says yes (0) or no (1)
is_prime() {
    local n=$1
    ((n < 2)) && return 1
    for ((d = 2; d * d <= n; d++)); do
        ((n % d == 0)) && return 1
    done
    return 0
}

greet() {
    local name=$1 greeting=${2:-Hello}
    echo "$greeting, $name!"
}

echo "5! = $(factorial 5)"
primes=()
for ((n = 0; n < 30; n++)); do
    if is_prime "$n"; then primes+=("$n"); fi
done
echo "Primes below 30: ${primes[*]}"
greet Ada
greet Alan Welcome
