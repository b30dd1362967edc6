from PIL import Image

WIDTH, HEIGHT = 256, 160
image = Image.new("RGB", (WIDTH, HEIGHT))

for y in range(HEIGHT):
    for x in range(WIDTH):
        red = x  # from left to right
        green = y * 255 // (HEIGHT - 1)  # from top to bottom
        blue = 255 if (x // 32 + y // 32) % 2 else 128  # a chequered board
        image.putpixel((x, y), (red, green, blue))

print(f"An image of {WIDTH} x {HEIGHT} pixels:")
image.show()
