"""Public names of a package imported on first use (PEP 562): ``import forecast`` loads
neither JAX nor ArviZ until a forecast is run or read. One kernel for every package of the
project (``priors``, ``models``, ``models.bottom_up``, ``forecast``, ``outputs``)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping


def lazy_exports(package: str, names: Mapping[str, str], namespace: dict):
    """The module ``__getattr__`` and ``__dir__`` of ``package``: each of ``names`` (a public
    name -> the module that defines it) imported on first use and kept in ``namespace``
    (the package's ``globals()``); any other name, the submodule of that name if there is
    one (as ``import forecast; forecast.engine`` works once something has imported it).

        __getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
    """

    def __getattr__(name: str):
        if name in names:
            value = getattr(importlib.import_module(names[name]), name)
            namespace[name] = value
            return value
        try:
            return importlib.import_module(f"{package}.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"{package}.{name}":
                raise
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted({*namespace, *names})

    return __getattr__, __dir__
