"""Pictures for the workshop app: the regional map and the live charts, as image bytes.

Both are drawn with matplotlib's object-oriented API (``Figure`` + Agg canvas, never pyplot, so
each browser session owns its figures and threads do not share state). They are redrawn several
times a second while a run plays, so each keeps a cached background (axes, ticks, titles, region
blocks) and per frame draws only what moves (matplotlib "blitting"): the firms, ties, CMOs and
knowledge institutions on the map; the lines on the charts. A chart redraws its background only
when a line leaves its y-range (the range then grows by a margin, so that is rare) — the x-axis
spans the whole horizon from the start, so the lines grow left to right.

Colours follow the Okabe–Ito palette (readable by colour-blind viewers and on projectors);
:data:`FIRM_STATES`, :data:`MARKERS`, :data:`TIE_KINDS` and :data:`RUN_COLOURS` are also what the
app's (HTML) legends show, so picture and legend cannot disagree.
"""

from __future__ import annotations

import io
import math
import textwrap
import threading
from dataclasses import dataclass

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba_array
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator
from PIL import Image

from cluster_abm.space import DISTANCE_CLASSES

# One lock for every figure's draw + encode: matplotlib's text and font machinery is not
# guaranteed to be thread-safe, and under the GIL nothing is lost by taking turns.
DRAW_LOCK = threading.Lock()
DPI = 100
# JPEG at high quality without chroma subsampling: crisp enough for lines and text, and far
# cheaper to encode than PNG, which matters at 4+ frames/s
IMAGE_FORMAT = "jpeg"
JPEG_OPTIONS = {"quality": 90, "subsampling": 0}


@dataclass(frozen=True)
class Swatch:
    key: str
    label: str
    colour: str
    marker: str = "o"


# firm colour by state; the first that applies wins (rarer states first, so they stay visible)
FIRM_STATES = (
    Swatch("incubated", "Incubated venture", "#56B4E9"),
    Swatch("glocal", "Glocal (global links)", "#E69F00"),
    Swatch("contract", "In a network contract", "#CC79A7"),
    Swatch("innovating", "Innovated this year", "#009E73"),
    Swatch("other", "Other firm", "#767676"),
)
MARKERS = (
    Swatch("cmo", "Cluster organisation (CMO)", "#000000", "*"),
    Swatch("university", "University", "#000000", "s"),
    Swatch("research", "Research centre", "#000000", "^"),
    Swatch("kibs", "KIBS", "#000000", "D"),
)
TIE_KINDS = tuple(
    Swatch(name, name.replace("_", "-").capitalize(), colour)
    for name, colour in zip(
        DISTANCE_CLASSES, ("#B0B0B0", "#0072B2", "#D55E00", "#000000"), strict=True
    )
)
RUN_COLOURS = {"policy": "#D55E00", "reference": "#0072B2"}
STAGE_FILL = {"mature": "#F2F2F2", "middle": "#F8F8F8", "early": "#FFFFFF"}
MAX_TIES_DRAWN = 300
FONT = 16  # px in the image (at DPI 100 a point is 100/72 px): chart tick labels
LABEL_FONT = 15  # px: region labels on the map


_STATE_RGBA = to_rgba_array([sw.colour for sw in FIRM_STATES])
_TIE_RGBA = to_rgba_array([sw.colour for sw in TIE_KINDS])


def encode_image(canvas: FigureCanvasAgg) -> bytes:
    """The canvas as image bytes in :data:`IMAGE_FORMAT`."""
    w, h = canvas.get_width_height()
    img = Image.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    out = io.BytesIO()
    img.convert("RGB").save(out, format=IMAGE_FORMAT, **JPEG_OPTIONS)
    return out.getvalue()


def _pt(px: float) -> float:
    return px * 72.0 / DPI


def _jitter(uid: np.ndarray, salt: int) -> np.ndarray:
    """A stable offset in [-0.42, 0.42) cells per firm, so firms in one cell do not hide each other."""
    h = (uid.astype(np.uint64) * np.uint64(2654435761) + np.uint64(salt * 40503)) % np.uint64(1009)
    return (h.astype(float) / 1009.0 - 0.5) * 0.84


