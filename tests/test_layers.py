"""The house rules the layout promises: one-way layers, and imports that change no global state."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
#: Each package and the packages of this project it may import.
ALLOWED = {
    "priors": {"priors"},
    "models": {"priors", "models"},
    "forecast": {"priors", "models", "forecast"},
    "outputs": {"priors", "models", "forecast", "outputs"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names & {"priors", "models", "forecast", "outputs", "bench", "tests"}


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_layers_import_only_downwards(package):
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) - ALLOWED[package])
        for path in (ROOT / package).rglob("*.py")
        if imported_packages(path) - ALLOWED[package]
    }
    assert wrong == {}


def test_only_the_cli_imports_the_commands():
    importers = [
        str(path.relative_to(ROOT)) for package in ALLOWED for path in (ROOT / package).rglob("*.py")
        if "commands" not in path.parts and path.name != "cli.py"
        and any(name.startswith("outputs.commands") or name.startswith("outputs.cli")
                for name in _modules(path))
    ]
    assert importers == []


def _modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}


def test_importing_changes_no_global_state():
    code = (
        "import jax, matplotlib\n"
        "before = dict(matplotlib.rcParams)\n"
        "import priors, models, forecast, outputs, outputs.cli, forecast.sensitivity, forecast.evaluation.calibrate\n"
        "assert not jax.config.jax_enable_x64, 'JAX switched to float64'\n"
        "changed = [k for k, v in matplotlib.rcParams.items() if before.get(k) != v]\n"
        "assert not changed, changed\n"
        "import jax.numpy as jnp\n"
        "assert jnp.zeros(1).dtype == jnp.float32\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_a_forecast_runs_in_float64_and_leaves_float32_behind():
    import jax
    import jax.numpy as jnp

    import forecast

    result = forecast.run(samples=50, seed=1)
    assert result.samples["log10_training_compute"].dtype == "float64"
    assert not jax.config.jax_enable_x64
    assert jnp.ones(1).dtype == jnp.float32



#: Folders (and top-level scripts) whose modules the private-name rule covers.
CHECKED = ("priors", "models", "forecast", "outputs", "bench")
#: Private names a module may still use from outside their owner, each with the reason it stays.
PRIVATE_ALLOWED = {
    # The standard library's documented names that start with an underscore.
    ("outputs/app/server.py", "os._exit"),
    ("outputs/cli.py", "_thread"),
    ("outputs/cli.py", "os._exit"),
    ("outputs/write/plot_process.py", "os._exit"),
    # The command's exit handlers, run before it leaves through os._exit (what sys.exit runs),
    # and, in the drawing process, cleared after the fork: the standard library has no
    # public name for either.
    ("outputs/cli.py", "atexit._run_exitfuncs"),
    ("outputs/write/plot_process.py", "atexit._run_exitfuncs"),
    ("outputs/write/plot_process.py", "atexit._clear"),
    # Whether JAX's runtime (and its threads) started, before a fork: JAX has no public name
    # for it; where the name is gone, the plots are drawn in the command's own process.
    ("outputs/write/plot_process.py", "jax._src.xla_bridge"),
    # The engine benchmark times the engine's inner step by hand; these go when bench/ and
    # forecast/engine.py (helper h-speed's) give the step and the scores public names.
    ("bench/engine.py", "forecast._normal"),
    ("bench/engine.py", "forecast.engine._chunk_calls"),
    ("bench/floor.py", "forecast.engine._push"),
    ("bench/floor.py", "forecast.engine._years_array"),
}


def _checked_files() -> list[Path]:
    files = [path for package in CHECKED for path in (ROOT / package).rglob("*.py")]
    return sorted(files + sorted((ROOT / "docs").glob("*.py")))


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _module_of(path: Path) -> str:
    """``priors/families.py`` -> ``priors.families``; a package's ``__init__.py`` -> the package."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(path: Path, level: int, module: str | None) -> str:
    """The module a ``from`` import names, relative imports resolved against ``path``."""
    if not level:
        return module or ""
    package = _module_of(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    base = package[:len(package) - (level - 1)]
    return ".".join([*base, *([module] if module else [])])


def _owned(name: str, module: str) -> bool:
    """Whether ``module`` may use the private ``name``: it lies in the module or package
    that the name's first private part belongs to (``forecast._normal`` belongs to
    ``forecast``, so ``forecast.engine`` may use it, ``bench.engine`` may not)."""
    parts = name.split(".")
    owner = ".".join(parts[:next(i for i, part in enumerate(parts) if _private(part))])
    return bool(owner) and (module == owner or module.startswith(owner + "."))


def private_imports(path: Path) -> set[str]:
    """Dotted names of private names that ``path`` uses from outside their owner
    (:func:`_owned`): ``from x import _y`` (relative imports resolved), ``from x._y import z``
    and ``import x._y``, and ``x._y`` on a module imported as ``import x`` (or ``as``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found, modules = set(), {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = _absolute(path, node.level, node.module)
            found.update(f"{module}.{alias.name}".lstrip(".") for alias in node.names if _private(alias.name))
            if any(_private(part) for part in module.split(".")):
                found.add(module)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                modules[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else None
                if any(_private(part) for part in alias.name.split(".")):
                    found.add(alias.name)
    for node in ast.walk(tree):  # x._y, x.y._z on an imported module
        if isinstance(node, ast.Attribute) and _private(node.attr):
            chain, inner = [node.attr], node.value
            while isinstance(inner, ast.Attribute):
                chain.append(inner.attr)
                inner = inner.value
            if isinstance(inner, ast.Name) and inner.id in modules:
                found.add(".".join([modules[inner.id] or inner.id, *reversed(chain)]))
    module = _module_of(path)
    return {name for name in found if not _owned(name, module)}


def test_private_imports_sees_each_form():
    source = ROOT / "forecast" / "evaluation" / "example.py"  # parsed from text, never written
    text = ("import numpy as np\nimport os.path\nfrom a.b import _c, d\nfrom . import _e\n"
            "from .backtest import _f\nfrom x._y import z\nfrom forecast._normal import g\n"
            "from forecast.evaluation._mine import h\nfrom priors._secret import s\n"
            "from __future__ import annotations\n"
            "np._secret(1); os.path._joinrealpath; self._mine; d._f; np.linalg.__name__\n")
    original = Path.read_text
    try:
        Path.read_text = lambda self, **kwargs: text if self == source else original(self, **kwargs)
        found = private_imports(source)
    finally:
        Path.read_text = original
    # forecast._normal and forecast.evaluation._e/_mine are the forecast package's own
    assert found == {"a.b._c", "forecast.evaluation.backtest._f", "x._y", "priors._secret",
                     "numpy._secret", "os.path._joinrealpath"}


def test_no_module_imports_a_private_name_of_another():
    found = {(str(path.relative_to(ROOT)), name) for path in _checked_files() for name in private_imports(path)}
    assert found - PRIVATE_ALLOWED == set()
    assert PRIVATE_ALLOWED - found == set()  # an exception that has gone leaves the list too
