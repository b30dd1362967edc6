def factorial(n):
    """n! = 1 * 2 * ... * n"""
    result = 1
    for i in range(2, n + 1):
        result *= i
    return result


def is_prime(n):
    if n < 2:
        return False
    for d in range(2, int(n ** 0.5) + 1):
        if n % d == 0:
            return False
    return True


def greet(name, greeting="Hello"):
    return f"{greeting}, {name}!"


print("5! =", factorial(5))
print("Primes below 30:", *[n for n in range(30) if is_prime(n)])
print(greet("Ada"))
print(greet("Alan", greeting="Welcome"))
