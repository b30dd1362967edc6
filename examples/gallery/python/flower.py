import turtle

t = turtle.Turtle()
t.speed(0)

# The stem: a thick green line down from the middle.
t.penup()
t.goto(0, -30)
t.pendown()
t.pensize(8)
t.pencolor("forestgreen")
t.goto(0, -200)

# Six petals: filled circles around the middle.
t.pensize(1)
t.pencolor("darkred")
t.fillcolor("hotpink")
for petal in range(6):
    t.penup()
    t.goto(0, 0)
    t.setheading(petal * 60)
    t.forward(40)
    t.pendown()
    t.begin_fill()
    t.circle(25)
    t.end_fill()

# The middle, then a label.
t.penup()
t.goto(0, -20)
t.pendown()
t.fillcolor("gold")
t.begin_fill()
t.circle(20)
t.end_fill()

t.penup()
t.goto(0, -240)
t.write("A flower", align="center", font=("Arial", 18, "bold"))
t.hideturtle()
print("Six petals, filled.")
