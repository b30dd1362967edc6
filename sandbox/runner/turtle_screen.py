"""Python's own turtle module, drawn live in the page's canvas instead of a Tk window.

turtle.py keeps everything Tk does in one class, TurtleScreenBase ("To port turtle.py to some
different graphics toolkit a corresponding TurtleScreenBase class has to be implemented"). When
a program imports turtle, graphics.py has ``install`` put PageScreenBase's methods in its place and
a PageRoot where the Tk window would be. Everything else is the standard module, so its API
behaves as learners know it: speed, tracer, fills, stamps, shapes, undo, world coordinates.

What the canvas would draw goes to the page as turtle commands (docs/graphics.md), batched: at
most one batch every FLUSH_S, each item's latest state only. Clicks and keys come back on
EVENTS_FD, one JSON line each, and are handled during ``update`` and the main loop, as Tk does.
"""

import base64
import heapq
import json
import os
import select
import sys
import time
from _thread import get_native_id

from .python_child import flush_standard_streams, print_user_traceback
from .wire import CONTROL_FD, CONTROL_KIND, EVENTS_FD, write_frame

# At most this often a batch of drawing goes to the page while the program draws: turtle.py's
# own pause after each step (10 ms by default), so an animation's every step is seen.
FLUSH_S = 0.01
SCREEN = (1280, 800)  # the "screen" turtle sizes its window from: the default window is 640 x 600
MAX_BATCH_BYTES = 1 << 20
MAX_PICTURE_BYTES = 1 << 20  # a shape's or background's picture (base64 in one command, one frame)
LONG_WAIT_S = 0.05  # a main loop's wait at least this long is told to the runner: it is not run time
DIGITS = 2  # coordinates go to the page rounded to this many decimals

CSS_COLOURS = frozenset({  # the colour names CSS shares with X11 (and so with Tk)
    "aliceblue", "antiquewhite", "aqua", "aquamarine", "azure", "beige", "bisque", "black",
    "blanchedalmond", "blue", "blueviolet", "brown", "burlywood", "cadetblue", "chartreuse", "chocolate",
    "coral", "cornflowerblue", "cornsilk", "crimson", "cyan", "darkblue", "darkcyan", "darkgoldenrod",
    "darkgray", "darkgreen", "darkgrey", "darkkhaki", "darkmagenta", "darkolivegreen", "darkorange",
    "darkorchid", "darkred", "darksalmon", "darkseagreen", "darkslateblue", "darkslategray",
    "darkslategrey", "darkturquoise", "darkviolet", "deeppink", "deepskyblue", "dimgray", "dimgrey",
    "dodgerblue", "firebrick", "floralwhite", "forestgreen", "fuchsia", "gainsboro", "ghostwhite", "gold",
    "goldenrod", "gray", "green", "greenyellow", "grey", "honeydew", "hotpink", "indianred", "indigo",
    "ivory", "khaki", "lavender", "lavenderblush", "lawngreen", "lemonchiffon", "lightblue", "lightcoral",
    "lightcyan", "lightgoldenrodyellow", "lightgray", "lightgreen", "lightgrey", "lightpink", "lightsalmon",
    "lightseagreen", "lightskyblue", "lightslategray", "lightslategrey", "lightsteelblue", "lightyellow",
    "lime", "limegreen", "linen", "magenta", "maroon", "mediumaquamarine", "mediumblue", "mediumorchid",
    "mediumpurple", "mediumseagreen", "mediumslateblue", "mediumspringgreen", "mediumturquoise",
    "mediumvioletred", "midnightblue", "mintcream", "mistyrose", "moccasin", "navajowhite", "navy",
    "oldlace", "olive", "olivedrab", "orange", "orangered", "orchid", "palegoldenrod", "palegreen",
    "paleturquoise", "palevioletred", "papayawhip", "peachpuff", "peru", "pink", "plum", "powderblue",
    "purple", "rebeccapurple", "red", "rosybrown", "royalblue", "saddlebrown", "salmon", "sandybrown",
    "seagreen", "seashell", "sienna", "silver", "skyblue", "slateblue", "slategray", "slategrey", "snow",
    "springgreen", "steelblue", "tan", "teal", "thistle", "tomato", "turquoise", "violet", "wheat", "white",
    "whitesmoke", "yellow", "yellowgreen",
})  # fmt: skip
TK_ONLY_COLOURS = {"navyblue": "#000080", "lightgoldenrod": "#eedd82", "violetred": "#d02090"}


