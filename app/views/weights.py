"""Gradient weights: what every clipping scheme does to one token's gradient (hard vs soft clipping vs DGPO).

Thin page: widgets (all bound to the URL query parameters, so a link reproduces the view), schemes from
``dgpo.make``, curve grids from ``dgpo.ratio_curve`` / ``prob_curve`` / ``prob_grid`` (cached per frozen
hyper-parameters), figures from app/charts/weights.py.
"""

from __future__ import annotations

import dataclasses

import streamlit as st

import dgpo
from app.charts import weights as charts
from app.charts import weights_table as tables
from app.scheme_notes import INTRO, NOTES, field_docs

DEFAULT_SCHEMES = ["ppo", "cispo", "gppo", "dgpo"]
# Probabilities offered by the pi / pi_old sliders: a 1-2-5 log grid from 1e-8 to 1.
PROBS = [round(m * 10.0**e, 12) for e in range(-8, 0) for m in (1, 2, 5)] + [1.0]
# Slider ranges (min, max, step) per hyper-parameter; dual_clip is a free number input (off when empty).
RANGES = {
    "eps_low": (0.0, 0.95, 0.01),
    "eps_high": (0.0, 2.0, 0.01),
    "n": (0.0, 6.0, 0.25),
    "m": (0.25, 8.0, 0.25),
    "beta1": (0.0, 2.0, 0.05),
    "beta2": (0.0, 2.0, 0.05),
    "c_pos": (1.0, 10.0, 0.5),
    "c_neg": (1.0, 10.0, 0.5),
    "tau_pos": (0.1, 5.0, 0.05),
    "tau_neg": (0.1, 5.0, 0.05),
    "drift_coef": (0.0, 0.5, 0.01),
    "drift_cap": (0.5, 5.0, 0.5),
}


# -- cached core calls: keyed by the scheme name and its (hashable) hyper-parameter items ---------------------
# The core's curve tuples are stored with numpy fields: st.cache_data unpickles on every hit, numpy 5x faster.
def _numpy(curve):
    return type(curve)(*(t.numpy() for t in curve))


@st.cache_data(max_entries=512, show_spinner=False)
def ratio_curve(name: str, hp: tuple) -> dgpo.RatioCurve:
    return _numpy(dgpo.ratio_curve(dgpo.make(name, **dict(hp))))


@st.cache_data(max_entries=512, show_spinner=False)
def prob_curve(name: str, hp: tuple, old_prob: float, sign: int) -> dgpo.ProbCurve:
    return _numpy(dgpo.prob_curve(dgpo.make(name, **dict(hp)), old_prob, sign))


@st.cache_data(max_entries=64, show_spinner=False)
def prob_grid(name: str, hp: tuple, sign: int) -> dgpo.ProbGrid:
    return _numpy(dgpo.prob_grid(dgpo.make(name, **dict(hp)), sign))


def hyperparameter_widgets(name: str) -> dict:
    """One widget per hyper-parameter of ``name`` (defaults from ``dgpo.hyperparameters``), keyed 'scheme.field'."""
    values = {}
    fields = {f.name: f for f in dataclasses.fields(dgpo.scheme_class(name))}
    docs = field_docs(name)
    for field, default in dgpo.hyperparameters(name).items():
        key, doc = f"{name}.{field}", docs.get(field)
        optional = "None" in str(fields[field].type)
        if default is None:  # an optional feature that is off by default (dual clip)
            values[field] = st.number_input(
                f"{field} (empty = off)",
                value=None,
                step=0.5,
                key=key,
                bind="query-params",
                help=doc,
            )
            continue
        if optional and st.checkbox(f"no {field} (None)", key=f"{key}.none", bind="query-params", help=doc):
            values[field] = None
            continue
        lo, hi, step = RANGES[field]
        values[field] = st.slider(field, lo, hi, float(default), step, key=key, bind="query-params", help=doc)
    return values


def build_schemes(names: list[str]) -> list[dgpo.Scheme]:
    """Sidebar widgets for the selected schemes; the core validates, and a bad value becomes an st.error."""
    schemes = []
    for name in names:
        with st.sidebar.expander(f"{name.upper()}: {dgpo.scheme_class(name).title}", expanded=name == "dgpo"):
            values = hyperparameter_widgets(name)
        try:
            schemes.append(dgpo.make(name, **values))
        except ValueError as e:
            st.error(
                f"**{name.upper()}**: {e}. Change it in the sidebar under '{name.upper()}'; "
                "the scheme is left out of the charts until then."
            )
    return schemes


def png(name: str) -> dict:
    """Plotly's camera button (mode bar) saves a 2x PNG under this file name."""
    return {"toImageButtonOptions": {"format": "png", "filename": name, "scale": 2}}


def hp_key(s: dgpo.Scheme) -> tuple:
    return tuple(dataclasses.asdict(s).items())