def firm_states(model) -> np.ndarray:
    """Index into :data:`FIRM_STATES` for each living firm (in ``model.firms.idx`` order)."""
    ft, t = model.firms, model.t
    idx = ft.idx
    state = np.full(len(idx), len(FIRM_STATES) - 1, dtype=np.int64)
    masks = (
        ft.incubated_until[idx] >= t,
        ft.glocal[idx],
        ft.contract[idx] >= 0,
        (t - ft.last_innov[idx]) < model.p.steps_per_year,
    )
    for k in reversed(range(len(masks))):  # the first state that applies wins
        state[masks[k]] = k
    return state


def _wrap(name: str, width: int = 20) -> str:
    return "\n".join(textwrap.wrap(name, width)) or name


class MapPlot:
    """The regional grid: region blocks (outlined, labelled), firms, CMOs, knowledge institutions.

    Per frame only firms, ties, CMOs and institutions are drawn; the region labels are pasted
    back on top from a snapshot taken with the background, so text is rasterised once per model.
    """

    def __init__(self, world, width_px: int = 600):
        self.world = world
        W, H = world.width, world.height
        height_px = int(round(width_px * H / W))
        self.fig = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI, facecolor="white")
        FigureCanvasAgg(self.fig)
        ax = self.fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(-0.5, W - 0.5)
        ax.set_ylim(-0.5, H - 0.5)
        ax.set_axis_off()
        self.ax = ax
        self.cell_px = width_px / W
        for r in world.regions:
            ox, oy = r.origin
            ax.add_patch(Rectangle((ox - 0.5, oy - 0.5), r.side, r.side,
                                   facecolor=STAGE_FILL.get(r.stage, "white"),
                                   edgecolor="#222222", linewidth=2.5, zorder=0))
        self.ties = LineCollection([], linewidths=1.0, alpha=0.5, animated=True, zorder=1)
        ax.add_collection(self.ties)
        self.firms = ax.scatter([], [], s=[], edgecolors="none", animated=True, zorder=2)
        self.cmos = ax.scatter([], [], s=_pt(24) ** 2, marker="*", c="black",
                               edgecolors="white", linewidths=1.0, animated=True, zorder=4)
        self.kis = {
            sw.key: ax.scatter([], [], s=_pt(11) ** 2, marker=sw.marker, facecolors="white",
                               edgecolors="black", linewidths=2.0, animated=True, zorder=3)
            for sw in MARKERS[1:]
        }
        self.labels = []
        for r in world.regions:
            ox, oy = r.origin
            label = ax.text(ox - 0.2, oy + r.side - 0.8, f"{_wrap(r.name)}\n{r.stage}",
                            fontsize=_pt(LABEL_FONT), fontweight="bold", va="top", ha="left",
                            color="#111111", linespacing=1.05, animated=True, zorder=5,
                            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0})
            self.labels.append(label)
        self._bg = None
        self._label_patches: list = []
        self._static_for = None  # the model whose CMOs and institutions are placed

    @staticmethod
    def layout_key(world) -> tuple:
        """Worlds with equal keys share a background: the same regions in the same places."""
        return (world.width, world.height,
                tuple((r.id, r.name, r.stage, r.origin, r.side) for r in world.regions))

    def _static(self, model) -> None:
        """CMOs and knowledge institutions: placed once per model (they do not move)."""
        cmo_xy = [c.cell.coordinate for c in model.cmos]
        self.cmos.set_offsets(np.array(cmo_xy, dtype=float).reshape(-1, 2))
        for key, coll in self.kis.items():
            xy = [np.array(k.cell.coordinate, float) for k in model.kis if k.kind == key]
            # several institutions of a region share a cell: fan them out a little
            xy = [p + np.array([0.9 * (i % 3 - 1), -0.9 * (i // 3)]) for i, p in enumerate(xy)]
            coll.set_offsets(np.array(xy).reshape(-1, 2))
        self._static_for = model

    def _snapshot(self) -> None:
        canvas = self.fig.canvas
        canvas.draw()
        self._bg = canvas.copy_from_bbox(self.fig.bbox)
        renderer = canvas.get_renderer()
        self._label_patches = []
        for label in self.labels:
            self.ax.draw_artist(label)
            box = label.get_window_extent(renderer).union(
                [label.get_bbox_patch().get_window_extent(renderer)]).expanded(1.0, 1.0)
            self._label_patches.append(canvas.copy_from_bbox(box.padded(1)))

    def render(self, model, show_ties: bool = False) -> bytes:
        with DRAW_LOCK:
            if self._static_for is not model:
                self._static(model)
            ft = model.firms
            idx = ft.idx
            uid = ft.uid[idx]
            x = ft.x[idx] + _jitter(uid, 1)
            y = ft.y[idx] + _jitter(uid, 2)
            emp = ft.employees[idx].astype(float)
            # marker diameter grows with sqrt(employees): a 1-person firm is a dot, 500 a disc
            diam_px = np.clip(2.0 + 1.1 * np.sqrt(emp), 2.5, 2.5 * self.cell_px)
            colours = _STATE_RGBA[firm_states(model)]
            order = np.argsort(-emp, kind="stable")  # big firms below small ones
            self.firms.set_offsets(np.c_[x[order], y[order]])
            self.firms.set_sizes(_pt(diam_px[order]) ** 2)
            self.firms.set_facecolors(colours[order])
            if show_ties:
                self.ties.set_segments(self._tie_segments(model))
            canvas = self.fig.canvas
            if self._bg is None:
                self._snapshot()
            canvas.restore_region(self._bg)
            ax = self.ax
            if show_ties:
                ax.draw_artist(self.ties)
            ax.draw_artist(self.firms)
            for coll in self.kis.values():
                ax.draw_artist(coll)
            ax.draw_artist(self.cmos)
            for patch in self._label_patches:
                canvas.restore_region(patch)
            return encode_image(canvas)

    def _tie_segments(self, model) -> np.ndarray:
        ties, ft = model.ties, model.firms
        ti = ties.idx
        if len(ti) > MAX_TIES_DRAWN:
            # a stable sample (by the pair's key), so the drawn ties do not flicker between frames
            keys = ties.keys(ti).astype(np.uint64)
            score = (keys * np.uint64(11400714819323198485)) >> np.uint64(40)
            ti = ti[np.argsort(score, kind="stable")[:MAX_TIES_DRAWN]]
        a, b = ties.a[ti], ties.b[ti]
        xa = ft.x[a] + _jitter(ft.uid[a], 1)
        ya = ft.y[a] + _jitter(ft.uid[a], 2)
        xb = ft.x[b] + _jitter(ft.uid[b], 1)
        yb = ft.y[b] + _jitter(ft.uid[b], 2)
        self.ties.set_colors(_TIE_RGBA[ties.kind[ti].astype(int)])
        return np.stack([np.c_[xa, ya], np.c_[xb, yb]], axis=1)


@dataclass(frozen=True)
class ChartSpec:
    key: str
    title: str
    lines: tuple[tuple[str, str, str], ...]  # (tracked series, "rate" or "level", line style)
    floor_zero: bool = True


CHARTS = (
    ChartSpec("innovations", "Innovations / year", (("innovations", "rate", "-"),)),
    ChartSpec("employment", "Jobs", (("employment", "level", "-"),), floor_zero=False),
    ChartSpec("brain_drain", "Brain drain (total)", (("skilled_emigrants_cum", "level", "-"),)),
    ChartSpec("demography", "Births & deaths / year",
              (("births", "rate", "-"), ("deaths", "rate", (0, (2, 1.5))))),
)


def _compact(v: float, _pos=None) -> str:
    """Tick label: 10 500 -> "10.5k", 12 000 -> "12k", 250 -> "250"."""
    if abs(v) >= 1000:
        return f"{v / 1000:.2f}".rstrip("0").rstrip(".") + "k"
    return f"{v:g}"


def _nice_up(v: float) -> float:
    if v <= 0:
        return 1.0
    mag = 10 ** math.floor(math.log10(v))
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if v <= m * mag:
            return m * mag
    return 10 * mag  # pragma: no cover


def _nice_down(v: float) -> float:
    if v <= 0:
        return 0.0
    mag = 10 ** math.floor(math.log10(v))
    for m in (8, 6, 5, 4, 3, 2.5, 2, 1.5, 1.2, 1):
        if v >= m * mag:
            return m * mag
    return 0.0  # pragma: no cover


class ChartPlot:
    """Four live charts; one line per run (the reference run beside the policy run when comparing)."""

    def __init__(self, horizon_years: float, runs: tuple[str, ...] = ("policy",),
                 width_px: int = 720, height_px: int = 560):
        self.runs = runs
        self.fig = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI, facecolor="white")
        FigureCanvasAgg(self.fig)
        axes = self.fig.subplots(2, 2)
        self.fig.subplots_adjust(left=0.095, right=0.985, top=0.93, bottom=0.105, wspace=0.24,
                                 hspace=0.36)
        self.axes = {}
        self.lines: list[tuple[str, str, str, str, object]] = []  # (chart, run, series, kind, line)
        self.ylim: dict[str, tuple[float, float]] = {}
        for ax, spec in zip(axes.flat, CHARTS, strict=True):
            ax.set_title(spec.title, fontsize=_pt(FONT + 3), fontweight="bold", loc="left",
                         color="#111111")
            ax.set_xlim(0, max(horizon_years, 0.25))
            ax.tick_params(labelsize=_pt(FONT), colors="#222222", length=4, width=1.2)
            ax.xaxis.set_major_locator(MaxNLocator(5, integer=True))
            ax.yaxis.set_major_locator(MaxNLocator(4))
            ax.yaxis.set_major_formatter(FuncFormatter(_compact))
            ax.grid(True, color="#DDDDDD", linewidth=1.0)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
            for side in ("left", "bottom"):
                ax.spines[side].set_linewidth(1.2)
            ax.set_ylim(0, 1)
            self.ylim[spec.key] = (0.0, 1.0)
            self.axes[spec.key] = ax
            for run in runs:
                for series, kind, style in spec.lines:
                    (line,) = ax.plot([], [], color=RUN_COLOURS[run], linestyle=style,
                                      linewidth=3.0, animated=True, solid_capstyle="round")
                    self.lines.append((spec.key, run, series, kind, line))
        for ax in axes[-1]:
            ax.set_xlabel("year", fontsize=_pt(FONT), color="#333333", labelpad=1)
        self._bg = None
        self._fresh = {spec.key: True for spec in CHARTS}

    def _fit(self, key: str, values: list[np.ndarray], floor_zero: bool) -> bool:
        """Grow (never shrink) the y-range to hold ``values``; True if it changed."""
        finite = [v[np.isfinite(v)] for v in values]
        finite = [v for v in finite if v.size]
        if not finite:
            return False
        lo_d = min(float(v.min()) for v in finite)
        hi_d = max(float(v.max()) for v in finite)
        lo, hi = self.ylim[key]
        # generous margins: every change of range redraws the whole background (several frames' work)
        if self._fresh[key]:  # first data: fit around it
            self._fresh[key] = False
            span = max(hi_d - lo_d, 0.08 * max(abs(hi_d), 1.0))
            new_lo = 0.0 if floor_zero else _nice_down(lo_d - 1.5 * span)
            new_hi = _nice_up(max(hi_d, 1.0) * 1.6) if floor_zero else _nice_up(hi_d + 1.5 * span)
        else:
            new_lo, new_hi = lo, hi
            if hi_d > hi:
                new_hi = _nice_up(hi_d + 0.6 * (hi_d - new_lo))
            if not floor_zero and lo_d < lo:
                new_lo = _nice_down(lo_d - 0.6 * (new_hi - lo_d))
        if (new_lo, new_hi) == (lo, hi):
            return False
        self.ylim[key] = (new_lo, new_hi)
        self.axes[key].set_ylim(new_lo, new_hi)
        return True

    def render(self, tracks: dict) -> bytes:
        """Draw the runs' :class:`~cluster_abm.ui.runs.Track` s (``{"policy": ..., ...}``)."""
        with DRAW_LOCK:
            per_chart: dict[str, list[np.ndarray]] = {spec.key: [] for spec in CHARTS}
            for key, run, series, kind, line in self.lines:
                track = tracks.get(run)
                if track is None:
                    line.set_data([], [])
                    continue
                y = track.per_year(series) if kind == "rate" else track.series(series)
                line.set_data(track.years(), y)
                per_chart[key].append(y)
            changed = False
            for spec in CHARTS:
                changed |= self._fit(spec.key, per_chart[spec.key], spec.floor_zero)
            canvas = self.fig.canvas
            if changed or self._bg is None:
                canvas.draw()
                self._bg = canvas.copy_from_bbox(self.fig.bbox)
            else:
                canvas.restore_region(self._bg)
            # the reference first, so the policy line is on top where they coincide
            for key, _run, _series, _kind, line in sorted(self.lines, key=lambda r: r[1] == "policy"):
                self.axes[key].draw_artist(line)
            return encode_image(canvas)
