"""Bandit lab: every clipping scheme on the same seeds of an RLVR bandit, live in the browser.

The run goes to a background thread (sims.bandit.job) that never calls Streamlit; a fragment polls it twice a
second. The job lives in st.session_state, so each browser tab runs its own.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import streamlit as st

import dgpo
from app.charts.bandit import answers_figure, metrics_figure
from sims.bandit import PRESETS, BanditConfig
from sims.bandit.job import BanditJob
from sims.fielddocs import field_docs
from sims.runstore import DEFAULT_ROOT

PAGE_DEFAULTS = dict(seeds=16, steps=60)  # small enough to finish in seconds; the CLI defaults are larger
MAIN_FIELDS = ["steps", "seeds", "passes", "minibatches", "lr", "optimizer"]
CHOICES = {"policy": ["linear", "tabular"], "optimizer": ["adam", "sgd"], "estimator": ["grpo", "drgrpo", "rloo"]}


def runs_root() -> Path:
    return Path(os.environ.get("DGPO_RUNS_DIR") or DEFAULT_ROOT)


def field_widget(name: str, default, key: str, help_text: str):
    if name in CHOICES:
        return st.selectbox(name, CHOICES[name], index=CHOICES[name].index(default), key=key, help=help_text)
    if isinstance(default, int):
        return st.number_input(name, value=default, step=1, key=key, help=help_text)
    return st.number_input(name, value=default, format="%g", key=key, help=help_text)


st.title("Bandit lab")
st.caption(
    "A verifiable-reward bandit shaped like RLVR: each step samples G answers per prompt from π_old, scores them "
    "(1 = correct), takes group advantages, then runs several passes of minibatch updates on that batch. "
    "Every scheme sees the same seeds. Lines: mean over seeds; bands: 10–90 % of seeds."
)

left, right = st.columns([1, 2])
preset = left.selectbox(
    "Preset",
    list(PRESETS),
    index=1,
    key="bandit_preset",
    help="rare-correct: exploration; negative-pressure: rare wrong answers pushed to 0; "
    "aggressive: large lr, many passes. Every value below stays editable.",
)
schemes = right.multiselect("Schemes", dgpo.available_schemes(), default=["ppo", "gppo", "dgpo"], key="bandit_schemes")

base = dataclasses.asdict(BanditConfig(**{**PRESETS[preset], **PAGE_DEFAULTS}))
docs = field_docs(BanditConfig)
cols = st.columns(len(MAIN_FIELDS))
for col, name in zip(cols, MAIN_FIELDS, strict=True):
    with col:
        field_widget(name, base[name], f"bandit_{preset}_{name}", docs.get(name, ""))
with st.expander("More simulator settings"):
    rest = [f for f in base if f not in MAIN_FIELDS]
    grid = st.columns(4)
    for i, name in enumerate(rest):
        with grid[i % 4]:
            field_widget(name, base[name], f"bandit_{preset}_{name}", docs.get(name, ""))

with st.expander("Scheme hyper-parameters"):
    for scheme in schemes:
        cls = dgpo.scheme_class(scheme)
        fields = dgpo.hyperparameters(scheme)
        st.markdown(f"**{scheme}**: {cls.title}")
        hp_cols = st.columns(max(len(fields), 1))
        for col, (name, default) in zip(hp_cols, fields.items(), strict=False):
            with col:
                st.number_input(
                    name,
                    value=default,
                    format="%g",
                    key=f"hp_{scheme}_{name}",
                    help=field_docs(cls).get(name, "") + (" Empty = None." if default is None else ""),
                )

if st.session_state.get(f"bandit_{preset}_passes") == 1 and st.session_state.get(f"bandit_{preset}_minibatches") == 1:
    st.warning(
        "One pass and one minibatch: every update is on-policy, r == 1 on every token, so no token is "
        "clipped and every scheme makes the same update. Raise passes or minibatches to see them differ."
    )


def settings_from_state() -> tuple[str, BanditConfig, list[dgpo.Scheme]]:
    """The preset, config and schemes the widgets hold now (read from session_state by key, so a callback
    sees the values of this interaction, not those of the previous run)."""
    ss = st.session_state
    chosen = ss.get("bandit_preset", preset)
    defaults = dataclasses.asdict(BanditConfig(**{**PRESETS[chosen], **PAGE_DEFAULTS}))
    fields = {k: ss.get(f"bandit_{chosen}_{k}", v) for k, v in defaults.items()}
    fields = {k: (int(v) if isinstance(defaults[k], int) and isinstance(v, float) else v) for k, v in fields.items()}
    names = ss.get("bandit_schemes", schemes)
    if not names:
        raise ValueError("pick at least one scheme")
    built = []
    for name in names:
        hp = {k: ss.get(f"hp_{name}_{k}", v) for k, v in dgpo.hyperparameters(name).items()}
        built.append(dgpo.make(name, **hp))
    return chosen, BanditConfig(**fields), built


def start_job() -> None:
    """Run-button callback (runs before the rerun, so the buttons render with the job already started)."""
    try:
        chosen, cfg, built = settings_from_state()
    except (ValueError, TypeError) as e:
        st.session_state["bandit_error"] = f"Cannot run: {e}. Change that setting and press Run again."
        return
    st.session_state.pop("bandit_error", None)
    st.session_state["bandit_job"] = BanditJob(cfg, built, runs_root(), preset=chosen, name=f"bandit-ui-{chosen}")
    st.session_state["bandit_done_seen"] = False


def stop_job() -> None:
    job = st.session_state.get("bandit_job")
    if job is not None:
        job.stop()


job: BanditJob | None = st.session_state.get("bandit_job")
running = job is not None and job.running
b1, b2, _ = st.columns([1, 1, 6])
b1.button("Run", type="primary", disabled=running, key="bandit_run", on_click=start_job)
b2.button("Stop", disabled=not running, key="bandit_stop", on_click=stop_job)
if "bandit_error" in st.session_state:
    st.error(st.session_state["bandit_error"])


@st.fragment(run_every=0.5 if running else None)
def live_view() -> None:
    job: BanditJob | None = st.session_state.get("bandit_job")
    if job is None:
        st.info("Pick a preset and schemes, then press Run.")
        return
    snap = job.snapshot()
    label = {
        "running": "Running",
        "stopping": "Stopping",
        "finished": "Finished",
        "stopped": "Stopped",
        "crashed": "Crashed",
    }[snap.state]
    st.progress(
        snap.steps_done / snap.steps_total,
        text=f"{label}: step {snap.steps_done} / {snap.steps_total} · {snap.elapsed_s:.1f} s · "
        f"{len(job.schemes)} schemes × {job.cfg.seeds} seeds",
    )
    if snap.error:
        st.error(f"The run crashed: {snap.error}. Try a smaller learning rate or fewer passes.")
    if snap.state in ("finished", "stopped") and snap.paths:
        st.success(
            f"{label}. Saved {len(snap.paths)} runs to {snap.paths[0].parent}: " + ", ".join(p.name for p in snap.paths)
        )
    if snap.per_seed:
        st.plotly_chart(
            metrics_figure(snap.per_seed, snap.steps_total if snap.state == "running" else snap.steps_done),
            width="stretch",
            key="bandit_metrics",
        )
        st.subheader("Per answer: where each answer of prompt 0 goes")
        seed = st.selectbox(
            "Seed",
            list(job.seeds),
            key="bandit_seed",
            help="Green: the correct answer; red: the initially most likely wrong one.",
        )
        i = int(np.flatnonzero(job.seeds == seed)[0])
        fig = answers_figure({s: a[:, i, :] for s, a in snap.answers.items()}, job.correct[i], int(job.top_wrong[i]))
        st.plotly_chart(fig, width="stretch", key="bandit_answers")
    if snap.state not in ("running", "stopping") and not st.session_state.get("bandit_done_seen", True):
        st.session_state["bandit_done_seen"] = True
        st.rerun()  # a full rerun re-creates this fragment without run_every: polling stops


live_view()
