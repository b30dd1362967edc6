import math

import matplotlib.pyplot as plt

xs = [i / 10 for i in range(0, 63)]
plt.plot(xs, [math.sin(x) for x in xs], label="sin(x)")
plt.plot(xs, [math.cos(x) for x in xs], label="cos(x)", linestyle="--")
plt.title("Two waves")
plt.xlabel("x")
plt.legend()
plt.grid(True)
print("Drawing the plot...")
plt.show()
print("Done.")
