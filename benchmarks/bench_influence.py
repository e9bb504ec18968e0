"""Speed of hlmkit.influence (drop one school, refit) against naive refits, measured in the same run.

    .venv/bin/python benchmarks/bench_influence.py            # 5 repetitions
    .venv/bin/python benchmarks/bench_influence.py --quick    # 2 repetitions, no drop-one-row run

The Lab's influence diagnostics refit the model once per school (80 schools in hs1). The baseline
is what a user would write without hlmkit.influence: ``hk.lme`` on the data without each school,
80 times. hlmkit.influence reuses the full fit's cross-products (subtracting the deleted rows) and
starts each refit from the full fit's variance parameters. The script prints the median wall time
of each, their ratio, and the largest difference between the two sets of coefficient changes (so
a fast wrong answer cannot pass unnoticed). For reference it also prints lme4's time for the same
80 refits, as recorded in tests/reference/lab1_ex1.json when the reference was frozen (a different
run, so compare it with care). Finally it times the drop-one-row version (3684 refits).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import hlmkit as hk

MODELS = {
    "random intercept": "~ 1 | id",
    "random slope": "~ 1 + ses | id",
}
FIXED = "mathach ~ ses * Sector + cvar(ses, id)"


def _median_time(fn, reps: int):
    times, out = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def naive(fit: hk.LmeResult, data: pd.DataFrame, random: str) -> pd.DataFrame:
    """Refit from scratch without each school (what spida2's dropone does)."""
    rows = {}
    for school in fit.groups:
        with warnings.catch_warnings():  # a few refits of the random-slope model are boundary fits
            warnings.simplefilter("ignore", hk.BoundaryFitWarning)
            refit = hk.lme(FIXED, data[data["id"] != school], random=random)
        rows[school] = refit.fixef - fit.fixef
    return pd.DataFrame.from_dict(rows, orient="index")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    reps = 2 if args.quick else 5
    dd = hk.load_hs1()
    dd["id"] = dd["school"]
    ref_path = Path(__file__).resolve().parent.parent / "tests" / "reference" / "lab1_ex1.json"
    ref = json.loads(ref_path.read_text()) if ref_path.exists() else {}
    lme4_times = {
        "random intercept": ref.get("influence_ri_id", {}).get("seconds"),
        "random slope": ref.get("influence_rs_id", {}).get("seconds"),
    }
    out = []
    for name, random in MODELS.items():
        fit = hk.lme(FIXED, dd, random=random)
        fast_t, fast = _median_time(lambda fit=fit: hk.influence(fit, by="id"), reps)
        slow_t, slow = _median_time(lambda fit=fit, random=random: naive(fit, dd, random), max(1, reps // 2))
        diff = float(np.max(np.abs(fast[list(fit.fixef.index)].to_numpy() - slow.loc[fast.index].to_numpy())))
        out.append(
            {
                "model": name,
                "refits": len(fast),
                "all converged": bool(fast["converged"].all()),
                "boundary refits": int(fast["boundary"].sum()),
                "influence s": round(fast_t, 3),
                "naive refits s": round(slow_t, 3),
                "speed-up": round(slow_t / fast_t, 1),
                "max |difference|": f"{diff:.1e}",
                "lme4 s (recorded)": lme4_times[name],
            }
        )
    print("Drop one school of hs1 and refit (80 refits); median wall time\n")
    print(pd.DataFrame(out).to_string(index=False))
    if not args.quick:
        fit = hk.lme(FIXED, dd, random=MODELS["random intercept"])
        t, infl = _median_time(lambda: hk.influence(fit), 1)
        rec = ref.get("influence_ri_rows", {}).get("seconds")
        print(
            f"\nDrop one row (random intercept, {len(infl)} refits): {t:.2f} s, all converged: "
            f"{bool(infl['converged'].all())}; lme4 (recorded): {rec} s"
        )


if __name__ == "__main__":
    main()