def css_colour(colour: object) -> str | None:
    """A Tk colour string as CSS (names as X11 spells them, #rgb to #rrrrggggbbbb, grayN); None
    for what Tk would refuse. The 140-odd names CSS shares with X11 are known; other Tk names
    (SeaGreen3, say) are refused as bad colour strings."""
    if not isinstance(colour, str):
        return None
    if colour == "":
        return ""
    text = colour.strip()
    if text.startswith("#"):
        digits = text[1:].lower()
        if len(digits) not in (3, 6, 9, 12) or any(c not in "0123456789abcdef" for c in digits):
            return None
        width = len(digits) // 3
        parts = [digits[i * width : (i + 1) * width] for i in range(3)]
        return "#" + "".join(part * 2 if width == 1 else part[:2] for part in parts)
    name = text.replace(" ", "").lower()
    if name in CSS_COLOURS:
        return name
    if name in TK_ONLY_COLOURS:
        return TK_ONLY_COLOURS[name]
    for prefix in ("gray", "grey"):
        level = name[len(prefix):]
        if name.startswith(prefix) and level.isdigit() and int(level) <= 100:
            value = round(int(level) * 255 / 100)
            return f"#{value:02x}{value:02x}{value:02x}"
    return None


class PageImage:
    """A picture for shapes and backgrounds (turtle's PhotoImage): GIF or PNG bytes, or blank."""

    numbers = iter(range(1, 1 << 30))

    def __init__(self, data: bytes | None = None) -> None:
        self.data = data
        self.ref = next(self.numbers) if data else None
        self.size = picture_size(data) if data else (1, 1)

    def width(self) -> int:
        return self.size[0]

    def height(self) -> int:
        return self.size[1]


def picture_size(data: bytes) -> tuple[int, int]:
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    raise ValueError("a turtle shape or background picture must be a GIF or PNG file")


class Drawing:
    """The canvas's items as the page has them, and what changed since the last batch."""

    def __init__(self) -> None:
        self.items: dict[int, dict] = {}
        self.numbers = iter(range(1, 1 << 62))
        self.z = 0
        self.dirty: dict[int, None] = {}  # items changed since the last batch, in order
        self.sent: set[int] = set()  # items the page has
        self.ops: list[list] = []  # other commands since the last batch, in order
        self.pictures_sent: set[int] = set()
        self.last_flush = 0.0
        self.root: PageRoot | None = None  # the window, once the program has a screen

    def create(self, kind: str, **state: object) -> int:
        number = next(self.numbers)
        self.z += 1
        self.items[number] = {"kind": kind, "coords": [], "z": self.z, **state}
        return number

    def change(self, number: int, top: bool = False, **state: object) -> None:
        item = self.items.get(number)
        if item is None:
            return
        item.update(state)
        if top:
            self.z += 1
            item["z"] = self.z
        self.dirty[number] = None

    def delete(self, number: object) -> None:
        if number == "all":
            self.items.clear()
            self.dirty.clear()
            self.sent.clear()
            self.ops = [op for op in self.ops if op[0] in ("size", "bg", "title", "view")] + [["clear"]]
            return
        if self.items.pop(number, None) is None:
            return
        self.dirty.pop(number, None)
        if number in self.sent:
            self.sent.discard(number)
            self.ops.append(["delete", number])

    def command(self, number: int) -> list:
        item = self.items[number]
        coords = [round(value, DIGITS) + 0.0 for value in item["coords"]]  # + 0.0: no -0.0
        kind = item["kind"]
        if kind == "line":
            return ["line", number, coords, item["fill"], item["width"], item["z"]]
        if kind == "poly":
            return ["poly", number, coords, item["fill"], item["outline"], item["width"], item["z"]]
        if kind == "text":
            return ["text", number, coords, item["text"], item["anchor"], item["font"], item["fill"],
                    item["z"]]
        return ["image", number, coords, item["image"], item["z"]]

    def flush(self, now: float | None = None) -> None:
        """Send what changed, if anything did; `now` given: only when FLUSH_S has passed since the last."""
        if now is not None and now - self.last_flush < FLUSH_S:
            return
        self.last_flush = time.monotonic() if now is None else now
        if not self.dirty and not self.ops:
            return
        batch, self.ops = self.ops, []
        for number in self.dirty:
            item = self.items[number]
            picture = item.get("picture")
            if picture is not None and picture.ref not in self.pictures_sent:
                self.pictures_sent.add(picture.ref)
                batch.append(picture_command(picture))
            batch.append(self.command(number))
            self.sent.add(number)
        self.dirty.clear()
        send(batch)


