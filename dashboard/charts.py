"""Plotly figures for the pages, built from small aggregates the queries already made.

Plotly reads a few HTML tags inside labels (<b>, <br>, <a>), so every user-given name
(task types, fleets, models) goes through `label()` first and shows as the text it is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from tierwatch.dashboard.columns import money
from tierwatch.dashboard.text import label

DAY_MS = 86_400_000  # a day on a plotly date axis
SKIP_TIER_COLOR = "#d62728"
STEP_COLOR = "rgba(120, 144, 156, 0.45)"
SMALL_SAMPLE_NOTE = "hatched / * = fewer than 30 tasks: read the interval, not the bar"
TIER_COLORS = ["#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2", "#9d755d"]


def _layout(fig: go.Figure, title: str, height: int = 380, **kwargs) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left"},
        height=height,
        margin={"l": 10, "r": 10, "t": 50, "b": 40},
        legend={"orientation": "h", "yanchor": "top", "y": -0.12, "xanchor": "left", "x": 0},
        **kwargs,
    )
    return fig


def tier_colors(ladder: Sequence[str]) -> dict[str, str]:
    colors = {t: TIER_COLORS[i % len(TIER_COLORS)] for i, t in enumerate(ladder)}
    colors["(not given)"] = "#bab0ac"
    return colors


def stacked_area(
    frame: pd.DataFrame,
    x: str,
    y: str,
    color: str,
    title: str,
    *,
    order: Sequence[str] = (),
    percent: bool = False,
    y_title: str = "",
) -> go.Figure:
    """One stacked series per value of `color` (e.g. tier mix per day)."""
    wide = frame.pivot_table(index=x, columns=color, values=y, aggfunc="sum", fill_value=0)
    names = [c for c in order if c in wide.columns] + [c for c in wide.columns if c not in order]
    colors = tier_colors(list(order))
    fig = go.Figure()
    if len(wide.index) == 1:  # an area of one point draws nothing: one stacked bar
        shares = wide.div(wide.sum(axis=1).replace(0, 1), axis=0) * 100 if percent else wide
        for name in names:
            fig.add_trace(
                go.Bar(
                    x=wide.index,
                    y=shares[name],
                    name=label(name),
                    marker_color=colors.get(name),
                    width=[0.6 * DAY_MS] if _dated(wide.index) else None,  # else 1 ms wide
                )
            )
        fig.update_layout(barmode="stack")
    else:
        for name in names:
            fig.add_trace(
                go.Scatter(
                    x=wide.index,
                    y=wide[name],
                    name=label(name),
                    stackgroup="one",
                    groupnorm="percent" if percent else None,
                    mode="lines",
                    line={"width": 0.5, "color": colors.get(name)},
                )
            )
    _day_axis(fig, wide.index)
    return _layout(fig, title, yaxis_title=y_title or ("% of tasks" if percent else y))


def _day_axis(fig: go.Figure, xs) -> None:
    """One day of data on a date axis reads as that day, between its neighbours (plotly's
    own range for a single date is the milliseconds around its midnight)."""
    days = pd.to_datetime(pd.Series(list(xs)).dropna()).unique() if _dated(xs) else ()
    if len(days) == 1:
        day = pd.Timestamp(days[0])
        fig.update_xaxes(
            range=[day - pd.Timedelta(days=1), day + pd.Timedelta(days=1)],
            dtick=DAY_MS,
            tickformat="%b %d, %Y",
        )


def _dated(xs) -> bool:
    values = pd.Series(list(xs)).dropna()
    return pd.api.types.is_datetime64_any_dtype(values) or (
        len(values) > 0 and all(isinstance(v, dt.date) for v in values)
    )


def lines(
    frame: pd.DataFrame,
    x: str,
    ys: dict[str, str],
    title: str,
    *,
    y_title: str = "",
    y_format: str | None = None,
) -> go.Figure:
    """A few named series over time: `ys` maps column -> legend name."""
    fig = go.Figure()
    size = 4 if frame[x].nunique() > 1 else 9  # a single point must be seen
    for column, name in ys.items():
        fig.add_trace(
            go.Scatter(
                x=frame[x], y=frame[column], name=name, mode="lines+markers", marker={"size": size}
            )
        )
    _day_axis(fig, frame[x])
    fig = _layout(fig, title, yaxis_title=y_title)
    fig.update_yaxes(rangemode="tozero")
    if y_format == ".0%":  # small rates need a decimal to tell 0.2% from 0.4%
        top = max((frame[c].max() for c in ys if frame[c].notna().any()), default=1)
        y_format = ".1%" if top < 0.05 else y_format
    if y_format:
        fig.update_yaxes(tickformat=y_format)
    return fig


def rate_bars(
    rows: list[dict],
    category: str,
    title: str,
    *,
    rate: str = "failure_rate",
    count: str = "tasks",
    order: Sequence[str] = (),
) -> go.Figure:
    """A rate per category with its 95% interval as whiskers; small samples hatched."""
    rows = sorted(
        rows,
        key=lambda r: (
            list(order).index(r[category]) if r[category] in order else len(order),
            str(r[category]),
        ),
    )
    values = [r.get(rate) or 0 for r in rows]
    cis = [r.get(f"{rate}_ci") or [None, None] for r in rows]
    upper = [(c[1] - v) if c[1] is not None else 0 for v, c in zip(values, cis, strict=True)]
    lower = [(v - c[0]) if c[0] is not None else 0 for v, c in zip(values, cis, strict=True)]
    small = [bool(r.get("small_sample")) for r in rows]
    fig = go.Figure(
        go.Bar(
            x=[label(r[category]) + (" *" if s else "") for r, s in zip(rows, small, strict=True)],
            y=values,
            error_y={"type": "data", "symmetric": False, "array": upper, "arrayminus": lower},
            text=[f"{v:.1%} of {r.get(count, 0):,}" for v, r in zip(values, rows, strict=True)],
            textposition="outside",
            marker={"pattern": {"shape": ["/" if s else "" for s in small]}},
            hovertemplate="%{x}: %{y:.1%}<extra></extra>",
        )
    )
    fig = _layout(fig, title)
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    return fig


def heatmap(
    rows: list[dict],
    x: str,
    y: str,
    title: str,
    *,
    value: str = "failure_rate",
    count: str = "tasks",
    x_order: Sequence[str] = (),
) -> go.Figure:
    """value by (y, x) with the count in each cell; small samples marked with *."""
    frame = pd.DataFrame(rows)
    xs = [c for c in x_order if c in set(frame[x])] + sorted(set(frame[x]) - set(x_order))
    ys = sorted(set(frame[y]), key=str)
    z, text = [], []
    for yv in ys:
        zrow, trow = [], []
        for xv in xs:
            cell = frame[(frame[x] == xv) & (frame[y] == yv)]
            if cell.empty or cell.iloc[0][value] is None or pd.isna(cell.iloc[0][value]):
                zrow.append(None)
                trow.append("")
                continue
            r = cell.iloc[0]
            zrow.append(r[value])
            mark = " *" if r.get("small_sample") else ""
            trow.append(f"{r[value]:.0%}<br>n={int(r[count]):,}{mark}")
        z.append(zrow)
        text.append(trow)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[label(v) for v in xs],
            y=[label(v) for v in ys],
            text=text,
            texttemplate="%{text}",
            colorscale="Reds",
            zmin=0,
            colorbar={"tickformat": ".0%"},
            hovertemplate="%{y} on %{x}: %{z:.1%}<extra></extra>",
        )
    )
    return _layout(fig, title, height=max(300, 60 + 38 * len(ys)))


def sankey(paths: dict[str, int], ladder: Sequence[str], title: str) -> go.Figure:
    """Escalation steps between tiers; steps that skip a tier are drawn red."""
    rank = {t: i for i, t in enumerate(ladder)}
    sources = [t for t in ladder]
    nodes = [f"from {t}" for t in sources] + [f"to {t}" for t in ladder]
    src, dst, val, colors, hover = [], [], [], [], []
    for path, n in paths.items():
        a, _, b = path.partition("->")
        if a not in rank or b not in rank or not n:
            continue
        skip = rank[b] - rank[a] >= 2
        src.append(rank[a])
        dst.append(len(sources) + rank[b])
        val.append(n)
        colors.append(SKIP_TIER_COLOR if skip else STEP_COLOR)
        hover.append(f"{a} → {b}: {n:,}" + (" (skips a tier)" if skip else ""))
    fig = go.Figure(
        go.Sankey(
            arrangement="fixed",
            node={
                "label": nodes,
                "pad": 18,
                "thickness": 16,
                "color": [tier_colors(ladder)[t] for t in sources + list(ladder)],
            },
            link={
                "source": src,
                "target": dst,
                "value": val,
                "color": colors,
                "customdata": hover,
                "hovertemplate": "%{customdata}<extra></extra>",
            },
        )
    )
    return _layout(fig, title, height=360)


def waterfall(steps: list[tuple[str, float]], total_name: str, title: str) -> go.Figure:
    """From a start value through signed steps to a total (the last bar)."""
    names = [s[0] for s in steps] + [total_name]
    values = [s[1] for s in steps] + [0]
    measure = ["absolute"] + ["relative"] * (len(steps) - 1) + ["total"]
    fig = go.Figure(
        go.Waterfall(
            x=names,
            y=values,
            measure=measure,
            text=[money(v) if m != "total" else "" for v, m in zip(values, measure, strict=True)],
            textposition="outside",
            decreasing={"marker": {"color": "#54a24b"}},
            increasing={"marker": {"color": "#e45756"}},
            totals={"marker": {"color": "#4c78a8"}},
            connector={"line": {"color": "#999"}},
        )
    )
    fig = _layout(fig, title, height=420)
    fig.update_yaxes(tickprefix="$", rangemode="tozero")
    return fig


def reliability(groups: list[dict], title: str) -> go.Figure:
    """Observed success against stated confidence per bin, one line per group; the diagonal
    is perfect calibration."""
    fig = go.Figure(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name="perfect calibration",
            line={"dash": "dot", "color": "#888"},
        )
    )
    for g in groups:
        bins = [b for b in g["bins"] if b.get("attempts")]
        if not bins:
            continue
        fig.add_trace(
            go.Scatter(
                x=[b["mean_confidence"] for b in bins],
                y=[b["successes"] / b["attempts"] for b in bins],
                mode="lines+markers",
                name=label(g["name"]),
                marker={"size": [min(22, 5 + b["attempts"] ** 0.5 / 3) for b in bins]},
                customdata=[b["attempts"] for b in bins],
                hovertemplate="confidence %{x:.2f}: %{y:.1%} succeeded (n=%{customdata:,})"
                "<extra></extra>",
            )
        )
    fig = _layout(
        fig,
        title,
        height=440,
        xaxis_title="stated confidence (bin mean)",
        yaxis_title="observed success",
    )
    fig.update_xaxes(range=[0, 1.02])
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%")
    return fig


def with_marks(fig: go.Figure, marks: list[tuple[str, str]]) -> go.Figure:
    """Vertical dashed lines at dates, each with a short label (model version changes)."""
    for at, text in marks:
        fig.add_vline(x=pd.Timestamp(at).timestamp() * 1000, line_dash="dash", line_color="#555")
        fig.add_annotation(
            x=at,
            y=1,
            yref="paper",
            text=label(text),
            showarrow=False,
            xanchor="left",
            yanchor="bottom",
            font={"size": 10},
        )
    return fig


FRONTIER_SYMBOLS = {
    "realized": "diamond",
    "table": "square",
    "optimised": "star",
    "oracle": "x",
    "proposed": "circle-open",
}


def frontier(points: list[dict], ladder: Sequence[str], title: str) -> go.Figure:
    """Cost per task against failure rate: the one-tier fleets joined by a line, and each
    routing as its own marker, with its 95% interval as whiskers where it has one."""
    colors = tier_colors(ladder)
    fig = go.Figure()
    one_tier = [p for p in points if p["kind"] == "one_tier" and p["known"]]
    if one_tier:
        fig.add_trace(
            go.Scatter(
                x=[p["cost_per_task_usd"] for p in one_tier],
                y=[p["failure_rate"] for p in one_tier],
                mode="lines+markers+text",
                text=[label(p["name"]) for p in one_tier],
                textposition="top right",
                name="one-tier fleets",
                line={"color": "#999", "dash": "dot"},
                marker={
                    "size": 11,
                    "color": [colors.get(p["name"].removeprefix("all-"), "#333") for p in one_tier],
                },
                hovertemplate="%{text}: $%{x:.4f} a task, %{y:.1%} fail<extra></extra>",
            )
        )
    for p in points:
        if p["kind"] == "one_tier" or not p["known"]:
            continue
        ci = p.get("failure_rate_ci")
        fig.add_trace(
            go.Scatter(
                x=[p["cost_per_task_usd"]],
                y=[p["failure_rate"]],
                mode="markers",
                text=[label(p["name"])],
                name=label(p["name"]),
                marker={"size": 13, "symbol": FRONTIER_SYMBOLS.get(p["kind"], "circle")},
                error_y=None
                if not ci
                else {
                    "type": "data",
                    "symmetric": False,
                    "array": [ci[1] - p["failure_rate"]],
                    "arrayminus": [p["failure_rate"] - ci[0]],
                },
                hovertemplate="%{text}: $%{x:.4f} a task, %{y:.1%} fail<extra></extra>",
            )
        )
    fig = _layout(
        fig,
        title,
        height=460,
        xaxis_title="executor cost per task (USD, log scale)",
        yaxis_title="tasks that fail (finally or downstream)",
    )
    fig.update_layout(legend={"y": -0.22})
    costs = [p["cost_per_task_usd"] for p in points if p["known"]]
    ticks = [
        m * 10.0**e
        for e in range(-6, 3)
        for m in (1, 2, 5)
        if costs and min(costs) / 2 <= m * 10.0**e <= max(costs) * 2
    ]
    fig.update_xaxes(type="log", tickvals=ticks, ticktext=[f"${t:g}" for t in ticks])
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    return fig


def strategy_bars(strategies: list[dict], ladder: Sequence[str], title: str) -> go.Figure:
    """Cost per day of each strategy (queries.costs.strategies), each one-tier fleet in its
    tier's colour and the routed fleet in black, the dollars on the bars."""
    colors = tier_colors(ladder)
    fig = go.Figure(
        go.Bar(
            x=[label(r["strategy"]) for r in strategies],
            y=[r["usd_per_day"] for r in strategies],
            text=[
                money(r["usd_per_day"]) if r["usd_per_day"] is not None else "" for r in strategies
            ],
            textposition="outside",
            marker={"color": [colors.get(r["tier"], "#333") for r in strategies]},
        )
    )
    return _layout(fig, title, height=420)
