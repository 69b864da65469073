"""Run a forecast's chunks as tasks on a Dask ``distributed`` cluster.

``forecast run --scheduler tcp://HOST:8786`` (or ``FORECAST_SCHEDULER``, or
``forecast.run(..., scheduler=address_or_client)``) sends each chunk of worlds to the
cluster's workers as one task. A task draws its chunk with the key ``fold_in(seed, chunk)``,
pushes it through the compiled model (each worker process compiles once and reuses it for
every later task) and returns only what the run keeps of it: the chunk's mergeable tally
(:mod:`forecast.stream`), and its worlds where the run keeps every world or the first ones
(a run that keeps some of its worlds by weight computes those few on the client once the
chunks are in: :func:`forecast.engine.worlds_at`). The client merges the results in
chunk order, so the numbers are the same as a local run's with the same seed, bit for bit,
whatever the number of workers or the order the tasks finish in.

Pointing it at a real cluster: start a scheduler and workers in an environment where this
package is installed (the same version: the workers import it), e.g. with
``dask-jobqueue`` on SLURM (``SLURMCluster(...).scale(jobs=10)``), ``dask-kubernetes``, or by
hand (``dask scheduler`` on one machine, ``dask worker tcp://HOST:8786 --nthreads 1`` on the
others; one thread per worker process, since XLA already uses every core of the worker).
Then pass the scheduler's address. ``distributed`` is an optional dependency
(``pip install "distributed>=2024.1"``, included in the ``dev`` extra).
"""

from __future__ import annotations

import functools
import re

from priors import InputError

__all__ = ["SCHEDULER_ENV", "map_chunks_on_cluster"]

#: Environment variable with the default scheduler address of the CLI.
SCHEDULER_ENV = "FORECAST_SCHEDULER"
#: How long to wait for a scheduler to answer before saying it cannot be reached.
CONNECT_TIMEOUT = "10s"


def _client(scheduler):
    """``(client, owned)``: a Client for an address (owned: close it after), or the Client given."""
    try:
        from distributed import Client
    except ImportError:
        raise InputError("--scheduler: running on a Dask cluster needs the 'distributed' package "
                         "(pip install 'distributed>=2024.1')") from None
    if isinstance(scheduler, Client):
        return scheduler, False
    address = check_address(scheduler)
    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False), True
    except (OSError, TimeoutError, ValueError) as err:
        raise InputError(f"--scheduler: cannot reach a Dask scheduler at {scheduler!r} ({err})") from None


#: Schemes of a scheduler address (``distributed.comm``'s backends).
_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx", "inproc")
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)$")


def check_address(scheduler) -> str:
    """A scheduler address, ``[SCHEME://]HOST[:PORT]``, checked before a Client is made: a
    Client made from a malformed address fails only after its own time-outs, and then
    again when it is garbage-collected (a traceback from ``Client.__del__``)."""
    text = str(scheduler).strip()
    scheme, sep, location = text.partition("://")
    if not sep:
        scheme, location = "tcp", text
    host, colon, port = location.rpartition(":") if location.count(":") == 1 or location.startswith("[") \
        else (location, "", "")
    if not colon:
        host, port = location, ""
    ok = (scheme in _SCHEMES and bool(location) and not any(c.isspace() for c in text)
          and (scheme == "inproc" or (bool(_HOST.match(host)) and (port == "" or (port.isdigit() and 0 < int(port) < 65536)))))
    if not ok:
        raise InputError(f"--scheduler: {text!r} is not a scheduler address; write e.g. "
                         "tcp://HOST:8786 (the address 'dask scheduler' prints)")
    return text


@functools.lru_cache(maxsize=4)
def _transform(priors):
    """The prior set's transform, made once per worker process and prior set."""
    import jax  # on a worker: the command line reads SCHEDULER_ENV without JAX

    return jax.device_put(priors.transform())


def _run_chunk(index: int, *, priors, reduce, years, samples: int, seed: int, base_year: float, wanted=None):
    """One task: draw and push chunk ``index`` on this worker, and reduce it."""
    import jax

    from forecast._normal import root_key
    from forecast.engine import chunk_plan, chunk_worlds

    with jax.enable_x64(True):
        out = chunk_worlds(_transform(priors), root_key(seed), index, samples=samples,
                           years=years, base_year=base_year, wanted=wanted)
        return reduce(index, chunk_plan(samples).bounds(index, samples)[0], out)


def map_chunks_on_cluster(priors, reduce, *, years, samples: int, seed: int, base_year: float,
                          progress: bool, scheduler, combine, wanted=None):
    """:func:`forecast.engine.map_chunks` with each chunk a task on the cluster: results are
    folded with ``combine`` in chunk order as they arrive (a result waits only for the
    chunks before it), whatever order the tasks finish in."""
    from distributed import as_completed
    from tqdm.auto import tqdm

    from forecast.cancel import checkpoint
    from forecast.engine import chunk_plan

    client, owned = _client(scheduler)
    try:
        n_chunks = chunk_plan(samples).chunks
        # random keys: a second pass (or run) on the cluster must not reuse the keys of data
        # the scheduler may still be releasing from the first ("lost dependencies")
        shared_priors, shared_reduce = client.scatter([priors, reduce], broadcast=True, hash=False)
        task = functools.partial(_run_chunk, years=tuple(years), samples=samples, seed=seed,
                                 base_year=base_year, wanted=wanted)
        futures = client.map(task, range(n_chunks), priors=shared_priors, reduce=shared_reduce,
                             pure=False)
        folded, waiting, following = None, {}, 0
        index_of = {future.key: i for i, future in enumerate(futures)}
        # as_completed asks for the default client: this one, made with set_as_default=False
        with client.as_current(), tqdm(total=n_chunks, desc="chunks on the cluster",
                                       disable=not progress, delay=2.0) as bar:
            for future in as_completed(futures):
                checkpoint()  # a caller that has given up stops here (owned: closed below)
                waiting[index_of[future.key]] = future.result()
                future.release()
                while following in waiting:
                    folded = combine(folded, waiting.pop(following))
                    following += 1
                bar.update(1)
        return folded
    finally:
        if owned:
            client.close()