def picture_command(picture: PageImage) -> list:
    mime = "image/gif" if picture.data[:3] == b"GIF" else "image/png"
    return ["picture", picture.ref, mime, base64.b64encode(picture.data).decode("ascii")]


def send(batch: list) -> None:
    """Drawing commands to the runner, in frames of at most MAX_BATCH_BYTES."""
    chunk: list = []
    size = 0
    for command in batch:
        text = json.dumps(command, separators=(",", ":"))
        if chunk and size + len(text) > MAX_BATCH_BYTES:
            write_commands(chunk)
            chunk, size = [], 0
        chunk.append(text)
        size += len(text) + 1
    if chunk:
        write_commands(chunk)


def write_commands(texts: list[str]) -> None:
    try:
        write_frame(CONTROL_FD, CONTROL_KIND["turtle"], ("[" + ",".join(texts) + "]").encode())
    except OSError:
        pass


class Events:
    """Clicks, keys and timers, and who handles them: Tk's event loop, for the page's canvas."""

    def __init__(self, possible: bool) -> None:
        self.possible = possible  # whether a page can send any (not under POST /api/run)
        self.buffer = b""
        self.timers: list = []  # (when, order, function)
        self.order = 0
        self.clicks: dict[tuple, object] = {}  # ("screen" | item, button, kind) -> function(x, y)
        self.keys: dict[tuple, object] = {}  # ("press" | "release", key or None) -> function()
        self.grabbed: int | None = None  # the item a drag began on

    def handlers(self) -> bool:
        return self.possible and bool(self.clicks or self.keys)

    def later(self, function: object, ms: int) -> None:
        self.order += 1
        heapq.heappush(self.timers, (time.monotonic() + max(ms, 0) / 1000, self.order, function))

    def read(self, timeout: float | None) -> list[dict]:
        """The events that came, waiting up to `timeout` for one (None: until one comes)."""
        if not self.possible:
            if timeout:
                time.sleep(timeout)
            return []
        waiting = timeout is None or timeout >= LONG_WAIT_S
        if waiting:
            hint(b" canvas", CONTROL_KIND["reading"])
        ready: list = []
        try:
            ready = select.select([EVENTS_FD], [], [], timeout)[0]
            data = os.read(EVENTS_FD, 65536) if ready else b""
        except OSError:  # the program closed or reused the events' fd: no more can come
            ready, data = [EVENTS_FD], b""
        finally:
            if waiting:
                hint(b"", CONTROL_KIND["read"])
        if ready and not data:
            self.possible = False  # the runner closed it: no more events can come
        *lines, self.buffer = (self.buffer + data).split(b"\n")
        events = []
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                events.append(event)
        return events

    def due(self) -> list:
        now = time.monotonic()
        due = []
        while self.timers and self.timers[0][0] <= now:
            due.append(heapq.heappop(self.timers)[2])
        return due

    def next_timer_in(self) -> float | None:
        return max(0.0, self.timers[0][0] - time.monotonic()) if self.timers else None


def hint(suffix: bytes, kind: bytes) -> None:
    try:
        write_frame(CONTROL_FD, kind, f"{os.getpid()} {get_native_id()}".encode() + suffix)
    except OSError:
        pass


def call(function: object, *args: object) -> None:
    """A handler, as Tk calls one: an error it raises is printed, and the loop goes on."""
    import turtle

    try:
        function(*args)
    except turtle.Terminator:
        raise
    except Exception as error:  # noqa: BLE001 - Tk reports a callback's error and goes on
        flush_standard_streams()
        print_user_traceback(error)


def inside(x: float, y: float, coords: list[float]) -> bool:
    """Whether (x, y) is inside the polygon of flat coordinates (even-odd rule)."""
    points = list(zip(coords[::2], coords[1::2], strict=False))
    hit = False
    for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=False):
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            hit = not hit
    return hit


