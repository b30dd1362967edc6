"""The matplotlib backend of a Python program's run (MPLBACKEND, set by graphics.py): figures are
drawn by Agg and shown in the page as PNG, in order with the program's text.

* ``plt.show()`` shows every open figure, then closes them, as a notebook does: the next plot
  is a new picture.
* ``plt.pause(t)`` (and ``show(block=False)``) shows the current state of the figures and keeps
  them open; the page replaces a figure's earlier picture with the new one: an animation. A
  frame is left out (but for the last) when it comes sooner than FRAME_INTERVAL_S after the one
  before, or than twice what drawing that one took: drawing is at most a third of the CPU time.
* Figures still open when the program ends are shown then (graphics.at_exit).
"""

import io
import itertools
import time

from matplotlib._pylab_helpers import Gcf
from matplotlib.backend_bases import FigureManagerBase, _Backend
from matplotlib.backends.backend_agg import FigureCanvasAgg

from .graphics import display

DPI = 100  # matplotlib's own figure.dpi: a default figure is 640 x 480 pixels
FRAME_INTERVAL_S = 0.05  # at most 20 pictures a second of one figure
picture_ids = itertools.count(1)


class Shown:
    """What the page has of a figure: under which id, when, and whether it changed since."""

    def __init__(self) -> None:
        self.id = f"figure-{next(picture_ids)}"
        self.at = 0.0
        self.took = 0.0  # how long drawing it last took


def send(manager: FigureManagerBase, animating: bool = False) -> None:
    figure = manager.canvas.figure
    shown = getattr(figure, "_codyskool_shown", None)
    if shown is None:
        shown = figure._codyskool_shown = Shown()
    elif not figure.stale and not manager.canvas.drawn:
        return  # the page has it as it is
    started = time.monotonic()
    if animating and started - shown.at < max(FRAME_INTERVAL_S, 2 * shown.took):
        return  # stale: the next frame, or the program's end, shows it
    picture = io.BytesIO()
    figure.savefig(picture, format="png", dpi=DPI)
    figure.stale = manager.canvas.drawn = False
    shown.at = time.monotonic()
    shown.took = shown.at - started
    display(picture.getvalue(), ident=shown.id)


def show_open_figures() -> None:
    for manager in Gcf.get_all_fig_managers():
        send(manager)


class PageCanvas(FigureCanvasAgg):
    drawn = False  # drawn since the page got the figure (plt.pause draws before it shows)

    def draw(self) -> None:
        super().draw()
        self.drawn = True


class PageFigureManager(FigureManagerBase):
    def show(self) -> None:  # figure.show()
        send(self)


@_Backend.export
class PageBackend(_Backend):
    FigureCanvas = PageCanvas
    FigureManager = PageFigureManager

    @staticmethod
    def show(*args: object, block: bool | None = None, **kwargs: object) -> None:
        for manager in Gcf.get_all_fig_managers():
            send(manager, animating=block is False)
        if block is not False:
            Gcf.destroy_all()
