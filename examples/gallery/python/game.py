import random

secret = random.randint(1, 100)
print("I'm thinking of a number from 1 to 100. You have 7 tries.")

for attempt in range(1, 8):
    try:
        text = input(f"Guess #{attempt}: ")
    except EOFError:
        print("\nBye! The number was", secret)
        break
    if not text.strip().isdigit():
        print("Please type a whole number.")
        continue
    guess = int(text)
    if guess < secret:
        print("Too low.")
    elif guess > secret:
        print("Too high.")
    else:
        print(f"You got it in {attempt} tries!")
        break
else:
    print("Out of tries! The number was", secret)
