"""Double precision for the whole engine, set once before any array is made.

Log-space training compute is about 64 in natural units; float32 resolves that to ~4e-6,
which already eats the 1e-5 agreement the engine promises against NumPy and makes extreme
quantiles (1 - 1e-12) round to 1. Every package of the engine imports ``priors`` first.
"""

import jax

jax.config.update("jax_enable_x64", True)
