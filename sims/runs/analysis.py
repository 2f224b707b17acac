"""Pure functions behind the runs page: smoothing, downsampling, x-axes and grouping of run curves."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

X_AXES = {"step": "Step", "relative": "Relative time (s)", "wall": "Wall time"}
BANDS = ("std", "min-max", "none")


def ema(values: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's debiased exponential moving average (``weight`` in [0, 1), 0 = raw).

    ``last_t = weight * last_{t-1} + (1 - weight) * x_t`` from ``last = 0``, divided by the debias factor
    ``1 - weight**k`` after k finite points. This equals ``sum_i weight**i x_{t-i} / sum_i weight**i`` over
    the finite points seen so far, i.e. pandas' ``ewm(alpha=1-weight, adjust=True, ignore_na=True)``,
    which we use because it is vectorised. Non-finite points are skipped and stay NaN (a gap).
    """
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"smoothing weight must be in [0, 1), got {weight}")
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    if weight == 0.0 or values.size == 0:
        return np.where(finite, values, np.nan)
    series = pd.Series(np.where(finite, values, np.nan))
    smoothed = series.ewm(alpha=1.0 - weight, adjust=True, ignore_na=True).mean().to_numpy()
    return np.where(finite, smoothed, np.nan)


def downsample(x: np.ndarray, y: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """At most about ``max_points`` points, keeping the min and max of each bucket (and the first and last
    point) so spikes survive, as W&B's full-fidelity bucketing does. Shorter series are returned unchanged."""
    x, y = np.asarray(x), np.asarray(y, dtype=np.float64)
    n = y.size
    if max_points < 4:
        raise ValueError(f"max_points must be at least 4, got {max_points}")
    if n <= max_points:
        return x, y
    buckets = max_points // 2
    width = -(-n // buckets)  # ceil
    padded = np.full(buckets * width, np.nan)
    padded[:n] = y
    grid = padded.reshape(buckets, width)
    offsets = np.arange(buckets) * width
    lo = np.where(np.isnan(grid), np.inf, grid).argmin(axis=1) + offsets
    hi = np.where(np.isnan(grid), -np.inf, grid).argmax(axis=1) + offsets
    keep = np.unique(np.concatenate([[0, n - 1], lo[lo < n], hi[hi < n]]))
    return x[keep], y[keep]


def x_values(frame: pd.DataFrame, axis: str) -> np.ndarray:
    """The x of each row: ``step``, seconds since the run's first row (``relative``) or wall-clock time."""
    if axis == "step":
        return frame["step"].to_numpy()
    wall = frame["wall_time"].to_numpy(dtype=np.float64)
    if axis == "relative":
        finite = wall[np.isfinite(wall)]
        return wall - (finite[0] if finite.size else 0.0)
    if axis == "wall":
        return pd.to_datetime(wall, unit="s").to_numpy()
    raise ValueError(f"unknown x-axis {axis!r}; choose one of {', '.join(X_AXES)}")


def group_stats(curves: list[tuple[np.ndarray, np.ndarray]], grid_points: int | None = None) -> pd.DataFrame:
    """Mean, std (population), min, max and count across runs at each x.

    With ``grid_points=None`` the curves are aligned on their exact x values (steps; a run that did not log an
    x is left out there). With an int, each curve is linearly interpolated onto a common grid of that many
    points spanning all curves (for time axes), and left out outside its own x range.
    """
    if not curves:
        return pd.DataFrame(columns=["x", "mean", "std", "min", "max", "count"])
    if grid_points is None:
        series = [pd.Series(y, index=x).groupby(level=0).last() for x, y in curves]
        table = pd.concat(series, axis=1).sort_index()
        xs, values = table.index.to_numpy(), table.to_numpy(dtype=np.float64)
    else:
        lo = min(np.nanmin(x) for x, _ in curves if len(x))
        hi = max(np.nanmax(x) for x, _ in curves if len(x))
        xs = np.linspace(lo, hi, grid_points)
        columns = []
        for x, y in curves:
            ok = np.isfinite(x) & np.isfinite(y)
            col = np.full(grid_points, np.nan)
            if ok.sum() >= 1:
                inside = (xs >= x[ok].min()) & (xs <= x[ok].max())
                col[inside] = np.interp(xs[inside], x[ok], y[ok])
            columns.append(col)
        values = np.stack(columns, axis=1)
    count = np.isfinite(values).sum(axis=1)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows (no run at this x) are dropped below
        stats = {
            "x": xs,
            "mean": np.nanmean(values, axis=1),
            "std": np.nanstd(values, axis=1),
            "min": np.nanmin(values, axis=1),
            "max": np.nanmax(values, axis=1),
            "count": count,
        }
    return pd.DataFrame(stats)[count > 0].reset_index(drop=True)


def panel_series(
    frames: dict[str, pd.DataFrame],
    metric: str,
    *,
    x_axis: str = "step",
    weight: float = 0.0,
    max_points: int = 1000,
    groups: dict[str, str] | None = None,
    band: str = "std",
) -> list[dict]:
    """The lines of one metric panel, smoothed on the full series and then downsampled for drawing.

    Without ``groups``: one dict per run that logged ``metric``: ``name``, ``x``, ``y`` (smoothed) and
    ``raw_x``/``raw_y`` (the unsmoothed series, only when ``weight > 0``). With ``groups`` (run -> group label):
    one dict per group: ``name``, ``x``, ``y`` (mean of the smoothed runs), ``lower``/``upper`` (mean ± std,
    min/max, or None for ``band="none"``) and ``runs`` (how many runs it averages).
    """
    if band not in BANDS:
        raise ValueError(f"unknown band {band!r}; choose one of {', '.join(BANDS)}")
    curves: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for name, frame in frames.items():
        if metric not in frame.columns:
            continue
        y = frame[metric].to_numpy(dtype=np.float64)
        # wall clock stays in float seconds until the end, so grouping can interpolate on it
        x = frame["wall_time"].to_numpy(dtype=np.float64) if x_axis == "wall" else x_values(frame, x_axis)
        curves[name] = (x, ema(y, weight), y)
    if groups is None:
        out = []
        for name, (x, smooth, raw) in curves.items():
            line = dict(zip(("x", "y"), downsample(x, smooth, max_points), strict=True), name=name)
            if weight > 0:
                line["raw_x"], line["raw_y"] = downsample(x, raw, max_points)
            out.append(_as_dates(line) if x_axis == "wall" else line)
        return out
    members: dict[str, list[str]] = {}
    for name in curves:
        members.setdefault(str(groups.get(name)), []).append(name)
    out = []
    for label, names in members.items():
        grid = None if x_axis == "step" else 1000  # time axes: interpolate onto a common grid
        stats = group_stats([(curves[n][0], curves[n][1]) for n in names], grid_points=grid)
        x = stats["x"].to_numpy()
        mean = stats["mean"].to_numpy()
        if band == "std":
            lower, upper = mean - stats["std"].to_numpy(), mean + stats["std"].to_numpy()
        elif band == "min-max":
            lower, upper = stats["min"].to_numpy(), stats["max"].to_numpy()
        else:
            lower = upper = None
        keep = np.unique(np.linspace(0, len(x) - 1, min(len(x), max_points)).astype(int)) if len(x) else []
        line = {
            "name": f"{label} ({len(names)} run{'s' if len(names) != 1 else ''})",
            "x": x[keep],
            "y": mean[keep],
            "lower": None if lower is None else lower[keep],
            "upper": None if upper is None else upper[keep],
            "runs": len(names),
        }
        out.append(_as_dates(line) if x_axis == "wall" else line)
    return out


def _as_dates(line: dict) -> dict:
    for key in ("x", "raw_x"):
        if key in line:
            line[key] = pd.to_datetime(np.asarray(line[key], dtype=np.float64), unit="s").to_numpy()
    return line
