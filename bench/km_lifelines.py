"""Kaplan–Meier: lifelines vs the in-house estimator (docs/steering.md). Needs lifelines, which the project does not
install (it requires pandas < 3): run it once in a scratch venv with `pip install lifelines==0.30.3`."""
import time, numpy as np
t0=time.perf_counter()
from lifelines import KaplanMeierFitter
t1=time.perf_counter(); print("import lifelines s", round(t1-t0,3))
rng=np.random.default_rng(1)
for n in (100, 100_000, 1_000_000):
    d=rng.integers(0,1500,n); e=rng.random(n)<0.7
    t=time.perf_counter(); k=KaplanMeierFitter().fit(d,e); s=k.survival_function_at_times([30,91,182,365]).values; dt=time.perf_counter()-t
    t=time.perf_counter()
    u,inv=np.unique(d,return_inverse=True); dd=np.bincount(inv,weights=e); nn=np.cumsum(np.bincount(inv)[::-1])[::-1]
    S=np.cumprod(1-dd/nn); s2=[S[u<=x][-1] if (u<=x).any() else 1 for x in (30,91,182,365)]
    dt2=time.perf_counter()-t
    print(n, "lifelines s", round(dt,4), "numpy s", round(dt2,4), np.allclose(s,s2))