class PageCanvas:
    """What stands where turtle.py keeps its Tk canvas: the window's and the canvas's size."""

    def __init__(self, width: int, height: int, canvwidth: int, canvheight: int) -> None:
        self.window = (width, height)
        self.canvwidth = canvwidth
        self.canvheight = canvheight
        self.bg = "white"
        self.view = (0.0, 0.0)  # the canvas's point at the window's centre (setworldcoordinates)

    def __getattr__(self, name: str) -> object:
        raise AttributeError(f"the turtle canvas here is the page's, not Tk's: it has no {name!r} "
                             "(see 'turtle' in CodySkool's docs/graphics.md)")


class PageRoot:
    """What stands where turtle.py keeps its Tk window."""

    def __init__(self) -> None:
        self.destroyed = False
        self._canvas: PageCanvas | None = None
        DRAWING.root = self

    def title(self, text: str) -> None:
        DRAWING.ops.append(["title", str(text)[:200]])

    def ondestroy(self, destroy: object) -> None:
        pass

    def setupcanvas(self, width: int, height: int, canvwidth: int, canvheight: int) -> None:
        self._canvas = PageCanvas(width, height, canvwidth, canvheight)

    def _getcanvas(self) -> PageCanvas | None:
        return self._canvas

    def set_geometry(self, width: float, height: float, startx: float, starty: float) -> None:
        self._canvas.window = (int(width), int(height))
        DRAWING.ops.append(["size", int(width), int(height)])

    def win_width(self) -> int:
        return SCREEN[0]

    def win_height(self) -> int:
        return SCREEN[1]

    def destroy(self) -> None:
        self.destroyed = True
        DRAWING.flush()


