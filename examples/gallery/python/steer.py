import turtle

screen = turtle.Screen()
screen.bgcolor("honeydew")
screen.title("Steer the turtle")

player = turtle.Turtle()
player.shape("turtle")
player.color("darkgreen")
player.pensize(3)
player.speed(0)

moves = 0


def forward():
    global moves
    player.forward(20)
    moves += 1


def back():
    player.backward(20)


def left():
    player.left(30)


def right():
    player.right(30)


def stop():
    print(f"You made {moves} moves. Bye!")
    screen.bye()


screen.onkeypress(forward, "Up")
screen.onkeypress(back, "Down")
screen.onkeypress(left, "Left")
screen.onkeypress(right, "Right")
screen.onkey(stop, "q")
screen.listen()

print("Click the canvas, then use the arrow keys. Press Q to stop.")
screen.mainloop()
