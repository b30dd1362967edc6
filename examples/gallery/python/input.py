name = input("What is your name? ")
age = input("How old are you? ")
print(f"Hello, {name}!")
if age.isdigit():
    print(f"Next year you will be {int(age) + 1}.")
