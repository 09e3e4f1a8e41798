"""Pictures for the workshop app: the regional map and the live charts, as image bytes.

Both are drawn with matplotlib's object-oriented API (``Figure`` + Agg canvas, never pyplot, so
each browser session owns its figures and threads do not share state). They are redrawn several
times a second while a run plays, so each keeps a cached background (axes, ticks, titles, region
blocks) and per frame draws only what moves (matplotlib "blitting"): the firms, ties, CMOs and
knowledge institutions on the map; the lines and bands on the charts. A chart redraws its
background only when a line leaves its y-range (the range then grows by a margin, so that is
rare) — the x-axis spans the whole horizon from the start, so the lines grow left to right.

The charts show, per headline outcome, the policy and baseline means over the seeds with their
95 % bands (top row) and the paired difference *policy − baseline* with its 95 % interval (bottom
row, the effect the tiles report). A lever switched on, off or changed in the policy run (by the
trainer mid-run, or as the scenario plans) is marked on every chart by a vertical line at that
year with the lever's name beside it (:class:`ChartMark`; solid: on, dashed: off, dotted: changed),
in dark olive, a colour no run and no map category uses. Colours: the runs use vermillion (policy), blue (baseline) and
purple (the difference); the map's categories use none of them (firm states in orange, pink,
green, sky blue and grey; ties in greys), so "orange-red" always means the policy run. Text in
the pictures is at least 18 px at the size they are made for (1600x1000 presentation).
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
from matplotlib.collections import LineCollection, PolyCollection
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
# cheaper to encode than PNG, which matters at 4+ frames/s; exports are PNG (:func:`encode_png`)
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
    Swatch("glocal", "Glocal firm (global links)", "#E69F00"),
    Swatch("contract", "In a network contract", "#CC79A7"),
    Swatch("innovating", "Innovated in the last year", "#009E73"),
    Swatch("young", "Young firm (under 3 years)", "#56B4E9"),
    Swatch("other", "Other firm", "#A8A8A8"),
)
MARKERS = (
    Swatch("cmo", "Cluster organisation (CMO)", "#000000", "*"),
    Swatch("university", "University", "#000000", "s"),
    Swatch("research", "Research centre", "#000000", "^"),
    Swatch("kibs", "Knowledge-intensive services (KIBS)", "#000000", "D"),
)
TIE_KINDS = tuple(
    Swatch(name, name.replace("_", "-").capitalize(), colour)
    for name, colour in zip(
        DISTANCE_CLASSES, ("#C4C4C4", "#8C8C8C", "#4D4D4D", "#111111"), strict=True
    )
)
TIE_WIDTHS = (0.8, 1.0, 1.3, 1.8)
RUN_COLOURS = {"policy": "#D55E00", "reference": "#0072B2", "difference": "#6A3D9A"}
RUN_LABELS = {"policy": "policy", "reference": "baseline (no levers)",
              "difference": "policy − baseline"}
STAGE_FILL = {"mature": "#F2F2F2", "middle": "#F8F8F8", "early": "#FFFFFF"}
MAX_TIES_DRAWN = 300
FONT = 18  # px in the image (at DPI 100 a point is 100/72 px): tick and axis labels
TITLE_FONT = 20
LABEL_FONT = 18  # px: region labels on the map
BAND_ALPHA = 0.22
MARK_COLOUR = "#6B6B1F"  # lever markers: dark olive, no run's or map category's colour
MARK_STYLES = {"start": "solid", "end": (0, (6, 4)), "change": (0, (1.5, 3))}
MARK_WIDTH = 2.6
MARK_BADGE_PX = 28  # height of a marker's numbered badge; close badges stack downwards


_STATE_RGBA = to_rgba_array([sw.colour for sw in FIRM_STATES])
_TIE_RGBA = to_rgba_array([sw.colour for sw in TIE_KINDS])


def encode_image(canvas: FigureCanvasAgg, fmt: str = IMAGE_FORMAT) -> bytes:
    """The canvas as image bytes in ``fmt`` (JPEG for live frames, PNG for exports)."""
    w, h = canvas.get_width_height()
    img = Image.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    out = io.BytesIO()
    if fmt == "png":
        img.convert("RGB").save(out, format="png", optimize=False)
    else:
        img.convert("RGB").save(out, format=fmt, **JPEG_OPTIONS)
    return out.getvalue()


def _pt(px: float) -> float:
    return px * 72.0 / DPI


def _jitter(uid: np.ndarray, salt: int) -> np.ndarray:
    """A stable offset in [-0.42, 0.42) cells per firm, so firms in one cell do not hide each other."""
    h = (uid.astype(np.uint64) * np.uint64(2654435761) + np.uint64(salt * 40503)) % np.uint64(1009)
    return (h.astype(float) / 1009.0 - 0.5) * 0.84


def firm_states(view, innovated: np.ndarray) -> np.ndarray:
    """Index into :data:`FIRM_STATES` for each firm of a :class:`~cluster_abm.ui.model_view.FirmView`."""
    state = np.full(len(view.uid), len(FIRM_STATES) - 1, dtype=np.int64)
    masks = (view.glocal, view.contract, innovated, view.young)
    for k in reversed(range(len(masks))):  # the first state that applies wins
        state[np.asarray(masks[k], dtype=bool)] = k
    return state


def _wrap(name: str, width: int = 20) -> str:
    return "\n".join(textwrap.wrap(name, width)) or name


class MapPlot:
    """The regional grid: region blocks (outlined, labelled), firms, CMOs, knowledge institutions.

    Per frame only firms, ties, CMOs and institutions are drawn; the region labels are pasted
    back on top from a snapshot taken with the background, so text is rasterised once per world.
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
        self.ties = LineCollection([], linewidths=1.0, alpha=0.6, animated=True, zorder=1)
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
            label = ax.text(ox - 0.2, oy + r.side - 0.8, f"{_wrap(r.name, 15)}\n{r.stage} stage",
                            fontsize=_pt(LABEL_FONT), fontweight="bold", va="top", ha="left",
                            color="#111111", linespacing=1.05, animated=True, zorder=5,
                            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0})
            self.labels.append(label)
        self._bg = None
        self._label_patches: list = []

    @staticmethod
    def layout_key(world) -> tuple:
        """Worlds with equal keys share a background: the same regions in the same places."""
        return (world.width, world.height,
                tuple((r.id, r.name, r.stage, r.origin, r.side) for r in world.regions))

    def _sites(self, sites) -> None:
        """CMOs and knowledge institutions (cells; several in a cell are fanned out a little)."""
        cmo, kis = sites
        self.cmos.set_offsets(np.asarray(cmo, dtype=float).reshape(-1, 2))
        for key, coll in self.kis.items():
            xy = [p + np.array([0.9 * (i % 3 - 1), -0.9 * (i // 3)])
                  for i, p in enumerate(np.asarray(kis.get(key, np.zeros((0, 2)))).reshape(-1, 2))]
            coll.set_offsets(np.array(xy, dtype=float).reshape(-1, 2))

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

    def draw(self, view, innovated: np.ndarray, sites=None, ties=None) -> FigureCanvasAgg:
        """Draw a :class:`~cluster_abm.ui.model_view.FirmView` (``innovated``: per firm), the
        CMOs and institutions (``sites``) and, given, ties ((uid a, uid b, kind))."""
        if sites is not None:
            self._sites(sites)
        x = view.x + _jitter(view.uid, 1)
        y = view.y + _jitter(view.uid, 2)
        emp = view.employees
        # marker diameter grows with sqrt(employees): a 1-person firm is a dot, 500 a disc
        diam_px = np.clip(2.0 + 1.1 * np.sqrt(emp), 2.5, 2.5 * self.cell_px)
        colours = _STATE_RGBA[firm_states(view, innovated)]
        order = np.argsort(-emp, kind="stable")  # big firms below small ones
        self.firms.set_offsets(np.c_[x[order], y[order]])
        self.firms.set_sizes(_pt(diam_px[order]) ** 2)
        self.firms.set_facecolors(colours[order])
        if ties is not None:
            self.ties.set_segments(self._tie_segments(view, x, y, ties))
        canvas = self.fig.canvas
        if self._bg is None:
            self._snapshot()
        canvas.restore_region(self._bg)
        ax = self.ax
        if ties is not None:
            ax.draw_artist(self.ties)
        ax.draw_artist(self.firms)
        for coll in self.kis.values():
            ax.draw_artist(coll)
        ax.draw_artist(self.cmos)
        for patch in self._label_patches:
            canvas.restore_region(patch)
        return canvas

    def render(self, view, innovated: np.ndarray, sites=None, ties=None,
               fmt: str = IMAGE_FORMAT) -> bytes:
        with DRAW_LOCK:
            return encode_image(self.draw(view, innovated, sites, ties), fmt)

    def _tie_segments(self, view, x: np.ndarray, y: np.ndarray, ties) -> np.ndarray:
        ua, ub, kind = ties
        order = np.argsort(view.uid)
        su = view.uid[order]
        if len(su) == 0:
            return np.zeros((0, 2, 2))
        pa = np.clip(np.searchsorted(su, ua), 0, len(su) - 1)
        pb = np.clip(np.searchsorted(su, ub), 0, len(su) - 1)
        ok = (su[pa] == ua) & (su[pb] == ub)
        a, b = order[pa[ok]], order[pb[ok]]
        kind = np.asarray(kind)[ok]
        self.ties.set_colors(_TIE_RGBA[kind])
        self.ties.set_linewidths(np.asarray(TIE_WIDTHS)[kind])
        return np.stack([np.c_[x[a], y[a]], np.c_[x[b], y[b]]], axis=1)


@dataclass(frozen=True)
class ChartSpec:
    """One column of charts: a measure's level chart and (comparing) its difference chart."""

    key: str
    title: str  # level chart
    unit: str  # level chart's y-axis
    effect_unit: str  # difference chart's y-axis (the tile's quantity)
    floor_zero: bool = True


@dataclass(frozen=True)
class ChartMark:
    """A vertical marker on every chart: ``year`` (policy years), ``label`` (the lever's name and
    what happened, e.g. "Networked start-up incubators on"), ``kind`` "start", "end" or "change"
    (the line style)."""

    year: float
    label: str
    kind: str = "start"


def mark_groups(marks) -> list[tuple[float, list[ChartMark]]]:
    """Marks by year, in time order: each year's marks share one line and one numbered badge
    (1, 2, ...), which the legend under the charts explains."""
    by_year: dict[float, list[ChartMark]] = {}
    for mark in marks:
        by_year.setdefault(float(mark.year), []).append(mark)
    return sorted(by_year.items())


def _year_words(year: float) -> str:
    """5.0 -> "5", 5.25 -> "5¼", 0.5 -> "½" (quarters), else 2 decimals."""
    whole, part = divmod(round(year * 4), 4)
    if abs(year * 4 - round(year * 4)) < 1e-9:
        return f"{whole or ''}{'¼½¾'[part - 1]}" if part else f"{whole}"
    return f"{year:.2f}"


def _compact(v: float, _pos=None) -> str:
    """Tick label: 10 500 -> "10.5k", 12 000 -> "12k", 250 -> "250", -3 -> "−3"."""
    text = f"{v / 1000:.2f}".rstrip("0").rstrip(".") + "k" if abs(v) >= 1000 else f"{v:g}"
    return text.replace("-", "−")


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


def _band_verts(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> list[np.ndarray]:
    ok = np.isfinite(lo) & np.isfinite(hi)
    if ok.sum() < 2:
        return []
    x, lo, hi = x[ok], lo[ok], hi[ok]
    return [np.vstack([np.c_[x, lo], np.c_[x[::-1], hi[::-1]]])]


class ChartPlot:
    """Live charts: per spec a level chart (policy and baseline, mean and 95 % band) and, when
    comparing, below it the difference chart (policy − baseline paired by seed, mean and 95 %
    interval, a zero line)."""

    def __init__(self, horizon_years: float, specs: tuple[ChartSpec, ...], compare: bool,
                 width_px: int = 1080, height_px: int = 640):
        self.specs = specs
        self.compare = compare
        self.runs = ("reference", "policy") if compare else ("policy",)
        self.fig = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI, facecolor="white")
        FigureCanvasAgg(self.fig)
        rows = 2 if compare else 1
        axes = np.atleast_2d(self.fig.subplots(rows, len(specs), squeeze=False))
        top = 1.0 - 34.0 / height_px
        bottom = 56.0 / height_px
        self.fig.subplots_adjust(left=84.0 / width_px, right=0.99, top=top, bottom=bottom,
                                 wspace=0.5, hspace=0.42 if compare else 0.3)
        self.axes: dict[tuple[str, str], object] = {}
        self.lines: dict[tuple[str, str], object] = {}
        self.bands: dict[tuple[str, str], PolyCollection] = {}
        self.ylim: dict[tuple[str, str], tuple[float, float]] = {}
        self._fresh: dict[tuple[str, str], bool] = {}
        for col, spec in enumerate(specs):
            panels = [("level", axes[0, col])]
            if compare:
                panels.append(("effect", axes[1, col]))
            for row, ax in panels:
                title = spec.title if row == "level" else "Effect"
                ax.set_title(title, fontsize=_pt(TITLE_FONT), fontweight="bold", loc="left",
                             color="#111111", pad=6)
                ax.set_ylabel(spec.unit if row == "level" else spec.effect_unit,
                              fontsize=_pt(FONT), color="#222222", labelpad=2)
                ax.set_xlim(0, max(horizon_years, 0.25))
                ax.tick_params(labelsize=_pt(FONT), colors="#222222", length=4, width=1.2)
                ax.xaxis.set_major_locator(MaxNLocator(4, integer=True))
                ax.yaxis.set_major_locator(MaxNLocator(4))
                ax.yaxis.set_major_formatter(FuncFormatter(_compact))
                ax.grid(True, color="#DDDDDD", linewidth=1.0)
                for side in ("top", "right"):
                    ax.spines[side].set_visible(False)
                for side in ("left", "bottom"):
                    ax.spines[side].set_linewidth(1.2)
                key = (spec.key, row)
                self.axes[key] = ax
                self._fresh[key] = True
                ax.set_ylim(0, 1) if row == "level" else ax.set_ylim(-1, 1)
                self.ylim[key] = ax.get_ylim()
                runs = self.runs if row == "level" else ("difference",)
                for run in runs:
                    colour = RUN_COLOURS[run]
                    band = PolyCollection([], facecolors=colour, edgecolors="none",
                                          alpha=BAND_ALPHA, animated=True)
                    ax.add_collection(band)
                    (line,) = ax.plot([], [], color=colour, linewidth=3.0, animated=True,
                                      solid_capstyle="round")
                    self.bands[(spec.key, run)] = band
                    self.lines[(spec.key, run)] = line
                if row == "effect":
                    ax.axhline(0.0, color="#111111", linewidth=1.4, linestyle=(0, (4, 3)))
            (axes[-1, col]).set_xlabel("year", fontsize=_pt(FONT), color="#222222", labelpad=1)
        self.horizon_years = max(horizon_years, 0.25)
        self.marks: tuple[ChartMark, ...] = ()
        self._mark_artists: list = []
        self._bg = None

    def set_marks(self, marks) -> None:
        """Draw these lever marks (replacing the previous ones) from the next frame on: on every
        chart a vertical line at the mark's year and, at its top, the mark's number (the legend
        under the charts, :meth:`legend`, gives the lever's name)."""
        marks = tuple(marks)
        if marks == self.marks:
            return
        for artist in self._mark_artists:
            artist.remove()
        self._mark_artists = []
        self.marks = marks
        for ax in self.axes.values():
            width_px = ax.get_position().width * self.fig.bbox.width
            height_px = ax.get_position().height * self.fig.bbox.height
            placed: list[tuple[float, int]] = []  # (x px, stack level) of badges drawn
            for number, (year, group) in enumerate(mark_groups(marks), start=1):
                style = MARK_STYLES.get(group[-1].kind, "solid")
                self._mark_artists.append(ax.axvline(year, color=MARK_COLOUR, linewidth=MARK_WIDTH,
                                                     linestyle=style, zorder=1.8))
                x_px = year / self.horizon_years * width_px
                level = 0
                while any(abs(x_px - x) < MARK_BADGE_PX and lv == level for x, lv in placed):
                    level += 1
                placed.append((x_px, level))
                self._mark_artists.append(ax.text(
                    year, 1.0 - (4 + level * MARK_BADGE_PX) / height_px, str(number),
                    transform=ax.get_xaxis_transform(), ha="center", va="top",
                    fontsize=_pt(FONT), fontweight="bold", color="white", zorder=1.9,
                    clip_on=False, bbox={"boxstyle": "round,pad=0.2", "facecolor": MARK_COLOUR,
                                         "edgecolor": "none"}))
        self._bg = None  # the marks belong to the background: redraw it

    def legend(self) -> list[tuple[int, str]]:
        """(number, text) per badge: "year 5: Business network contracts on"."""
        return [(k, f"year {_year_words(year)}: " + "; ".join(m.label for m in group))
                for k, (year, group) in enumerate(mark_groups(self.marks), start=1)]

    def render_export(self, bands: dict) -> bytes:
        """The charts as PNG, with the markers' legend drawn beneath them (an exported picture
        explains itself)."""
        with DRAW_LOCK:
            canvas = self.draw(bands)
            w, h = canvas.get_width_height()
            img = Image.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
            img = img.convert("RGB")
            lines = self.legend()
            if lines:
                line_px = FONT + 10
                fig = Figure(figsize=(w / DPI, (len(lines) * line_px + 12) / DPI), dpi=DPI,
                             facecolor="white")
                FigureCanvasAgg(fig)
                for k, (number, text) in enumerate(lines):
                    y = 1.0 - (6 + (k + 0.5) * line_px) / (len(lines) * line_px + 12)
                    fig.text(12 / w, y, str(number), fontsize=_pt(FONT), fontweight="bold",
                             color="white", va="center", ha="left",
                             bbox={"boxstyle": "round,pad=0.2", "facecolor": MARK_COLOUR,
                                   "edgecolor": "none"})
                    fig.text(44 / w, y, text, fontsize=_pt(FONT), color="#111111", va="center",
                             ha="left")
                fig.canvas.draw()
                lw, lh = fig.canvas.get_width_height()
                band = Image.frombuffer("RGBA", (lw, lh), fig.canvas.buffer_rgba(), "raw", "RGBA",
                                        0, 1).convert("RGB")
                out = Image.new("RGB", (w, h + lh), "white")
                out.paste(img, (0, 0))
                out.paste(band, (0, h))
                img = out
            buf = io.BytesIO()
            img.save(buf, format="png", optimize=False)
            return buf.getvalue()

    def _fit(self, key: tuple[str, str], lo_d: float, hi_d: float, floor_zero: bool) -> bool:
        """Grow (never shrink) the y-range to hold [lo_d, hi_d]; True if it changed."""
        if not (math.isfinite(lo_d) and math.isfinite(hi_d)):
            return False
        lo, hi = self.ylim[key]
        effect = key[1] == "effect"
        # generous margins: every change of range redraws the whole background (several frames' work)
        if effect:
            m = max(abs(lo_d), abs(hi_d), 1e-9)
            new_lo, new_hi = lo, hi
            if hi_d > hi:
                new_hi = _nice_up(hi_d + 0.4 * m)
            if lo_d < lo:
                new_lo = -_nice_up(-lo_d + 0.4 * m)
        elif self._fresh[key]:  # first data: fit around it
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

    def draw(self, bands: dict) -> FigureCanvasAgg:
        """Draw ``{spec key: {"policy"|"reference"|"difference": Band}}`` (a missing one: empty)."""
        changed = False
        for spec in self.specs:
            got = bands.get(spec.key, {})
            for row, runs in (("level", self.runs), ("effect", ("difference",))):
                if row == "effect" and not self.compare:
                    continue
                lo_d, hi_d = math.inf, -math.inf
                for run in runs:
                    band = got.get(run)
                    line, poly = self.lines[(spec.key, run)], self.bands[(spec.key, run)]
                    if band is None:
                        line.set_data([], [])
                        poly.set_verts([])
                        continue
                    line.set_data(band.years, band.mean)
                    poly.set_verts(_band_verts(band.years, band.lo, band.hi))
                    for arr in (band.lo, band.hi, band.mean):
                        finite = arr[np.isfinite(arr)]
                        if finite.size:
                            lo_d, hi_d = min(lo_d, float(finite.min())), max(hi_d, float(finite.max()))
                changed |= self._fit((spec.key, row), lo_d, hi_d, spec.floor_zero)
        canvas = self.fig.canvas
        if changed or self._bg is None:
            canvas.draw()
            self._bg = canvas.copy_from_bbox(self.fig.bbox)
        else:
            canvas.restore_region(self._bg)
        for key, line in self.lines.items():
            line.axes.draw_artist(self.bands[key])
        for _key, line in sorted(self.lines.items(), key=lambda kv: kv[0][1] == "policy"):
            line.axes.draw_artist(line)  # the baseline first: the policy line on top
        return canvas

    def render(self, bands: dict, fmt: str = IMAGE_FORMAT) -> bytes:
        with DRAW_LOCK:
            return encode_image(self.draw(bands), fmt)
