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

    result = forecast.run(samples=50, years="2030", seed=1)
    assert result.samples["log10_training_compute"].dtype == "float64"
    assert not jax.config.jax_enable_x64
    assert jnp.ones(1).dtype == jnp.float32
