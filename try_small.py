import time, warnings, json
import numpy as np
from priors import load_prior_set
from forecast.result import run
from forecast.history.calibrate import calibrate
KEEP = ("chips_base", "chip_growth", "disclosure_probability", "estimate_sd_dex")
def small():
    p = load_prior_set(None)
    fixed = {}
    for col, name, lab, prior in p.columns:
        if name not in KEEP:
            fixed[col] = f"fixed {float(prior.family.ppf([0.5])[0]):.12g}"
    for name in p.lab_year_priors:
        fixed[name] = f"fixed {float(p[name].family.ppf([0.5])[0]):.12g}"
    return p.with_overrides(fixed)
p = small()
print(p.n_latent, p.transform().n_lab_year)
t=time.time()
r = run(p, samples=20000, as_of="record", thresholds="1e27,1e28", years="2025:2030", keep=2000)
print("run", time.time()-t, r.metadata["pareto_k"], r.metadata["ess"])
print(r.timeline["probability"].values, r.timeline["mcse"].values)
r0 = run(p, samples=20000, thresholds="1e27,1e28", years="2025:2030", keep=10)
print("prior", r0.timeline["probability"].values)
t=time.time()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    c = calibrate(p, years="2025:2030", chains=2, draws=500, warmup=500)
print("nuts", time.time()-t, c.diagnostics)
f = c.forecast(thresholds="1e27,1e28")
print(f.timeline["probability"].values)
print(c.prior_posterior()[["shift","sd_ratio"]])
