"""Builds the runner's one artifact for the image: this package as a single .pyc file.

    python3 sandbox/runner/bundle.py OUTPUT.pyc

sandbox/Dockerfile runs it with the image's own Python, since compiled code is per version. The
bundle holds the code of every module of this folder, keyed by name; it runs __main__.py,
whose loader then takes the package's modules from that table, never from a file.

Why one .pyc rather than a zipapp: `python3 app.pyz` (like `python3 folder`) runs its __main__
through runpy and zipimport, whose imports and reads the runner does not otherwise need, while
a .pyc file is unmarshalled and run at once, as the single runner.pyc before the package was.
sandbox/Dockerfile has the start-up times of the three, measured in the image.
"""

import importlib.util
import marshal
import os
import sys

FOLDER = os.path.dirname(os.path.abspath(__file__))
RUN_MAIN = 'exec(BUNDLE["__main__"])  # __main__.py, with BUNDLE among its globals'


def compiled_modules(folder: str = FOLDER) -> dict[str, object]:
    """The code of each module of the folder but this one, compiled under its absolute name."""
    modules = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".py") and name != os.path.basename(__file__):
            path = os.path.join(folder, name)
            with open(path, "rb") as source:
                modules[name[:-3]] = compile(source.read(), path, "exec", dont_inherit=True)
    return modules


def build(output: str, folder: str = FOLDER) -> None:
    # One marshal of them all: the strings they share are stored, and unmarshalled, once.
    table = marshal.dumps(compiled_modules(folder))
    source = f"import marshal\nBUNDLE = marshal.loads({table!r})\n{RUN_MAIN}\n"
    code = compile(source, os.path.abspath(output), "exec", dont_inherit=True)
    # A .pyc header (magic, flags, source mtime and size) of which `python3 file.pyc` checks the
    # magic number only; the bundle has no single source to be stale against.
    data = importlib.util.MAGIC_NUMBER + bytes(12) + marshal.dumps(code)
    partial = f"{output}.{os.getpid()}.tmp"
    with open(partial, "wb") as out:
        out.write(data)
    os.replace(partial, output)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python3 bundle.py OUTPUT.pyc")
    build(sys.argv[1])
