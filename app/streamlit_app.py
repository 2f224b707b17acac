"""DGPO Lab dashboard: the entry file. Run with `make run` (or `streamlit run app/streamlit_app.py`)."""

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
        st.Page(VIEWS / "lm.py", title="Small-LM lab", icon=":material/smart_toy:"),
    ],
}

st.navigation(PAGES).run()
