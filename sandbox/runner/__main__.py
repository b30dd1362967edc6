"""Starts the runner: `python3 sandbox/runner` runs this folder, and the image's
`python3 /opt/codyskool/runner.pyc` the bundle that bundle.py made of it (which runs this file
too, with BUNDLE set to the package's compiled modules).

The package is loaded under a private name, not `runner`, so that a program's own runner.py or
wire.py is what its `import` finds; and each module's file name is absolute, which is how a
Python program's traceback is told from the runner's own frames (python_child.py).
"""

import os
import sys

PACKAGE = "_codyskool_runner"
FOLDER = os.path.dirname(os.path.abspath((lambda: None).__code__.co_filename))  # in the bundle too
ModuleSpec = type(sys.__spec__)  # importlib's, without importing the importlib package
ModuleType = type(sys)  # and these without the types module (0.3 ms)
CodeType = type((lambda: None).__code__)


class PackageLoader:
    """Finds and runs the package's modules: the bundle's code, or compiled from the sources in
    this folder (a finder and loader of the import system's protocol)."""

    def __init__(self, bundle: dict[str, CodeType] | None = None) -> None:
        self.bundle = bundle

    def find_spec(self, name: str, path: object = None, target: object = None) -> object:
        package, _, module = name.partition(".")
        module = module or "__init__"
        if package != PACKAGE or not self.has(module):
            return None
        spec = ModuleSpec(name, self, origin=os.path.join(FOLDER, f"{module}.py"),
                          is_package=module == "__init__")
        if spec.submodule_search_locations is not None:
            spec.submodule_search_locations.append(FOLDER)
        spec.has_location = True  # __file__ is the origin
        return spec

    def has(self, module: str) -> bool:
        if self.bundle is not None:
            return module in self.bundle
        return "." not in module and os.path.isfile(os.path.join(FOLDER, f"{module}.py"))

    def create_module(self, spec: object) -> None:
        return None  # a plain module

    def exec_module(self, module: ModuleType) -> None:
        exec(self.code(module.__spec__.origin), module.__dict__)

    def code(self, path: str) -> CodeType:
        if self.bundle is not None:
            return self.bundle[os.path.basename(path)[:-3]]
        with open(path, "rb") as source:
            return compile(source.read(), path, "exec", dont_inherit=True)


def install(bundle: dict[str, CodeType] | None = None) -> None:
    """Make the package importable as PACKAGE (the bundle's modules or this folder's)."""
    if not any(isinstance(finder, PackageLoader) for finder in sys.meta_path):
        sys.meta_path.insert(0, PackageLoader(bundle))


if __name__ == "__main__":
    install(globals().get("BUNDLE"))
    from _codyskool_runner.main import main

    main()
    os._exit(0)  # every frame went out through os.write: tearing the interpreter down is wasted CPU
