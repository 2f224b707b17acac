"""Small-LM lab: RLVR on a tiny transformers model with any clipping scheme, launched as a subprocess and
watched live (the run lands in the run store)."""

from pathlib import Path

import pandas as pd
import streamlit as st
import torch

import dgpo
from app.charts.lm import training_figure
from sims.fielddocs import field_docs
from sims.lm import LMConfig, available_tasks
from sims.lm.job import launch, lm_runs, read_rows, read_samples, read_summary
from sims.lm.tasks import DIFFICULTY
from sims.runstore import DEFAULT_ROOT, read_json, run_status

DOCS = field_docs(LMConfig)
SIZES = {"tiny (1 x 32)": (1, 32), "small (2 x 64)": (2, 64), "default (2 x 128)": (2, 128), "big (4 x 256)": (4, 256)}

st.title("Small-LM lab")
st.caption(
    "RL with verifiable rewards on a character-level Qwen2/Llama model built in code: a cached supervised warm "
    "start, then G sampled completions per prompt, group advantages and several passes of the chosen scheme's "
    "loss. The run is a `python -m sims.lm` subprocess; its metrics stream in from the run store."
)
cuda = torch.cuda.is_available()
job = st.session_state.get("lm_job")
busy = job is not None and job.running

with st.sidebar:
    st.subheader("Run configuration")
    task = st.selectbox("Task", available_tasks(), help=DOCS["task"])
    lo, hi = DIFFICULTY[task]
    difficulty = st.slider("Difficulty", lo, hi, min(max(2, lo), hi), help=DOCS["difficulty"])
    scheme = st.selectbox("Scheme", dgpo.available_schemes(), index=dgpo.available_schemes().index("dgpo"))
    hp, hp_cols = {}, st.columns(2)
    for i, (name, default) in enumerate(dgpo.hyperparameters(scheme).items()):
        hp[name] = hp_cols[i % 2].number_input(f"{scheme}: {name}", value=None if default is None else float(default),
                                   format="%g", key=f"lm-hp-{scheme}-{name}", placeholder="none")  # fmt: skip
    size = st.selectbox("Model size (layers x width)", list(SIZES), index=2)
    c1, c2 = st.columns(2)
    steps = c1.number_input("RL steps", 1, 5000, 200, help=DOCS["steps"])
    sft_steps = c2.number_input("SFT steps", 0, 20000, 300, help=DOCS["sft_steps"])
    group = c1.number_input("Group size G", 2, 64, 8, help=DOCS["group_size"])
    prompts = c2.number_input("Prompts / step", 1, 64, 8, help=DOCS["prompts_per_step"])
    passes = c1.number_input("Passes μ", 1, 8, 2, help=DOCS["passes"])
    minibatches = c2.number_input("Minibatches", 1, 16, 2, help=DOCS["minibatches"])
    lr = c1.number_input("Learning rate", 1e-7, 1e-1, 3e-5, format="%g", help=DOCS["lr"])
    kl_coef = c2.number_input("KL coef β", 0.0, 10.0, 0.0, format="%g", help=DOCS["kl_coef"])
    seed = c1.number_input("Seed", 0, 10**6, 0, help=DOCS["seed"])
    device = c2.selectbox("Device", ["auto", "cpu", "cuda"], help="auto = CUDA when available")
    st.caption(f"Torch {torch.__version__} · CUDA {'available' if cuda else 'not available: runs use the CPU'}")
    start = st.button("Start run", type="primary", disabled=busy, width="stretch")

if start:
    layers, width = SIZES[size]
    try:
        cfg = LMConfig(
            task=task, difficulty=int(difficulty), scheme=scheme, scheme_hp=tuple(sorted(hp.items())),
            steps=int(steps), sft_steps=int(sft_steps), group_size=int(group), prompts_per_step=int(prompts),
            passes=int(passes), minibatches=int(minibatches), lr=float(lr), kl_coef=float(kl_coef), seed=int(seed),
            device=device, layers=layers, width=width, heads=4,
        )  # fmt: skip
        if device == "cuda" and not cuda:
            raise ValueError("device cuda: CUDA is not available on this machine; choose cpu or auto")
    except ValueError as e:
        st.error(f"Cannot start: {e}")
    else:
        st.session_state["lm_job"] = job = launch(cfg, DEFAULT_ROOT)
        st.session_state["lm_view"] = str(job.run_dir)
        busy = True

past = [str(p) for p in lm_runs(DEFAULT_ROOT)]
if job is not None and str(job.run_dir) not in past:
    past.insert(0, str(job.run_dir))
if not past:
    st.info("Configure a run in the sidebar and press **Start run**. The default (addition, 300 warm-start steps, "
            "200 RL steps) takes a few minutes on a CPU.")  # fmt: skip
    st.stop()
current = st.session_state.get("lm_view", past[0])
shown = st.selectbox(
    "Run", past, index=past.index(current) if current in past else 0, format_func=lambda p: Path(p).name
)
st.session_state["lm_view"] = shown


def stop_job():
    st.session_state["lm_job"].stop()


@st.fragment(run_every=1.0 if busy else None)
def live(run_dir: str):
    run = Path(run_dir)
    job = st.session_state.get("lm_job")
    mine = job is not None and str(job.run_dir) == run_dir
    running = mine and job.running
    rows = read_rows(run)
    config = read_json(run / "config.json") if (run / "config.json").is_file() else {}
    total = config.get("steps") or (job.steps if mine else 1)
    where = {"cpu": "CPU", "cuda": "GPU (CUDA)"}.get(config.get("device_used"), "…")
    head, button = st.columns([5, 1])
    if running:
        if rows:
            step_s = rows[-1]["metrics"].get("perf/step_s") or 0
            text = f"Running on **{where}** · step {rows[-1]['step']}/{total} · {step_s:.2f} s/step"
        else:
            text = "Warm start (supervised; cached for the next run with the same model and task) …"
        head.progress(rows[-1]["step"] / total if rows else 0.0, text=text)
        button.button("Stop", on_click=stop_job, type="secondary", width="stretch", key="lm-stop")
    else:
        error = job.error() if mine else None
        if error:
            head.error(f"The run failed: {error}")
        status = run_status(run) if config else "not started"
        summary = read_summary(run)
        acc = ""
        if "eval_accuracy_before" in summary:
            acc = f" · greedy accuracy before RL {summary['eval_accuracy_before']:.1%}"
            if "eval_accuracy_after" in summary:
                acc += f", after {summary['eval_accuracy_after']:.1%}"
        head.markdown(f"**{status.capitalize()}** on **{where}** · {rows[-1]['step'] if rows else 0}/{total} "
                      f"steps{acc}")  # fmt: skip
    if rows:
        st.plotly_chart(training_figure(rows), width="stretch", key="lm-curves")
        samples = read_samples(run, last=12)
        if samples:
            table = pd.DataFrame(
                {"step": [s["step"] for s in samples], "prompt": [s["prompt"] for s in samples],
                 "completion": [s["completion"] for s in samples],
                 "correct": [s["reward"] == 1 for s in samples]}
            )  # fmt: skip
            st.subheader("Recent samples")
            st.caption("The first completion of a few prompts per step, newest first, judged by the task's verifier.")
            correct = st.column_config.CheckboxColumn("correct", help="the verifier's reward is 1")
            st.dataframe(table, hide_index=True, width="stretch", column_config={"correct": correct})
    if mine and not running and busy:
        st.rerun()  # the run ended: redraw the whole page so the polling stops and Start is enabled again


live(shown)
