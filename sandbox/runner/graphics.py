"""Pictures a Python program makes, shown in the page: matplotlib's figures, Pillow's show(),
picture files the program wrote, and turtle's drawing (turtle_screen.py). Each goes to the runner
on CONTROL_FD (wire.py): a picture as a display frame, drawing as turtle frames.

Nothing here is imported by the program: ``install`` puts an import hook in place before the
program runs, and the hook readies matplotlib (a backend of this package, a writable cache with the
image's prebuilt font list), Pillow (a viewer that shows here) and turtle (drawn in the page) as
the program imports them. A program that imports none of them pays for the hook's one look at
each import's name.
"""

import os
import sys
import time

from .python_child import flush_standard_streams, wait_until_output_is_read
from .wire import CONTROL_FD, CONTROL_KIND, to_json, write_frame

MATPLOTLIB_BACKEND = "module://_codyskool_runner.mpl_backend"
FONT_CACHE = "/opt/codyskool/matplotlib"  # the image's font list (sandbox/Dockerfile), read only
MATPLOTLIB_HOME = "/tmp/matplotlib"  # matplotlib wants a writable folder for its caches
PICTURE_FILES = {".png", ".jpg", ".jpeg", ".gif", ".svg"}
MAX_PICTURE_FILES = 20  # shown after the run, of those the program wrote into its folder
MAX_FILES_LOOKED_AT = 1000


def display(data: bytes, ident: str | None = None, name: str | None = None) -> None:
    """Show a picture in the page, after everything printed before it."""
    flush_standard_streams()
    wait_until_output_is_read()
    meta = {key: value for key, value in (("id", ident), ("name", name)) if value is not None}
    try:
        write_frame(CONTROL_FD, CONTROL_KIND["display"], to_json(meta).encode() + b"\n" + data)
    except OSError:
        pass


class ImportHooks:
    """A finder that lets the usual finders find a module, then readies it for the page."""

    BEFORE = {"matplotlib": "before_matplotlib", "turtle": "before_turtle"}
    AFTER = {"PIL.ImageShow": "after_pillow_viewers", "matplotlib.backends.backend_agg": "after_backend_agg",
             "turtle": "after_turtle"}

    def find_spec(self, name: str, path: object = None, target: object = None) -> object:
        if name not in self.BEFORE and name not in self.AFTER:
            return None
        spec = self.usual_spec(name, path, target)
        if spec is None or spec.loader is None:
            return spec
        if name in self.BEFORE:
            getattr(self, self.BEFORE[name])()
        if name in self.AFTER:
            run_module = spec.loader.exec_module
            after = getattr(self, self.AFTER[name])

            def exec_module(module: object) -> None:
                run_module(module)
                after(module)

            spec.loader.exec_module = exec_module
        return spec

    def usual_spec(self, name: str, path: object, target: object) -> object:
        """The spec the other finders give (asked directly: importlib.util costs 18 ms to import
        under gVisor)."""
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None)
            if finder is not self and find_spec is not None:
                spec = find_spec(name, path, target)
                if spec is not None:
                    return spec
        return None

    @staticmethod
    def before_matplotlib() -> None:
        os.environ.setdefault("MPLBACKEND", MATPLOTLIB_BACKEND)
        if "MPLCONFIGDIR" in os.environ:
            return
        os.makedirs(MATPLOTLIB_HOME, mode=0o700, exist_ok=True)
        os.environ["MPLCONFIGDIR"] = MATPLOTLIB_HOME
        try:
            names = os.listdir(FONT_CACHE)
        except OSError:
            return  # not in the image (the local backend): matplotlib builds its font list
        for file_name in names:
            target = os.path.join(MATPLOTLIB_HOME, file_name)
            if not os.path.exists(target):
                with open(os.path.join(FONT_CACHE, file_name), "rb") as source, open(target, "wb") as copy:
                    copy.write(source.read())

    @staticmethod
    def after_backend_agg(backend_agg: object) -> None:
        """Agg's fonts read from memory: FreeType reads a font file in many small reads, each a
        system call, which gVisor's kernel serves slowly (a plot's text took 190 ms to draw
        here, 36 from memory). Only Agg's: the PDF, PostScript and SVG backends use a font's
        file name, which a font made from bytes has not."""
        import functools
        import io
        import threading

        import matplotlib
        from matplotlib import ft2font

        @functools.cache
        def contents(path: str) -> bytes:
            with open(path, "rb") as file:
                return file.read()

        @functools.lru_cache(64)
        def font_of(paths: tuple[str, ...], hinting: float, kerning: float, thread: int) -> object:
            first, *fallbacks = (io.BytesIO(contents(path)) for path in paths)
            return ft2font.FT2Font(first, hinting, _kerning_factor=kerning, _fallback_list=[
                ft2font.FT2Font(font, hinting, _kerning_factor=kerning) for font in fallbacks])

        def get_font(font_filepaths: object, hinting_factor: float | None = None) -> object:
            if isinstance(font_filepaths, (str, bytes, os.PathLike)):
                font_filepaths = [font_filepaths]
            return font_of(tuple(os.path.realpath(path) for path in font_filepaths),
                           hinting_factor or matplotlib.rcParams["text.hinting_factor"],
                           matplotlib.rcParams["text.kerning_factor"], threading.get_ident())

        backend_agg.get_font = get_font

    @staticmethod
    def before_turtle() -> None:
        """turtle.py imports tkinter, which draws nothing here: a stand-in spares loading Tk's
        libraries (unless the program has imported tkinter itself)."""
        from . import turtle_screen

        turtle_screen.stand_in_for_tkinter()

    @staticmethod
    def after_turtle(turtle: object) -> None:
        from . import turtle_screen

        turtle_screen.install(turtle, canvas_events)

    @staticmethod
    def after_pillow_viewers(image_show: object) -> None:
        class PageViewer(image_show.Viewer):  # type: ignore[name-defined, misc]
            """Image.show(): the picture, as PNG, in the page."""

            format = "PNG"

            def show_image(self, image: object, **options: object) -> int:
                import io

                picture = io.BytesIO()
                image.save(picture, "PNG")
                display(picture.getvalue())
                return 1

        image_show.register(PageViewer, 0)


