"""Traced programs kept on disk between runs (``jax.export``), so a warm run does not trace.

JAX's persistent compilation cache (the CLI's ``~/.cache/forecast/jax``) keeps compiled
code, but a jitted function is traced and lowered on every run before the cache is even
asked: for the bottom-up model through NumPyro's ``Predictive``, 2-3 CPU-s of a default
run. :func:`call` serializes the traced and lowered program (``jax.export``) into
``~/.cache/forecast/exported`` the first time and deserializes it on later runs, so they
only parse the program (~0.1 s) before the compile cache hands back the machine code.
Beside it, the machine code itself is kept (``jax.experimental.serialize_executable``), for
this processor: a run that finds it loads it as it is, without lowering the program again
and asking the compile cache (a default run's 10 programs: 4.41 -> 4.24 s, paired in
``bench/fixed_cost.py``). Only code compiled in the process is kept: XLA's CPU code loaded
from JAX's compile cache serializes without its functions.

Off unless a folder is set (:func:`use_folder`; the CLI sets it beside its compile cache,
``FORECAST_NO_COMPILE_CACHE=1`` leaves it off, as the tests do). A program is kept under a
key of everything that changes it: the function, its static arguments, the structure of its
arguments (the prior set's families and layout; the numbers are traced) and their shapes
and dtypes, x64, the draws' counter scheme, the JAX, jaxlib and NumPyro versions and a hash of the source of
``models/``, ``priors/`` and the file that defines the function (the engine's, say). An entry that cannot be read, or that JAX refuses,
is traced again and rewritten: a run never fails for the cache. The numbers are those of the
plain jitted call, bit for bit (``tests/forecast/test_engine.py``).

The folder is kept under :data:`MAX_BYTES`, and JAX's compile cache beside it (the CLI's)
under :data:`JAX_CACHE_MAX_BYTES`: each time a program is kept, the files used longest ago
go (:func:`prune`; a kept program is touched when it is loaded, JAX's entries count from
when they were written), so a cache that gains a program for every new prior layout, width
and source version stays bounded.
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import functools
import hashlib
import inspect
import os
import pickle
import platform
import tempfile
import threading
from importlib import metadata
from pathlib import Path

import jax
import numpy as np
from jax.experimental import serialize_executable

__all__ = ["JAX_CACHE_MAX_BYTES", "MAX_BYTES", "call", "prepare", "prune", "use_folder"]

#: The most the folder of kept programs keeps, and JAX's compile cache beside it (the CLI's),
#: in bytes: a default run's programs take about 5 MB here and 1 MB there.
MAX_BYTES = JAX_CACHE_MAX_BYTES = 512 << 20

#: Where the programs are kept; None: off (every call traces, as plain ``jax.jit``).
_FOLDER: Path | None = None
#: Programs loaded or exported in this process, by key (a Future while :func:`prepare` loads one).
_LOADED: dict[str, object] = {}
#: The packages whose source the traced programs are made of.
_SOURCE_PACKAGES = ("models", "priors")


def use_folder(folder: str | Path | None) -> None:
    """Keep exported programs in ``folder`` (made if need be), or none (None)."""
    global _FOLDER
    _FOLDER = None if folder is None else Path(folder)


@functools.cache
def _source_hash(defined_in: str | None) -> str:
    """A hash of the source a program is traced from (``models/``, ``priors/`` and the file
    ``defined_in`` that defines the kept function), and of the versions that trace it."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(f"{jax.__version__} {jax.lib.__version__} {metadata.version('numpyro')}".encode())
    files = [Path(defined_in)] if defined_in else []
    for package in _SOURCE_PACKAGES:
        files += sorted((root / package).rglob("*.py"))
    for path in files:
        digest.update((str(path.relative_to(root)) if path.is_relative_to(root) else path.name).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _defined_in(function) -> str | None:
    """The source file of ``function`` (of the function a ``jax.jit`` wraps), or None (a
    builtin, or code that is in no file)."""
    try:
        path = inspect.getsourcefile(inspect.unwrap(function))
    except TypeError:  # a builtin
        return None
    return path if path and os.path.isfile(path) else None


class _Unkeyable(Exception):
    """A static value without a name that holds from one process to the next."""


def _stable(value) -> str:
    """A text for ``value`` that is the same in every process (functions by their qualified
    name, containers item by item); :class:`_Unkeyable` for an object with no stable text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = tuple(getattr(value, field.name) for field in dataclasses.fields(value))
        return f"{type(value).__module__}.{type(value).__qualname__}{_stable(fields)}"
    if isinstance(value, (tuple, list)):
        return type(value).__qualname__ + "(" + ",".join(_stable(v) for v in value) + ")"
    if isinstance(value, (frozenset, set)):
        return "{" + ",".join(sorted(_stable(v) for v in value)) + "}"
    if isinstance(value, dict):
        return "{" + ",".join(f"{_stable(k)}:{_stable(v)}" for k, v in sorted(value.items(), key=str)) + "}"
    if value is None or isinstance(value, (bool, int, float, str, np.generic)):
        return repr(value)
    if inspect.isfunction(value) or inspect.isclass(value) or inspect.ismethod(value):
        return f"{value.__module__}.{value.__qualname__}"
    text = repr(value)
    if " at 0x" in text or "object at" in text:
        raise _Unkeyable(text)
    return f"{type(value).__module__}.{type(value).__qualname__}:{text}"


def _key(name: str, function, treedef, leaves, static: dict) -> str:
    """The file name of a program: a hash of everything that changes it (remembered for
    the process by what it is made of, :data:`_KEYS`)."""
    settings = (jax.config.jax_enable_x64, jax.default_backend(), jax.config.jax_threefry_partitionable,
                jax.config.jax_default_matmul_precision)
    try:  # equal where jax.jit's own cache takes two calls for one program: the same treedef and statics
        made_of = (name, function, treedef, tuple(jax.typeof(leaf) for leaf in leaves),
                   tuple(sorted(static.items())), settings)
        return _KEYS[made_of]
    except TypeError:  # a static value that cannot be a dict key: the text, every call
        return _key_text(name, function, treedef, leaves, static, settings)
    except KeyError:
        key = _KEYS[made_of] = _key_text(name, function, treedef, leaves, static, settings)
        return key


#: The keys of :func:`_key`, by what they are made of: a key is a hash of the whole text of
#: a program's structure, 0.5 ms a call, and a run calls kept programs about 30 times a
#: chunk (0.26 CPU-s of a run of 1e6 worlds of one lab); a dict lookup of the same parts
#: takes microseconds.
_KEYS: dict = {}


def _key_text(name: str, function, treedef, leaves, static: dict, settings: tuple) -> str:
    """The key of :func:`_key`, worked out: a hash of a text that names every part of it."""
    x64, backend, partitionable, matmul_precision = settings
    structure = _stable([node for node in _tree_statics(treedef)])
    shapes = ";".join(str(_spec(leaf)) for leaf in leaves)
    text = "\n".join([name, structure, str(treedef.num_leaves), shapes, _stable(static),
                      f"x64={x64}", f"backend={backend}",
                      # settings that change what a traced program computes (the draws' counters)
                      f"threefry_partitionable={partitionable}",
                      f"matmul_precision={matmul_precision}",
                      _source_hash(_defined_in(function))])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _tree_statics(treedef) -> list:
    """The structure of a pytree as stable values: node types and their static data."""
    out = []

    def walk(node):
        data = node.node_data()
        if data is not None:
            kind, aux = data
            out.append((kind, aux))
        for child in node.children():
            walk(child)

    walk(treedef)
    return out


def call(name: str, function, args: tuple, *, static: dict, compiler_options: dict | None = None):
    """``function(*args, **static)`` through a program traced once and kept on disk (or, with
    no folder set, on several devices, or called inside a traced function, ``jax.jit``'s own
    call). ``function`` is a jitted function; ``name`` names it in the key; ``static``: its
    static keyword arguments."""
    if not keeps_programs():
        return function(*args, **static)
    leaves, treedef = jax.tree_util.tree_flatten(args)
    if any(isinstance(leaf, jax.core.Tracer) for leaf in leaves):  # inside a jit or vmap: traced into it
        return function(*args, **static)
    try:
        key = _key(name, function, treedef, leaves, static)
    except _Unkeyable:
        return function(*args, **static)
    program = _LOADED.get(key)
    if isinstance(program, concurrent.futures.Future):  # being loaded (prepare): waited for
        try:
            program = _LOADED[key] = program.result()
        except Exception:  # noqa: BLE001 -- the load failed in its thread: loaded here, or traced again
            program = None
    if program is None:
        program = _LOADED[key] = _load_or_export(key, function, treedef, leaves, static, compiler_options)
    return program(*leaves)


def prepare(name: str, function, args: tuple, *, static: dict, compiler_options: dict | None = None) -> None:
    """Start loading, in a thread of its own, the program :func:`call` will run for
    arguments shaped as ``args`` (their values are not read), and go on: XLA rebuilds a
    program from its cache without holding Python's lock (0.2-0.5 s for the model, time
    that grows with the program's length), which then overlaps the caller's work. :func:`call` waits for it where it is not done, and
    traces it itself where none is kept (tracing is left to the calling thread). A no-op
    where :func:`call` keeps no program (no folder, several devices) or it is loaded."""
    if not keeps_programs():
        return
    leaves, treedef = jax.tree_util.tree_flatten(args)
    try:
        key = _key(name, function, treedef, leaves, static)
    except _Unkeyable:
        return
    if key in _LOADED:
        return
    future = concurrent.futures.Future()
    x64 = jax.config.jax_enable_x64  # the caller's (a thread-local setting): the program's dtypes
    specs = [_spec(leaf) for leaf in leaves]

    def load():
        try:
            with jax.enable_x64(x64):
                future.set_result(_loaded(key, specs, compiler_options))  # None: call() traces it
        except BaseException as err:  # noqa: BLE001 -- handed to call(), which loads it itself
            future.set_exception(err)

    # not a daemon: a process that ends meanwhile waits for it (a second at most), rather
    # than tear the runtime down under it
    thread = threading.Thread(target=load, name=f"prepare {name}")
    try:
        _LOADED[key] = future
        thread.start()
    except BaseException:  # no thread to be had, or an exception sent to this one: none pending
        _LOADED.pop(key, None)
        future.set_result(None)
        raise


def keeps_programs() -> bool:
    """Whether :func:`call` keeps programs on disk here: a folder is set, on one device."""
    return _FOLDER is not None and len(jax.local_devices()) == 1


def _loaded(key, specs, compiler_options):
    """The compiled call of a program kept in its files, or None (none kept, or a corrupt,
    stale or foreign entry): its machine code for this processor (:func:`_machine_code`),
    or else the program, compiled (from JAX's compile cache, as a rule) and its machine
    code kept. Traces nothing: safe in a thread of its own (NumPyro's tracing is not)."""
    compiled = _machine_code(key, specs)
    if compiled is not None:
        return compiled
    try:
        path = _FOLDER / f"{key}.jaxexport"
        exported = jax.export.deserialize(bytearray(path.read_bytes()))
        if _fits(exported.in_avals, specs):
            _touch(path)
            return _compiled_and_kept(key, exported, specs, compiler_options)
    except Exception:  # noqa: BLE001 -- traced again by the caller
        pass
    return None


def _compiled_and_kept(key, exported, specs, compiler_options):
    """``exported`` compiled for ``specs``, its machine code kept for the next run where it
    was compiled here: XLA's CPU code loaded from JAX's compile cache serializes without its
    functions (a later process cannot run it), so a program found there is not kept. It is
    compiled under a name of its key's (``jit_kept_<key>``), which JAX's cache has not seen
    where the key is new, even where the program is one it holds under another key (the
    same program after an edit of the source the key hashes)."""

    def kept(*flat_leaves):
        return exported.call(*flat_leaves)

    kept.__name__ = kept.__qualname__ = f"kept_{key}"

    hits = _cache_hits()
    compiled = jax.jit(kept, compiler_options=compiler_options).lower(*specs).compile()
    if _cache_hits() != hits:
        return compiled
    try:
        blob, in_tree, out_tree = serialize_executable.serialize(compiled)
        code = pickle.dumps((blob, in_tree, out_tree), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 -- a program whose code XLA cannot serialize: compiled again next time
        return compiled
    _write(_machine_code_path(key), code)
    return compiled


#: JAX's compile-cache hits, by thread (:func:`_cache_hits`), once counted.
_HITS: collections.Counter | None = None
_HITS_EVENT = "/jax/compilation_cache/cache_hits"


def _cache_hits() -> int:
    """How many programs this thread has had from JAX's compile cache (JAX reports a hit in
    the thread that compiles); counting starts with the first call."""
    global _HITS
    if _HITS is None:
        _HITS = collections.Counter()
        jax.monitoring.register_event_listener(_count_hit)
    return _HITS[threading.get_ident()]


def _count_hit(event: str, **_) -> None:
    if event == _HITS_EVENT:
        _HITS[threading.get_ident()] += 1


def _machine_code(key, specs):
    """The compiled call kept as machine code for this processor, or None (none kept, or
    an entry that cannot be loaded or takes other arguments). Like JAX's compile cache,
    this loads what the cache folder holds as trusted: it is the user's own."""
    try:
        path = _machine_code_path(key)
        blob, in_tree, out_tree = pickle.loads(path.read_bytes())
        compiled = serialize_executable.deserialize_and_load(blob, in_tree, out_tree)
        if _fits(jax.tree_util.tree_leaves(compiled.args_info), specs):
            _touch(path)
            _touch(_FOLDER / f"{key}.jaxexport")  # the program it came from: kept as long
            return compiled
    except Exception:  # noqa: BLE001 -- compiled again from the program
        pass
    return None


def _machine_code_path(key) -> Path:
    return _FOLDER / f"{key}-{_processor()}.xla"


@functools.cache
def _processor() -> str:
    """A name for the code XLA compiles here: the architecture and the processor's model and
    features (its instruction sets: code built for one may not run on another)."""
    text = f"{platform.machine()} {platform.system()}"
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            for line in info:
                if line.startswith(("flags", "Features", "model name", "CPU part")):
                    text += "\n" + line.strip()
                if not line.strip():  # the first processor's lines are enough
                    break
    except OSError:  # not Linux: the architecture alone
        pass
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _load_or_export(key, function, treedef, leaves, static, compiler_options):
    """The compiled call of a kept program: read from its file, or traced, exported and
    written; or, where JAX cannot export it, the plain jitted call."""
    specs = [_spec(leaf) for leaf in leaves]
    compiled = _loaded(key, specs, compiler_options)
    if compiled is not None:
        return compiled
    traced = getattr(function, "__wrapped__", function)  # the jit's options apply to the call below

    def flat(*flat_leaves):
        return traced(*jax.tree_util.tree_unflatten(treedef, flat_leaves), **static)

    try:
        exported = jax.export.export(jax.jit(flat))(*specs)
        blob = exported.serialize()
    except Exception:  # a program JAX cannot export (or serialize): the plain jitted call
        return lambda *flat_leaves: function(*jax.tree_util.tree_unflatten(treedef, flat_leaves), **static)
    _write(_FOLDER / f"{key}.jaxexport", blob)
    return _compiled_and_kept(key, exported, specs, compiler_options)


def _spec(leaf) -> jax.ShapeDtypeStruct:
    """A leaf's shape, dtype and weak type (a Python number's, as ``jax.jit`` sees it)."""
    aval = jax.typeof(leaf)
    return jax.ShapeDtypeStruct(aval.shape, aval.dtype, weak_type=aval.weak_type)


def _fits(avals, specs) -> bool:
    """Whether a program read from disk, taking ``avals``, takes these arguments (a stale or
    foreign entry does not)."""
    return len(avals) == len(specs) and all(
        (aval.shape, aval.dtype) == (spec.shape, spec.dtype) for aval, spec in zip(avals, specs))


def _write(path: Path, blob: bytes) -> None:
    """Write ``blob`` to ``path`` whole or not at all (a rename); a folder that cannot be
    written is passed over."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(handle, "wb") as file:
            file.write(bytes(blob))
        os.replace(temporary, path)
    except OSError:  # a read-only cache: traced again next time
        return
    prune(path.parent, MAX_BYTES)
    jax_cache = _jax_cache_folder()
    # what it gained with this program, as a rule; only where it is the CLI's, beside this
    # folder (a JAX cache of the user's own, shared with other work, is left alone)
    if jax_cache is not None and jax_cache.parent == path.parent.parent:
        prune(jax_cache, JAX_CACHE_MAX_BYTES)


def _jax_cache_folder() -> Path | None:
    """JAX's persistent compile cache folder, if one is set."""
    folder = jax.config.jax_compilation_cache_dir
    return Path(folder) if folder else None


def _touch(path: Path) -> None:
    """Mark a kept file as used now (its modification time: what :func:`prune` goes by)."""
    try:
        os.utime(path)
    except OSError:  # a read-only cache, or pruned meanwhile by another process
        pass


def prune(folder: Path, max_bytes: int) -> None:
    """Remove the files of ``folder`` used longest ago (by modification time) until it holds
    at most ``max_bytes``. What cannot be read or removed is passed over: another process
    may be pruning it too, and a file gone is only compiled again when next needed."""
    entries = []
    try:
        with os.scandir(folder) as found:
            for entry in found:
                try:
                    if entry.is_file(follow_symlinks=False):
                        stat = entry.stat(follow_symlinks=False)
                        entries.append((stat.st_mtime_ns, stat.st_size, entry.path))
                except OSError:  # removed meanwhile
                    continue
    except OSError:
        return
    total = sum(size for _, size, _ in entries)
    for _, size, path in sorted(entries):
        if total <= max_bytes:
            break
        try:
            os.unlink(path)
        except OSError:  # removed meanwhile, or not ours to remove
            pass
        total -= size