st.title("Gradient weights")
st.caption("What each clipping scheme does to one token's gradient, as a function of how far π moved from π_old.")
with st.expander("Hard vs soft clipping vs DGPO, in one paragraph", expanded=True):
    st.markdown(INTRO)

st.sidebar.header("Schemes")
names = st.sidebar.multiselect(
    "Schemes to compare",
    dgpo.available_schemes(),
    default=DEFAULT_SCHEMES,
    key="schemes",
    bind="query-params",
    help="Each scheme's hyper-parameters appear below; the page URL keeps every setting.",
)
schemes = build_schemes(names)
if not schemes:
    st.info("Pick at least one scheme (with valid hyper-parameters) in the sidebar to see its weights.")
    st.stop()

# -- Plot 1: w_log against r -----------------------------------------------------------------------------------
st.subheader("1 · Weight on A·∇log π against the ratio r")
ratio_curves = [ratio_curve(s.name, hp_key(s)) for s in schemes]
st.plotly_chart(
    charts.ratio_figure(schemes, ratio_curves), width="stretch", key="ratio_chart", config=png("weights_ratio")
)
st.caption(
    "Shaded: the trust region all selected schemes share. Dotted: each boundary. A vertical drop to 0 is a "
    "hard clip (the gradient is dropped); a flat line past a boundary is a soft clip."
)

# -- Plot 2 and the token panel share pi_old --------------------------------------------------------------------
st.subheader("2 · Weight on A·∇π against the current probability π")
c1, c2, c3 = st.columns([2, 2, 1])
old_prob = c1.select_slider(
    "π_old (probability when the token was sampled)",
    PROBS,
    value=1e-2,
    key="pi_old",
    bind="query-params",
    format_func=lambda p: f"{p:g}",
)
prob = c2.select_slider(
    "π (current probability of the token)",
    PROBS,
    value=1e-4,
    key="pi",
    bind="query-params",
    format_func=lambda p: f"{p:g}",
)
sign = c3.segmented_control(
    "sign of A",
    [-1, 1],
    default=-1,
    key="sign",
    bind="query-params",
    required=True,
    format_func=lambda v: charts.SIGNS[v],
)
pos = [prob_curve(s.name, hp_key(s), old_prob, 1) for s in schemes]
neg = [prob_curve(s.name, hp_key(s), old_prob, -1) for s in schemes]
st.plotly_chart(
    charts.prob_figure(schemes, pos, neg, old_prob), width="stretch", key="prob_chart", config=png("weights_prob")
)
st.caption(
    "Log-log. Inside the trust region every ratio-weighted scheme gives w_prob = 1/π_old. Left of "
    "(1-ε_low)·π_old, soft clips (GPPO, CISPO) grow like 1/π; DGPO decays like π^n. Gaps: zero weight."
)

# -- What happens to this token -------------------------------------------------------------------------------
st.subheader("What happens to this token")
table = tables.token_table(schemes, old_prob, prob, sign)
st.markdown(tables.token_reading(table, old_prob, prob, sign))
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={
        "w_log": st.column_config.NumberColumn(format="%.4g"),
        "w_prob": st.column_config.NumberColumn(format="%.4g"),
        "vs r=1": st.column_config.NumberColumn(
            "w_prob vs r = 1", format="%.4gx", help="w_prob of this token divided by w_prob at π = π_old"
        ),
    },
)

# -- Plot 3: heatmap ----------------------------------------------------------------------------------------------
st.subheader("3 · w_prob over (π_old, π) for one scheme")
heat_name = st.selectbox(
    "Scheme for the heatmap",
    [s.name for s in schemes],
    key="heat",
    bind="query-params",
    index=len(schemes) - 1,
    format_func=str.upper,
)
heat = next(s for s in schemes if s.name == heat_name)
grid = prob_grid(heat.name, hp_key(heat), sign)
st.plotly_chart(
    charts.heatmap_figure(heat, grid, sign, (old_prob, prob)),
    width="stretch",
    key="heat_chart",
    config=png("weights_heatmap"),
)
st.caption(
    f"Sign of A as above ({charts.SIGNS[sign]}). Magenta dashes: the boundaries; the red x is the token above; "
    "white cells have zero weight (gradient dropped)."
)

# -- Per-scheme explanation ---------------------------------------------------------------------------------------
st.subheader("The schemes")
cols = st.columns(2)
for i, s in enumerate(schemes):
    note, cls = NOTES[s.name], dgpo.scheme_class(s.name)
    with cols[i % 2].container(border=True):
        st.markdown(f"**{cls.title}** · *{note.kind}*")
        st.latex(note.latex)
        st.markdown(
            f"**Left boundary (LN):** {note.left}  \n**Right boundary (HP):** {note.right}  \n**Paper:** {cls.paper}"
        )

st.download_button(
    "Download the plotted curves (CSV)",
    lambda: tables.curves_csv(schemes, ratio_curves, pos, neg, old_prob),
    file_name="gradient_weights.csv",
    mime="text/csv",
    icon=":material/download:",
    on_click="ignore",
)