class PageScreenBase:
    """TurtleScreenBase's methods, for the page's canvas (the originals' docstrings say what each does)."""

    def __init__(self, cv: PageCanvas) -> None:
        self.cv = cv
        self.canvwidth = cv.canvwidth
        self.canvheight = cv.canvheight
        self.xscale = self.yscale = 1.0

    def _blankimage(self) -> PageImage:
        return PageImage()

    def _image(self, filename: str) -> PageImage:
        import turtle

        with open(filename, "rb") as file:
            data = file.read(MAX_PICTURE_BYTES + 1)
        if len(data) > MAX_PICTURE_BYTES:
            raise turtle.TurtleGraphicsError(f"{filename} is over {MAX_PICTURE_BYTES >> 20} MiB: "
                                             "too large for a turtle shape or background")
        return PageImage(data)

    def _createpoly(self) -> int:
        return DRAWING.create("poly", fill="", outline="", width=1)

    def _drawpoly(self, polyitem: int, coordlist: list, fill: str | None = None, outline: str | None = None,
                  width: float | None = None, top: bool = False) -> None:
        state = {"coords": self._scaled(coordlist)}
        for key, value in (("fill", fill), ("outline", outline), ("width", width)):
            if value is not None:
                state[key] = css_colour(value) if key != "width" else value
        DRAWING.change(polyitem, top, **state)

    def _createline(self) -> int:
        return DRAWING.create("line", fill="", width=2)

    def _drawline(self, lineitem: int, coordlist: list | None = None, fill: str | None = None,
                  width: float | None = None, top: bool = False) -> None:
        state: dict = {}
        if coordlist is not None:
            state["coords"] = self._scaled(coordlist)
        if fill is not None:
            state["fill"] = css_colour(fill)
        if width is not None:
            state["width"] = width
        DRAWING.change(lineitem, top, **state)

    def _scaled(self, coordlist: list) -> list[float]:
        flat = []
        for x, y in coordlist:
            flat += [x * self.xscale, -y * self.yscale]
        return flat

    def _delete(self, item: object) -> None:
        DRAWING.delete(item)

    def _update(self) -> None:
        DRAWING.flush(time.monotonic())
        handle(EVENTS.read(0), self)  # none to read where no page can send them

    def _delay(self, delay: int) -> None:
        """turtle.py's pause after each step: the drawing goes first, at most every FLUSH_S
        (unless the pause is as long: then the page would see it late)."""
        DRAWING.flush(None if delay >= FLUSH_S * 1000 else time.monotonic())
        if delay:
            time.sleep(delay / 1000)

    def _iscolorstring(self, color: str) -> bool:
        return css_colour(color) is not None

    def _bgcolor(self, color: str | None = None) -> str | None:
        if color is None:
            return self.cv.bg
        self.cv.bg = color
        DRAWING.ops.append(["bg", css_colour(color)])
        self._update()
        return None

    def _write(self, pos: tuple, txt: str, align: str, font: tuple, pencolor: str) -> tuple[int, float]:
        x, y = pos[0] * self.xscale, pos[1] * self.yscale
        font = tuple(font) if isinstance(font, (tuple, list)) else (font,)
        family, size, style = font[:3] + ("Arial", 8, "normal")[len(font[:3]):]
        anchor = {"left": "sw", "center": "s", "right": "se"}[align]
        item = DRAWING.create("text", coords=[x - 1, -y], text=str(txt)[:10000], anchor=anchor,
                              font=[str(family), float(size), str(style)], fill=css_colour(pencolor))
        DRAWING.dirty[item] = None
        width = len(str(txt)) * abs(float(size)) * 0.8  # about what Tk measures of a proportional font
        left = {"left": x - 1, "center": x - 1 - width / 2, "right": x - 1 - width}[align]
        return item, left + width - 1

    def _onclick(self, item: int, fun: object, num: int = 1, add: object = None) -> None:
        bind(EVENTS.clicks, (item, num, "click"), fun)

    def _onrelease(self, item: int, fun: object, num: int = 1, add: object = None) -> None:
        bind(EVENTS.clicks, (item, num, "release"), fun)

    def _ondrag(self, item: int, fun: object, num: int = 1, add: object = None) -> None:
        bind(EVENTS.clicks, (item, num, "drag"), fun)

    def _onscreenclick(self, fun: object, num: int = 1, add: object = None) -> None:
        bind(EVENTS.clicks, ("screen", num, "click"), fun)

    def _onkeyrelease(self, fun: object, key: str) -> None:
        bind(EVENTS.keys, ("release", key), fun)

    def _onkeypress(self, fun: object, key: str | None = None) -> None:
        bind(EVENTS.keys, ("press", key), fun)

    def _listen(self) -> None:
        pass  # the page's canvas takes the keys once it has been clicked or tabbed to

    def _ontimer(self, fun: object, t: int) -> None:
        EVENTS.later(fun, t)

    def _createimage(self, image: object) -> int:
        return DRAWING.create("image", image=None, picture=None)

    def _drawimage(self, item: int, pos: tuple, image: object) -> None:
        picture = image if isinstance(image, PageImage) and image.ref else None
        DRAWING.change(item, coords=[pos[0] * self.xscale, -pos[1] * self.yscale],
                       image=picture.ref if picture else None, picture=picture)

    def _setbgpic(self, item: int, image: object) -> None:
        picture = image if isinstance(image, PageImage) and image.ref else None
        if picture is not None and picture.ref not in DRAWING.pictures_sent:
            DRAWING.pictures_sent.add(picture.ref)
            DRAWING.ops.append(picture_command(picture))
        DRAWING.ops.append(["bgpic", picture.ref if picture else None])

    def _type(self, item: int) -> str:
        kind = DRAWING.items.get(item, {}).get("kind", "")
        return {"poly": "polygon"}.get(kind, kind)

    def _pointlist(self, item: int) -> list[tuple[float, float]]:
        coords = DRAWING.items.get(item, {}).get("coords", [])
        return [(coords[i], -coords[i + 1]) for i in range(0, len(coords) - 1, 2)]

    def _setscrollregion(self, srx1: float, sry1: float, srx2: float, sry2: float) -> None:
        """setworldcoordinates: the window shows this region of the canvas, centred."""
        self.cv.view = ((srx1 + srx2) / 2, (sry1 + sry2) / 2)
        DRAWING.ops.append(["view", round(self.cv.view[0], DIGITS), round(self.cv.view[1], DIGITS)])

    def _rescale(self, xscalefactor: float, yscalefactor: float) -> None:
        for number, item in DRAWING.items.items():
            coords = item["coords"]
            item["coords"] = [value * (xscalefactor if index % 2 == 0 else yscalefactor)
                              for index, value in enumerate(coords)]
            DRAWING.dirty[number] = None

    def _resize(self, canvwidth: int | None = None, canvheight: int | None = None,
                bg: str | None = None) -> tuple[int, int] | None:
        if canvwidth is canvheight is bg is None:
            return self.canvwidth, self.canvheight
        if canvwidth is not None:
            self.canvwidth = self.cv.canvwidth = canvwidth
        if canvheight is not None:
            self.canvheight = self.cv.canvheight = canvheight
        if bg is not None:
            self._bgcolor(bg)
        return None

    def _window_size(self) -> tuple[int, int]:
        return self.cv.window

    def mainloop(self) -> None:
        """Handle clicks, keys and timers until the window is closed (bye, exitonclick), or until
        nothing more can happen: no timer is left, and no handler or no page to send events."""
        import turtle

        DRAWING.flush()
        root = turtle._Screen._root
        try:
            while root is not None and not root.destroyed:
                wait = EVENTS.next_timer_in()
                if wait is None and not EVENTS.handlers():
                    break
                handle(EVENTS.read(wait), self)
                DRAWING.flush()
        except turtle.Terminator:
            pass
        DRAWING.flush()

    def textinput(self, title: str, prompt: str) -> str | None:
        """The question as a prompt in the console; None at the end of input (a dialog's Cancel)."""
        DRAWING.flush()
        try:
            return input(f"{prompt} ")
        except EOFError:
            return None

    def numinput(self, title: str, prompt: str, default: float | None = None, minval: float | None = None,
                 maxval: float | None = None) -> float | None:
        while True:
            answer = self.textinput(title, prompt if default is None else f"{prompt} [{default}]")
            if answer is None:
                return None
            if not answer.strip() and default is not None:
                return default
            try:
                number = float(answer)
            except ValueError:
                print("Please type a number.")
                continue
            if (minval is not None and number < minval) or (maxval is not None and number > maxval):
                print(f"The number must be from {minval} to {maxval}.")
                continue
            return number


