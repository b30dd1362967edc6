printf "What is your name? "
read -r name
printf "How old are you? "
read -r age
echo "Hello, $name!"
if [[ "$age" =~ ^[0-9]+$ ]]; then
    echo "Next year you will be $((age + 1))."
fi
