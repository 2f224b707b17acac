"""DGPO Lab dashboard: the entry file. Run with `make run` (or `streamlit run app/streamlit_app.py`)."""

import logging
import sys
from pathlib import Path

import streamlit as st

# `streamlit run` puts only app/ on sys.path; the dashboard imports the repo's dgpo and sims packages.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

VIEWS = Path(__file__).parent / "views"

st.set_page_config(page_title="DGPO Lab", page_icon=":material/science:", layout="wide")

PAGES = {
    "Explore": [
        st.Page(VIEWS / "weights.py", title="Gradient weights", icon=":material/show_chart:", default=True),
    ],
    "Simulate": [
        st.Page(VIEWS / "bandit.py", title="Bandit lab", icon=":material/casino:"),
        st.Page(VIEWS / "lm.py", title="Small-LM lab", icon=":material/smart_toy:"),
    ],
    "Inspect": [st.Page(VIEWS / "runs.py", title="Runs", icon=":material/stacked_line_chart:")],
}

page = st.navigation(PAGES)
with st.sidebar:
    st.caption(
        "**DGPO Lab**: how RLVR policy losses (PPO/GRPO, CISPO, GPPO, ASPO, SAPO, CPGD, DGPO) weight each token's "
        "gradient. DGPO: arXiv:2603.14389. Every setting lives in the page URL: copy it to share a view."
    )
try:
    page.run()
except Exception as e:  # last line of defence: a bug shows as a message, the traceback goes to the server log
    logging.getLogger("dgpo_lab").exception("page %r failed", page.title)
    st.error(
        f"**{page.title}** hit an unexpected error: {type(e).__name__}: {e}. This is a bug in DGPO Lab, not in "
        "your settings: reload the page or pick another one, and report it with the server log (full traceback)."
    )
