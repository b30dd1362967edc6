import matplotlib.pyplot as plt
import pandas as pd

pets = pd.DataFrame({
    "name": ["Rex", "Tom", "Kiki", "Bella", "Max", "Luna", "Coco"],
    "kind": ["dog", "cat", "bird", "dog", "dog", "cat", "bird"],
    "age": [3, 5, 1, 7, 2, 4, 6],
})
print(pets)

counts = pets.groupby("kind").size()
print()
print("How many of each kind:")
print(counts)

counts.plot(kind="bar", color=["tab:orange", "tab:blue", "tab:green"], rot=0)
plt.title("Pets by kind")
plt.ylabel("how many")
plt.show()
