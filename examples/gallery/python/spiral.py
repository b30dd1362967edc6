import turtle

colours = ["red", "orange", "gold", "green", "blue", "purple"]

t = turtle.Turtle()
t.speed(0)  # no animation of each line...
turtle.delay(3)  # ...but a short pause after each step, so the spiral grows before your eyes
t.pensize(2)
turtle.bgcolor("black")

for step in range(72):
    t.pencolor(colours[step % len(colours)])
    t.forward(step * 4)
    t.left(91)

t.hideturtle()
print("A spiral of 72 lines.")
