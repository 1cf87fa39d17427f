"""Figures for a training run (matplotlib, Agg): each function returns a Figure to log."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import roc_curve


def roc_figure(y: np.ndarray, scores: dict[str, np.ndarray]) -> Figure:
    """ROC curves of the model and the baselines on the same held-out rows."""
    fig, ax = plt.subplots(figsize=(5, 5))
    for name, s in scores.items():
        fpr, tpr, _ = roc_curve(y, s)
        ax.plot(fpr, tpr, label=name)
    ax.plot([0, 1], [0, 1], ls=":", c="grey")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (holdout)")
    ax.legend(loc="lower right")
    return fig


def calibration_figure(y: np.ndarray, proba: np.ndarray, bins: int = 10) -> Figure:
    """Observed met_kpi rate against mean predicted probability, per probability bin."""
    y, p = np.asarray(y, float), np.asarray(proba, float)
    idx = np.minimum((p * bins).astype(int), bins - 1)
    xs, ys, ns = [], [], []
    for b in range(bins):
        sel = idx == b
        if sel.any():
            xs.append(p[sel].mean())
            ys.append(y[sel].mean())
            ns.append(sel.sum())
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], ls=":", c="grey")
    ax.scatter(xs, ys, s=10 + 200 * np.array(ns) / max(sum(ns), 1))
    ax.plot(xs, ys)
    ax.set(xlabel="predicted probability", ylabel="observed rate", title="Calibration (holdout)")
    return fig


def importance_figure(importance: pd.DataFrame, top: int = 12) -> Figure:
    """Mean |contribution| per feature and role family (bars, top features overall)."""
    order = importance.mean(axis=1).sort_values(ascending=True).tail(top).index
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(order) + 1.5))
    importance.loc[order].plot.barh(ax=ax)
    ax.set(xlabel="mean |SHAP| (log-odds)", title="Feature importance by role family")
    fig.tight_layout()
    return fig


def shap_summary_figure(contrib: pd.DataFrame, values: pd.DataFrame, top: int = 12) -> Figure:
    """Beeswarm-style: each row's contribution per feature, coloured by the feature's value."""
    order = contrib.abs().mean().sort_values(ascending=False).head(top).index[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(order) + 1.5))
    rng = np.random.default_rng(0)
    for i, col in enumerate(order):
        v = pd.to_numeric(values[col], errors="coerce") if col in values else pd.Series(
            np.nan, index=contrib.index)
        rank = v.rank(pct=True).fillna(0.5).to_numpy()
        ax.scatter(contrib[col].to_numpy(), i + rng.uniform(-0.3, 0.3, len(contrib)),
                   c=rank, cmap="coolwarm", s=4, alpha=0.6)
    ax.set_yticks(range(len(order)), order)
    ax.axvline(0, c="grey", lw=0.5)
    ax.set(xlabel="SHAP value (log-odds)", title="SHAP summary (holdout; red = high value)")
    fig.tight_layout()
    return fig


def attainment_by_band_figure(frame: pd.DataFrame, bands: np.ndarray) -> Figure:
    """Mean KPI attainment and met_kpi rate per score band, per role family."""
    df = pd.DataFrame({"role_family": frame["role_family"].astype(str).to_numpy(),
                       "band": bands,
                       "kpi_attainment": pd.to_numeric(frame["kpi_attainment"]).to_numpy(),
                       "met_kpi": frame["met_kpi"].astype(float).to_numpy()})
    table = df.pivot_table(index="role_family", columns="band", values="kpi_attainment",
                           aggfunc="mean").reindex(columns=["hold", "review", "advance"])
    fig, ax = plt.subplots(figsize=(7, 4))
    table.plot.bar(ax=ax)
    ax.set(ylabel="mean KPI attainment (first year)", title="KPI attainment by score band")
    fig.tight_layout()
    return fig
