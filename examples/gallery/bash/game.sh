secret=$((RANDOM % 100 + 1))
echo "I'm thinking of a number from 1 to 100. You have 7 tries."

for ((attempt = 1; attempt <= 7; attempt++)); do
    printf "Guess #%d: " "$attempt"
    if ! read -r guess; then
        echo
        echo "Bye! The number was $secret"
        exit 0
    fi
    if ! [[ "$guess" =~ ^[0-9]+$ ]]; then
        echo "Please type a whole number."
    elif ((10#$guess < secret)); then
        echo "Too low."
    elif ((10#$guess > secret)); then
        echo "Too high."
    else
        echo "You got it in $attempt tries!"
        exit 0
    fi
done
echo "Out of tries! The number was $secret"
