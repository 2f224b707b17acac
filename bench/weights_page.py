"""Server time of one slider move on the gradient-weight page with all 8 schemes selected.

Drives the real page script with Streamlit's AppTest (the same code `streamlit run` executes, minus the browser):
a warm-up run, then ``--moves`` moves of DGPO's ``n`` slider and of the pi_old slider, each timed from
``set_value`` to the end of the rerun. Prints the median and the 90th percentile in milliseconds.

    python bench/weights_page.py            # about 30 s on one CPU core
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--moves", type=int, default=20, help="slider moves to time (each a full rerun)")
    args = parser.parse_args()
    if args.moves < 1:
        sys.exit("--moves must be at least 1")

    at = AppTest.from_file(str(ROOT / "app" / "views" / "weights.py"), default_timeout=120)
    at.query_params["schemes"] = dgpo.available_schemes()  # all 8
    at.run()
    if at.exception or at.error:
        sys.exit(f"the page failed to load: {at.exception or at.error}")
    assert len(at.get("plotly_chart")) == 3

    times = {"dgpo.n": [], "pi_old": []}
    n_values = [1.25, 1.5, 1.75, 2.0, 1.0]
    old_values = [1e-3, 2e-3, 5e-3, 1e-2, 2e-2]
    for i in tqdm(range(args.moves), desc="slider moves"):
        for key, values in (("dgpo.n", n_values), ("pi_old", old_values)):
            widget = at.slider(key) if key == "dgpo.n" else at.select_slider(key)
            t0 = time.perf_counter()
            widget.set_value(values[i % len(values)]).run()
            times[key].append(1e3 * (time.perf_counter() - t0))
            assert not at.exception, at.exception
    for key, ts in times.items():
        ts = sorted(ts)
        p90 = ts[min(len(ts) - 1, int(0.9 * len(ts)))]
        print(f"{key:>7} slider, 8 schemes: median {statistics.median(ts):.0f} ms, p90 {p90:.0f} ms ({len(ts)} moves)")


if __name__ == "__main__":
    main()