def bind(table: dict, key: tuple, function: object) -> None:
    if function is None:
        table.pop(key, None)
    else:
        table[key] = function


def handle(events: list[dict], screen: object) -> None:
    """Call the handlers of the events that came, then of the timers that are due."""
    for event in events:
        kind = event.get("type")
        if kind in ("click", "release", "drag"):
            click(event, kind, screen)
        elif kind in ("keydown", "keyup") and isinstance(event.get("key"), str):
            key_event(event["key"], "press" if kind == "keydown" else "release")
    for function in EVENTS.due():
        call(function)


def click(event: dict, kind: str, screen: object) -> None:
    x, y, button = event.get("x"), event.get("y"), event.get("button", 1)
    if not all(isinstance(value, (int, float)) for value in (x, y, button)):
        return
    world = (x / screen.xscale, -y / screen.yscale)
    if kind == "click":
        EVENTS.grabbed = topmost_item_at(x, y)
    item = EVENTS.grabbed
    if item is not None and (item, button, kind) in EVENTS.clicks:
        call(EVENTS.clicks[(item, button, kind)], *world)
    if kind == "click" and ("screen", button, "click") in EVENTS.clicks:
        call(EVENTS.clicks[("screen", button, "click")], *world)


def topmost_item_at(x: float, y: float) -> int | None:
    best = None
    for number, item in DRAWING.items.items():
        if best is not None and item["z"] < DRAWING.items[best]["z"]:
            continue
        if item["kind"] == "poly" and inside(x, y, item["coords"]):
            best = number
        elif item["kind"] == "image" and item.get("picture") and len(item["coords"]) == 2:
            width, height = item["picture"].size
            if abs(x - item["coords"][0]) <= width / 2 and abs(y - item["coords"][1]) <= height / 2:
                best = number
    return best


def key_event(key: str, kind: str) -> None:
    for (bound_kind, bound_key), function in list(EVENTS.keys.items()):
        if bound_kind != kind:
            continue
        if bound_key is None or bound_key == key or (len(key) > 1 and bound_key.lower() == key.lower()):
            call(function)


DRAWING = Drawing()
EVENTS = Events(possible=False)


def stand_in_for_tkinter() -> None:
    """Where Tk is not installed, the names turtle.py takes from tkinter when it is imported; the
    page does all that Tk would (a Tk object made anyway says that there is no Tk)."""
    tkinter = type(sys)("tkinter")
    simpledialog = type(sys)("tkinter.simpledialog")

    class TclError(Exception):
        pass

    class Widget:
        def __init__(self, *args: object, **kwargs: object) -> None:
            raise TclError("there is no Tk here: turtle draws in the page")

    tkinter.TclError = TclError
    tkinter.Tk = tkinter.Frame = tkinter.Canvas = tkinter.Scrollbar = tkinter.PhotoImage = Widget
    tkinter.ROUND, tkinter.SUNKEN, tkinter.HORIZONTAL = "round", "sunken", "horizontal"
    tkinter.simpledialog = simpledialog
    sys.modules.setdefault("tkinter", tkinter)
    sys.modules.setdefault("tkinter.simpledialog", simpledialog)


