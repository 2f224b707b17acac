"""Server time of one slider move on the gradient-weight page with all 8 schemes selected.

Drives the real page script with Streamlit's AppTest (the same code `streamlit run` executes, minus the browser):
a warm-up run, then ``--moves`` moves of DGPO's ``n`` slider and of the pi_old slider to values not seen before
(the curve grids are computed), then the same moves again (the grids come from st.cache_data). Two clocks per move:
"script" is the page script's own run time on the server (timed inside the script thread), "rerun" is AppTest's
round trip from ``set_value`` to the parsed result (adds AppTest's polling and element-tree parsing).
Prints medians and 90th percentiles in milliseconds.

    python bench/weights_page.py            # about 20 s
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402
from tqdm import tqdm  # noqa: E402

import dgpo  # noqa: E402

PAGE = ROOT / "app" / "views" / "weights.py"


def timed_page(page: str) -> None:
    """The page file, run as AppTest's script (only this function's source is sent), timing itself."""
    import runpy
    import time

    import streamlit as st

    t0 = time.perf_counter()
    runpy.run_path(page, run_name="__main__")
    st.session_state["_script_ms"] = 1e3 * (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--moves", type=int, default=15, help="distinct values per slider, 1..20 (each a full rerun)")
    args = parser.parse_args()
    if not 1 <= args.moves <= 20:
        sys.exit("--moves must be between 1 and 20 (the sliders have that many distinct values to visit)")

    at = AppTest.from_function(timed_page, default_timeout=120, args=(str(PAGE),))
    at.query_params["schemes"] = dgpo.available_schemes()  # all 8
    at.run()
    if at.exception or at.error:
        sys.exit(f"the page failed to load: {at.exception or at.error}")
    assert len(at.get("plotly_chart")) == 3

    # Pass 1 visits values never seen (every curve grid is computed: st.cache_data misses); pass 2 revisits them.
    n_values = [1.0 + 0.25 * (k + 1) for k in range(args.moves)]
    old_values = [
        p
        for p in (
            1e-6,
            2e-6,
            5e-6,
            1e-5,
            2e-5,
            5e-5,
            1e-4,
            2e-4,
            5e-4,
            1e-3,
            2e-3,
            5e-3,
            2e-2,
            5e-2,
            0.1,
            0.2,
            0.5,
            1e-7,
            2e-7,
            5e-7,
        )
    ][: args.moves]
    times: dict[tuple[str, str, str], list[float]] = {}
    for visit in ("new value", "revisit"):
        for i in tqdm(range(args.moves), desc=f"slider moves ({visit})"):
            for key, values in (("dgpo.n", n_values), ("pi_old", old_values)):
                widget = at.slider(key) if key == "dgpo.n" else at.select_slider(key)
                t0 = time.perf_counter()
                widget.set_value(values[i]).run()
                times.setdefault((key, visit, "rerun"), []).append(1e3 * (time.perf_counter() - t0))
                times.setdefault((key, visit, "script"), []).append(at.session_state["_script_ms"])
                assert not at.exception, at.exception
    for (key, visit, clock), ts in times.items():
        ts = sorted(ts)
        p90 = ts[min(len(ts) - 1, int(0.9 * len(ts)))]
        print(
            f"{key:>7} slider, 8 schemes, {visit:>9}, {clock:>6}: "
            f"median {statistics.median(ts):4.0f} ms, p90 {p90:4.0f} ms"
        )


if __name__ == "__main__":
    main()