def install(job: dict) -> None:
    """Before the program: the import hooks, the time its picture files count from, and whether
    a page can send its turtle clicks and keys (not to POST /api/run)."""
    global started, canvas_events, workdir
    started = time.time()
    canvas_events = bool(job.get("canvas_events"))
    workdir = os.getcwd()
    install_hooks()
    turtle_screen = sys.modules.get(f"{__package__}.turtle_screen")
    if turtle_screen is not None:  # preloaded before the job said whether a page is there
        turtle_screen.EVENTS.possible = canvas_events


def install_hooks() -> None:
    if not any(isinstance(finder, ImportHooks) for finder in sys.meta_path):
        sys.meta_path.insert(0, ImportHooks())


def preload(modules: tuple[str, ...]) -> None:
    """In a warm sandbox for the programs that will import them, before its job: import these
    modules, readied for the page by the hooks as the program's own import would have them
    (under gVisor, numpy and pyplot took 1.3 s of a plot's run). One that fails is left for the
    program's import to report."""
    install_hooks()
    for name in modules:
        try:
            __import__(name)
        except Exception:  # noqa: BLE001 - see above
            pass
    share_caches()


def share_caches() -> None:
    """What the preload made in MATPLOTLIB_HOME, as root (the runner's user until the program's
    process leaves it, which cannot chown: its sandbox has no CAP_CHOWN), becomes usable by the
    program, as if it had made it: the folder writable, its files readable. No one else is there
    to use it: the sandbox holds one program."""
    try:
        names = os.listdir(MATPLOTLIB_HOME)
        os.chmod(MATPLOTLIB_HOME, 0o777)
        for name in names:
            os.chmod(os.path.join(MATPLOTLIB_HOME, name), 0o644)
    except OSError:
        pass


started = 0.0
canvas_events = False
workdir = ""  # the program's folder, whose picture files are shown after it (it may chdir away)


def at_exit() -> None:
    """After the program: the last of its turtle drawing, figures it left open, then picture
    files it wrote, are shown. Nothing here may hide the program's exit (it may have chrooted,
    closed its streams, broken matplotlib): what fails is left out."""
    for module, finish in (("turtle_screen", "at_exit"), ("mpl_backend", "show_open_figures")):
        loaded = sys.modules.get(f"_codyskool_runner.{module}")
        if loaded is not None:
            try:
                getattr(loaded, finish)()
            except Exception:  # noqa: BLE001 - see above
                pass
    try:
        pictures = written_pictures(workdir, started)
    except OSError:
        return
    for name in pictures:
        try:
            with open(os.path.join(workdir, name), "rb") as picture:
                display(picture.read(), name=name)
        except OSError:
            pass


def written_pictures(folder: str, since: float) -> list[str]:
    """Picture files under `folder` changed since `since`, oldest first, by relative name."""
    found = []
    looked_at = 0
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(name for name in dirs if not name.startswith("."))
        for file_name in files:
            looked_at += 1
            if looked_at > MAX_FILES_LOOKED_AT:
                return [name for _, name in sorted(found)[:MAX_PICTURE_FILES]]
            if os.path.splitext(file_name)[1].lower() not in PICTURE_FILES:
                continue
            path = os.path.join(root, file_name)
            try:
                changed = os.stat(path).st_mtime
            except OSError:
                continue
            if changed >= since:
                found.append((changed, os.path.relpath(path, folder)))
    return [name for _, name in sorted(found)[:MAX_PICTURE_FILES]]