def install(turtle: object, canvas_events: bool) -> None:
    """Draw turtle in the page: PageScreenBase's methods in TurtleScreenBase, PageRoot for Tk's."""
    EVENTS.possible = canvas_events
    for name, value in vars(PageScreenBase).items():
        if (callable(value) and not name.startswith("__")) or name == "__init__":
            setattr(turtle.TurtleScreenBase, name, value)
    turtle._Root = PageRoot
    turtle.Canvas = PageCanvas
    update = turtle.TurtleScreen.update

    def update_now(screen: object) -> None:
        """screen.update(): the program asks to see its drawing, so it goes now, whatever FLUSH_S says."""
        update(screen)
        DRAWING.flush()

    update_now.__doc__ = update.__doc__
    turtle.TurtleScreen.update = update_now


def as_svg() -> bytes:
    """The drawing as it stands, as an SVG picture: what a run with no page (POST /api/run) shows."""
    from xml.sax.saxutils import escape, quoteattr

    root = DRAWING.root
    canvas = root._canvas if root else None
    width, height = canvas.window if canvas else (640, 600)
    background = css_colour(canvas.bg) if canvas else "white"
    view_x, view_y = canvas.view if canvas else (0.0, 0.0)
    left, top = view_x - width / 2, view_y - height / 2
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="{left} {top} {width} {height}">',
             f'<rect x="{left}" y="{top}" width="{width}" height="{height}" '
             f'fill={quoteattr(background or "white")}/>']
    for item in sorted(DRAWING.items.values(), key=lambda item: item["z"]):
        coords = item["coords"]
        pairs = zip(coords[::2], coords[1::2], strict=False)
        points = " ".join(f"{x + 0.0:.2f},{y + 0.0:.2f}" for x, y in pairs)
        if item["kind"] == "line" and item["fill"] and len(item["coords"]) >= 4:
            parts.append(f'<polyline points="{points}" fill="none" stroke={quoteattr(item["fill"])} '
                         f'stroke-width="{item["width"]}" stroke-linecap="round" stroke-linejoin="round"/>')
        elif item["kind"] == "poly" and (item["fill"] or item["outline"]) and len(item["coords"]) >= 4:
            stroke = (f' stroke={quoteattr(item["outline"])} stroke-width="{item["width"]}"'
                      if item["outline"] else "")
            parts.append(f'<polygon points="{points}" fill={quoteattr(item["fill"] or "none")}'
                         f' fill-rule="evenodd"{stroke}/>')
        elif item["kind"] == "text" and item["fill"]:
            family, size, style = item["font"]
            anchor = {"sw": "start", "s": "middle", "se": "end"}[item["anchor"]]
            weight = ' font-weight="bold"' if "bold" in style else ""
            slant = ' font-style="italic"' if "italic" in style else ""
            parts.append(f'<text x="{coords[0]}" y="{coords[1]}" fill={quoteattr(item["fill"])} '
                         f'font-family={quoteattr(family)} font-size="{abs(size) * 4 / 3:.1f}" '
                         f'text-anchor="{anchor}"{weight}{slant}>{escape(item["text"])}</text>')
    parts.append("</svg>")
    return "\n".join(parts).encode()


def at_exit() -> None:
    """The program's end: its drawing as it stands goes to the page, which keeps it, even what
    tracer(0) held back for an update() that did not come (Tk would not have drawn that)."""
    turtle = sys.modules.get("turtle")
    if turtle is not None and turtle._Screen._root is not None and turtle.TurtleScreen._RUNNING:
        try:
            turtle.Screen().update()
        except Exception:  # noqa: BLE001 - a drawing that cannot be finished must not hide the exit
            pass
    DRAWING.flush()
    if not EVENTS.possible and DRAWING.items:  # no page saw it drawn: it is shown as a picture
        from .graphics import display

        display(as_svg(), name="turtle.svg")
