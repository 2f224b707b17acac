"""Runs: compare, smooth, group and export runs of the run store; import TRL, verl and TensorBoard logs."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import streamlit as st

from app.charts.runs import color_of, metric_figure
from sims.runs import analysis, importers, store
from sims.runstore import run_status

ROOT = Path(os.environ.get("DGPO_RUNS_DIR", "runs"))
UPLOAD_LIMIT_MB = 50
DEFAULT_SELECTED = 10  # newest runs plotted when the listing changes and nothing is selected
PREFERRED = ["reward/mean", "clip/region_frac", "kl/old_new_k1", "entropy/mean", "loss/policy", "grad_norm"]
BASE_COLUMNS = {"name", "kind", "scheme", "status", "steps", "started", "problem"}


@st.cache_data(max_entries=256, show_spinner=False)
def _load(path: str, signature: tuple) -> pd.DataFrame:
    # ``signature`` (file sizes and mtimes) is the cache key: a live run that grew is read again.
    return store.load_run(path)


def _signature(path: Path) -> tuple:
    stats = []
    for name in (store.JSONL, store.PARQUET):
        try:
            s = (path / name).stat()
            stats.append((s.st_size, s.st_mtime_ns))
        except FileNotFoundError:
            stats.append(None)
    return tuple(stats)


def load_selected(names: list[str]) -> tuple[dict[str, pd.DataFrame], list[str]]:
    frames, problems = {}, []
    for name in names:
        try:
            path = store.run_path(ROOT, name)
            frames[name] = _load(str(path), _signature(path))
        except (ValueError, OSError) as e:  # a malformed or vanished run must not break the page
            problems.append(f"{name}: {e}")
    return frames, problems


st.title("Runs")
st.caption(f"Compare runs in `{ROOT}`: ours (bandit, LM) and imported TRL / verl / TensorBoard logs.")

flash_box = st.container()  # always present, so elements below keep their place (and expanders their state)
if flash := st.session_state.pop("runs_flash", None):
    flash_box.success(flash)
table = store.runs_table(ROOT)
if table.empty:
    st.info(f"No runs in `{ROOT}` yet. Start one in a Simulate page, or import a log below.")

# ---- filters and the runs table
f1, f2, f3 = st.columns([2, 1, 1])
pattern = f1.text_input("Filter names (regular expression)", key="runs_filter")
kinds = f2.multiselect("Kind", sorted(table["kind"].dropna().astype(str).unique()), key="runs_kinds")
statuses = f3.multiselect("Status", ["running", "finished", "crashed", "stopped"], key="runs_status")
shown = table
try:
    rx = re.compile(pattern)  # Python's re, not pandas' (pyarrow strings use RE2 with other errors)
    shown = shown[shown["name"].map(lambda n: bool(rx.search(str(n)))).astype(bool)]
except re.error as e:
    st.error(f"The name filter is not a valid regular expression ({e}); fix it or clear it.")
if kinds:
    shown = shown[shown["kind"].astype(str).isin(kinds)]
if statuses:
    shown = shown[shown["status"].isin(statuses)]
st.dataframe(shown, hide_index=True, height=min(400, 38 + 35 * max(len(shown), 1)), key="runs_table")

names = list(shown["name"])
# keep the selection to names still shown (renamed, deleted or filtered away runs drop out); when nothing is
# left, show the newest few so the panels are never empty for no visible reason
kept = [n for n in st.session_state.get("runs_selected", []) if n in names]
listing_changed = st.session_state.get("runs_listed") != names
st.session_state.runs_selected = kept or (names[:DEFAULT_SELECTED] if listing_changed else [])
st.session_state.runs_listed = names
selected = st.multiselect("Runs to compare", names, key="runs_selected")
frames, problems = load_selected(selected)
for problem in problems:
    st.warning(f"Skipped {problem}")

# ---- plot controls
metrics = sorted({c for f in frames.values() for c in f.columns if c not in ("step", "wall_time")})
default_metrics = [m for m in PREFERRED if m in metrics][:4] or metrics[:4]
c1, c2, c3 = st.columns([3, 1.2, 1.6])
if not st.session_state.get("runs_metrics_picked") or "runs_metrics" not in st.session_state:
    st.session_state.runs_metrics = default_metrics  # defaults follow the selection until the user picks
pruned = [m for m in st.session_state.runs_metrics if m in metrics]  # metrics of runs no longer selected drop out
st.session_state.runs_metrics = pruned or default_metrics
chosen = c1.multiselect(
    "Metrics (one panel each)",
    metrics,
    key="runs_metrics",
    on_change=lambda: st.session_state.update(runs_metrics_picked=True),
)
x_axis = c2.selectbox("X-axis", list(analysis.X_AXES), format_func=analysis.X_AXES.get, key="runs_x")
weight = c3.slider(
    "Smoothing",
    0.0,
    0.99,
    0.6,
    0.01,
    key="runs_smoothing",
    help="TensorBoard's debiased exponential moving average; 0 = raw. The raw curve stays faint behind.",
)
config_cols = [c for c in table.columns if c not in BASE_COLUMNS - {"kind", "scheme"} and c != "name"]
g1, g2, g3 = st.columns([3, 1.2, 1.6])
group_by = g1.selectbox(
    "Group by",
    ["(none)", *config_cols],
    key="runs_group",
    help="Average the runs of each group (e.g. the seeds of one scheme) and draw a band across them.",
)
band = g2.selectbox("Band", analysis.BANDS, key="runs_band", disabled=group_by == "(none)")
max_points = g3.select_slider(
    "Points per line",
    [250, 500, 1000, 2000, 5000],
    1000,
    key="runs_points",
    help="Long runs are downsampled (keeping each bucket's min and max) so the page stays fast.",
)


def draw_panels() -> None:
    live = load_selected(selected)[0] if any_running else frames
    if any_running and not any(run_status(ROOT / n) == "running" for n in selected):
        st.rerun(scope="app")  # the live runs ended: refresh the table and stop polling
    groups = None
    if group_by != "(none)":
        groups = dict(zip(table["name"], table[group_by].astype(str), strict=True))
    labels = sorted({groups[n] for n in live}) if groups else list(live)
    colors = {}
    for i, label in enumerate(labels):
        runs_in = sum(1 for n in live if groups[n] == label) if groups else 1
        colors[f"{label} ({runs_in} run{'s' if runs_in != 1 else ''})" if groups else label] = color_of(i)
    columns = st.columns(2)
    for i, metric in enumerate(chosen):
        with columns[i % 2]:
            log_y = st.toggle("log y", key=f"runs_log_{metric}")
            lines = analysis.panel_series(
                live, metric, x_axis=x_axis, weight=weight, max_points=max_points, groups=groups, band=band
            )
            fig = metric_figure(
                metric,
                lines,
                colors,
                x_title=analysis.X_AXES[x_axis],
                log_y=log_y,
                show_legend=i == 0 or len(lines) <= 6,
            )
            st.plotly_chart(fig, width="stretch", key=f"runs_chart_{metric}")


any_running = any(table.loc[table["name"].isin(selected), "status"] == "running")
if not selected:
    st.info("Select one or more runs above to plot them.")
elif not chosen:
    st.info("Pick at least one metric to plot.")
else:
    if any_running:
        st.caption(":material/autorenew: A selected run is still running: the panels refresh every 2 s.")
    st.fragment(draw_panels, run_every=2.0 if any_running else None)()

# ---- export, manage, import
with st.expander("Export selection", icon=":material/download:", key="runs_exp_export"):
    st.caption("Long format: run, step, wall_time, metric, value; the selected runs and metrics (all if none).")
    fmt = st.radio("Format", ["csv", "parquet"], horizontal=True, key="runs_export_fmt")
    st.download_button(
        f"Download {fmt.upper()}",
        data=lambda: store.export_bytes(store.to_long(frames, chosen or None), fmt),
        file_name=f"runs.{fmt}",
        mime="text/csv" if fmt == "csv" else "application/octet-stream",
        on_click="ignore",
        disabled=not frames,
        key="runs_download",
    )

with st.expander("Rename or delete a run", icon=":material/edit:", key="runs_exp_manage"):
    target = st.selectbox("Run", list(table["name"]), key="runs_manage_target")
    r1, r2 = st.columns([3, 1])
    new_name = r1.text_input("New name", key="runs_new_name", placeholder="letters, digits, '.', '_', '-'")
    if r2.button("Rename", key="runs_rename", disabled=not (target and new_name)):
        try:
            store.rename_run(ROOT, target, new_name)
            st.session_state.runs_flash = f"Renamed {target} to {new_name}."
            st.rerun()
        except (ValueError, OSError) as e:
            st.error(f"Could not rename: {e}")
    if st.button("Delete…", key="runs_delete", disabled=not target):
        st.session_state.runs_confirm_delete = target
    if st.session_state.get("runs_confirm_delete") == target and target:
        st.warning(f"Delete run **{target}** and all its files? This cannot be undone.")
        d1, d2 = st.columns(2)
        if d1.button("Yes, delete it", type="primary", key="runs_delete_yes"):
            try:
                store.delete_run(ROOT, target)
                st.session_state.runs_confirm_delete = None
                st.session_state.runs_flash = f"Deleted {target}."
                st.rerun()
            except (ValueError, OSError) as e:
                st.error(f"Could not delete: {e}")
        if d2.button("Cancel", key="runs_delete_no"):
            st.session_state.runs_confirm_delete = None
            st.rerun()

with st.expander("Import a TRL, verl or TensorBoard log", icon=":material/upload:", key="runs_exp_import"):
    st.caption(
        "A verl `file`-logger JSONL, a Hugging Face/TRL `trainer_state.json`, or one or more TensorBoard "
        f"`events.out.tfevents.*` files of one run (up to {UPLOAD_LIMIT_MB} MB each). Files are parsed as data. "
        "Same from a shell: `python -m sims.runs import PATH --name NAME`."
    )
    uploads = st.file_uploader(
        "Log file(s)", accept_multiple_files=True, max_upload_size=UPLOAD_LIMIT_MB, key="runs_upload"
    )
    i1, i2 = st.columns(2)
    import_name = i1.text_input("Run name", key="runs_import_name", placeholder="e.g. trl-grpo-seed0")
    import_fmt = i2.selectbox("Format", ["auto", *importers.FORMATS], key="runs_import_fmt")
    if st.button("Import", key="runs_import", disabled=not (uploads and import_name)):
        try:
            files = [(u.name, u.getvalue()) for u in uploads]
            imported = importers.parse_files(files, import_fmt)
            path = store.import_run(ROOT, imported, import_name, source_label=", ".join(n for n, _ in files))
        except (ValueError, OSError) as e:
            st.error(f"Import failed: {e}")
        else:
            mapped = ", ".join(f"`{theirs}` → `{ours}`" for ours, theirs in imported.renamed.items())
            notes = " ".join(f"Note: {w}." for w in imported.warnings)
            st.session_state.runs_flash = f"Imported {len(imported.frame)} steps as run **{path.name}**. {notes}" + (
                f" Mapped to our names: {mapped}." if mapped else ""
            )
            st.rerun()
