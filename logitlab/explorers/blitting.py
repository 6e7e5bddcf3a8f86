"""The explorers' pictures: matplotlib's blitting pattern on an off-screen figure.

This is the recipe of matplotlib's guide "Faster rendering by using blitting"
(https://matplotlib.org/stable/users/explain/animations/blitting.html): draw the figure once
without the artists that change (they are marked `animated`), save that background, and for
every slider move restore the background and draw only the changing artists on top. The
result goes out as PNG bytes (`logitlab/explorers/png.py`) to an image widget, so one figure is reused
for the life of an explorer. Labels that change are `CachedText`: a string drawn before is pasted
as a bitmap, because drawing text is most of a move's cost (`make bench`).

Sizes live in a `Style`: figure inches, dots per inch and font sizes. Each picture keeps its own
(`BlittedFigure.style`), taken when it is made from the default: `SIZES["normal"]`, or the size a kernel was
started with (the environment variable LOGITLAB_SIZE=projector, `make lecture`), or the last
`set_size("projector")`, which changes the default for explorers made afterwards and none made before.
`STYLE` reads the default (`STYLE.font_size`) for code that builds a picture.
"""

import os
from dataclasses import dataclass, replace

import numpy as np
from matplotlib.artist import Artist
from matplotlib.text import Text

from logitlab.explorers.png import encode_png

__all__ = ["BlittedFigure", "Bars", "CachedText", "Curve", "STYLE", "SIZES", "Style", "CLASS_COLOURS", "readout",
           "default_style", "set_size", "text"]

# Okabe-Ito: distinguishable with every common colour-vision deficiency.
BLUE, ORANGE, GREEN, VERMILION, PURPLE, SKY, YELLOW, GREY = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#767676")
CLASS_COLOURS = [BLUE, ORANGE, GREEN, PURPLE, SKY, VERMILION, YELLOW, GREY]


@dataclass
class Style:
    """Every size an explorer's picture uses. Fonts are in points, so they grow with `dpi` like the rest."""

    width: float = 7.2  # inches, for a two-panel explorer
    height: float = 3.0
    dpi: int = 100  # pixels per inch: the picture is width * dpi pixels wide
    font_size: float = 10  # values on bars, readouts, notes and axis labels
    controls_font_px: int = 0  # sliders' text in the browser (0: JupyterLab's own size)
    slider_px: int = 440  # a slider's width in the browser

    @property
    def small(self):
        """Legends and crowded bar labels."""
        return self.font_size - 2

    @property
    def ticks(self):
        return self.font_size - 1

    @property
    def title(self):
        return self.font_size + 1


# The picture at "projector" is 1080 x 486 pixels with 13-point text (about 24 pixels high):
# it fits a 1280 x 720 slide beside its sliders and is read from the back of a lecture hall.
SIZES = {
    "normal": Style(),
    "projector": Style(width=8.0, height=3.6, dpi=135, font_size=13, controls_font_px=20, slider_px=560),
}


CHOSEN = {"size": None}  # set_size's choice; None: the kernel's LOGITLAB_SIZE, else "normal"


def size_named(name, where="size"):
    """A copy of the Style called `name` in SIZES; ValueError naming the sizes there are."""
    if name not in SIZES:
        raise ValueError(f"{where} {name!r} is not one of {', '.join(SIZES)}")
    return replace(SIZES[name])


def default_style():
    """A new copy of the Style for an explorer made now (see the module's docstring)."""
    if CHOSEN["size"]:
        return size_named(CHOSEN["size"])
    # Read at each explorer, not at import: one switch for every notebook of a lecture (`make lecture`).
    return size_named(os.environ.get("LOGITLAB_SIZE") or "normal", "LOGITLAB_SIZE")


def set_size(name):
    """Draw every explorer made from now on at size `name` ("normal" or "projector"); returns that Style."""
    style = size_named(name)
    CHOSEN["size"] = name
    return style


class DefaultStyle:
    """`STYLE.font_size` and friends: the default Style's sizes, read when asked (never set: see set_size)."""

    def __getattr__(self, name):
        return getattr(default_style(), name)

    def __setattr__(self, name, value):
        raise AttributeError("STYLE is read-only: set_size(name) changes the size of explorers made afterwards")


STYLE = DefaultStyle()


class BlittedFigure:
    """An off-screen matplotlib figure whose changing artists are redrawn on a saved background."""

    def __init__(self, width=None, height=None, ncols=2, style=None):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.style = style or default_style()  # this picture's sizes, whatever set_size does later
        size = (width or self.style.width, height or self.style.height)
        self.figure = Figure(figsize=size, dpi=self.style.dpi, layout="constrained")
        FigureCanvasAgg(self.figure)
        self.axes = list(self.figure.subplots(1, ncols, squeeze=False)[0])
        for ax in self.axes:
            ax.spines[["top", "right"]].set_visible(False)
            ax.tick_params(labelsize=self.style.ticks)
        self.changing = []  # the artists the sliders move, in the order they are drawn
        self._background = None
        self._laid_out = False

    @property
    def width_px(self):
        """The picture's width in pixels."""
        return round(self.figure.get_figwidth() * self.figure.dpi)

    def moving(self, artist):
        """Mark an artist (or a list of them) as changing with the sliders: drawn over the background."""
        for a in artist if isinstance(artist, (list, tuple)) else [artist]:
            a.set_animated(True)
            self.changing.append(a)
        return artist

    def background_changed(self):
        """Say that an artist of the background changed (after a rare control, such as a dtype, moved):
        the next picture draws the background again before blitting."""
        self._background = None

    def freeze_layout(self):
        """Lay the figure out now and keep that layout: later moves must not shift the axes."""
        if not self._laid_out:
            for ax in self.axes:  # axis labels follow the style too (matplotlib's default is 10 points)
                ax.xaxis.label.set_fontsize(self.style.font_size)
                ax.yaxis.label.set_fontsize(self.style.font_size)
            self.figure.canvas.draw()
            self.figure.set_layout_engine("none")
            self._laid_out = True

    def pixels(self, full=False):
        """The picture as an RGBA array; `full=True` draws every artist from scratch instead of blitting."""
        canvas = self.figure.canvas
        self.freeze_layout()
        if full:
            for artist in self.changing:
                artist.set_animated(False)
            CachedText.enabled = False  # every label drawn afresh
            try:
                canvas.draw()
            finally:
                CachedText.enabled = True
                for artist in self.changing:
                    artist.set_animated(True)
            return np.asarray(canvas.buffer_rgba())
        if self._background is None:
            canvas.draw()  # everything that does not move
            self._background = canvas.copy_from_bbox(self.figure.bbox)
        else:
            canvas.restore_region(self._background)
        for artist in sorted(self.changing, key=lambda a: a.get_zorder()):  # the order a full draw uses
            if artist.get_visible():
                self.figure.draw_artist(artist)
        return np.asarray(canvas.buffer_rgba())

    def png(self, full=False):
        """The picture as PNG bytes (see `pixels`)."""
        return encode_png(self.pixels(full))

    def picture_under(self, ax):
        """A picture that fills `ax` exactly, under its points and lines: returns a function that shows
        an RGB array ([rows, cols, 3] floats in [0, 1], row 0 at the bottom) there.

        Each array is resized to the axes' pixels once, here, and then pasted as it is. imshow would
        rescale it on every draw (9-12 ms a move) and matplotlib's FigureImage resamples it too (the
        training explorer took 29 ms of CPU a move with it in `make bench`, against 11-14 ms for the others).
        """
        from PIL import Image

        self.freeze_layout()
        box = ax.bbox
        x0, y0 = round(box.x0), round(box.y0)
        size = (round(box.x1) - x0, round(box.y1) - y0)
        ax.set_facecolor("none")  # the picture is drawn before the axes (zorder -1) and shows through
        picture = _Pasted(x0, y0)
        self.figure.add_artist(picture)
        self.moving(picture)
        resized = {}

        def show(rgb):
            key = id(rgb)
            if key not in resized:
                small = Image.fromarray((np.clip(rgb, 0, 1) * 255).astype(np.uint8)).convert("RGBA")
                resized[key] = (rgb, np.array(small.resize(size, Image.Resampling.BILINEAR)))
            picture.pixels = resized[key][1]
            picture.stale = True

        return show


    def still_layer(self, ax, artists):
        """Draw `artists`, which never change but lie over a moving one (lesson 07's points over its decision
        regions), as one bitmap rendered once: drawing the three point collections took ~5 ms a move at
        projector size, pasting them takes a fraction of that. A full redraw draws them afresh."""
        self.freeze_layout()
        layer = _Layer(artists)
        for artist in artists:
            artist.set_animated(True)  # drawn by the layer only, never into the background
        ax.add_artist(layer)
        self.moving(layer)
        return layer


class _Layer(Artist):
    """Still artists kept as one RGBA bitmap (see `BlittedFigure.still_layer`)."""

    def __init__(self, artists):
        super().__init__()
        self.artists = sorted(artists, key=lambda a: a.get_zorder())
        self.set_zorder(max(a.get_zorder() for a in artists))
        self._bitmap = None

    def draw(self, renderer):
        if not self.get_visible():
            return
        if not CachedText.enabled:  # a full redraw
            for artist in self.artists:
                artist.draw(renderer)
        else:
            if self._bitmap is None:
                self._bitmap = _render_alone(renderer, self.artists)
            image, x0, y0 = self._bitmap
            if image is not None:
                gc = renderer.new_gc()
                renderer.draw_image(gc, x0, y0, image)
                gc.restore()
        self.stale = False


def _render_alone(renderer, artists):
    """`artists` drawn on a transparent canvas the size of `renderer`'s: the smallest box around their pixels
    (rows bottom-up, as draw_image takes them) and its lower-left corner in pixels, or (None, 0, 0)."""
    from matplotlib.backends.backend_agg import RendererAgg

    width, height = int(renderer.width), int(renderer.height)
    scratch = RendererAgg(width, height, renderer.dpi)
    for artist in artists:
        artist.draw(scratch)
    pixels = np.asarray(scratch.buffer_rgba())
    rows = np.flatnonzero(pixels[:, :, 3].any(axis=1))
    cols = np.flatnonzero(pixels[:, :, 3].any(axis=0))
    if rows.size == 0:
        return None, 0, 0
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    return pixels[top:bottom, left:right][::-1].copy(), int(left), int(height - bottom)


class _Pasted(Artist):
    """RGBA pixels pasted at a pixel offset of the figure, as they are."""

    def __init__(self, x0, y0):
        super().__init__()
        self.x0, self.y0, self.pixels = x0, y0, None
        self.set_zorder(-1)

    def draw(self, renderer):
        if self.pixels is not None and self.get_visible():
            gc = renderer.new_gc()
            renderer.draw_image(gc, self.x0, self.y0, self.pixels)  # rows bottom-up, as the picture's are
            gc.restore()
        self.stale = False


class Bars:
    """Labelled bars whose heights (and printed values) change in place."""

    def __init__(self, figure, ax, names, ylim, colours=None, fmt="{:.3f}", ylabel="", title="",
                 offset=0.0, width=0.65, fontsize=None, mark="argmax"):
        from matplotlib.transforms import offset_copy

        style = figure.style
        fontsize = fontsize or style.font_size
        self.ax, self.ylim, self.fmt = ax, ylim, fmt
        colours = colours or [CLASS_COLOURS[k % len(CLASS_COLOURS)] for k in range(len(names))]
        x = np.arange(len(names))
        self.x = x + offset
        self.bars = figure.moving(list(ax.bar(self.x, np.zeros(len(names)), color=colours, width=width,
                                              edgecolor="black", linewidth=0.8)))
        self.labels = figure.moving([text(ax, k, 0, ha="center", va="bottom", fontsize=fontsize,
                                          fontweight="bold") for k in self.x])
        ax.set_xticks(x, names)
        ax.set_ylim(*ylim)
        ax.set_xlim(-0.6, len(names) - 0.4)
        if ylim[0] < 0:
            ax.axhline(0, color="black", linewidth=0.8)
        ax.set_ylabel(ylabel)
        if title:  # the title's empty second line is where the changing note goes
            ax.set_title(title + "\n", fontsize=style.title)
        self.note = figure.moving(text(ax, 0.5, 1.01, transform=ax.transAxes, ha="center", va="bottom",
                                       fontsize=style.font_size, color="#333333"))
        # The marked bar's word sits one line above its value.
        self.mark = figure.moving(text(ax, 0, 0, mark, ha="center", va="bottom", fontsize=fontsize,
                                       fontweight="bold", transform=offset_copy(ax.transData, ax.figure,
                                                                                y=1.3 * fontsize, units="points")))

    def update(self, values, marked=None, note=""):
        """Set bar heights; print each value on its bar; hatch and label the `marked` bar."""
        low, high = self.ylim
        pad = 0.02 * (high - low)
        for k, (bar, label, value) in enumerate(zip(self.bars, self.labels, values)):
            shown = value if np.isfinite(value) else 0.0
            bar.set_height(min(max(shown, low), high))
            bar.set_hatch("//" if k == marked else None)
            label.set_text(self.fmt.format(value) if np.isfinite(value) else str(value))
            top = min(shown, high - 6 * pad) if shown >= 0 else max(shown, low + 6 * pad)
            label.set_position((self.x[k], top + pad if shown >= 0 else top - pad))
            label.set_va("bottom" if shown >= 0 else "top")
            if k == marked:
                self.mark.set_position((self.x[k], top + pad))
        self.mark.set_visible(marked is not None)
        self.note.set_text(note)


class Curve:
    """A fixed curve with a marker that moves along it, guide lines to the axes and a readout."""

    def __init__(self, figure, ax, x, y, xlabel, ylabel, title, colour=BLUE, xlim=None, ylim=None):
        self.ax = ax
        self.line, = ax.plot(x, y, color=colour, linewidth=2)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=figure.style.title)
        ax.grid(alpha=0.3)
        if xlim:
            ax.set_xlim(*xlim)
        if ylim:
            ax.set_ylim(*ylim)
        self.guides = figure.moving(ax.plot([], [], color=GREY, linestyle="--", linewidth=1)[0])
        self.marker = figure.moving(ax.plot([], [], "o", color=VERMILION, markersize=9,
                                            markeredgecolor="black")[0])
        self.readout = figure.moving(readout(ax, figure.style.font_size))

    def update(self, x, y, text):
        """Move the marker to (x, y), draw its guides, and show `text` in the readout."""
        x0, _ = self.ax.get_xlim()
        y0, _ = self.ax.get_ylim()
        self.marker.set_data([x], [y])
        self.guides.set_data([x0, x, x], [y, y, y0])
        self.readout.set_text(text)


def readout(ax, fontsize=None):
    """An empty text box in the axes' top-left corner, for numbers that change with the sliders."""
    return text(ax, 0.03, 0.95, transform=ax.transAxes, va="top", fontsize=fontsize or STYLE.font_size,
                bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.9})


class CachedText(Text):
    """A Text drawn as a bitmap, kept for the next time the same string is drawn with the same looks.

    Rendering text is most of the cost of a blitted redraw (~1 ms a label); a value that comes back
    as sliders go to and fro ("0.659") is pasted in microseconds instead. The text is placed at its
    anchor rounded to whole pixels, so a kept bitmap is exactly what drawing it afresh would give;
    a full redraw (`BlittedFigure.pixels(full=True)`) draws it afresh. The key holds what the
    explorers change: text, font, colour, alignment, box.
    """

    enabled = True  # False: draw afresh, keep nothing
    _cache = {}
    _scratch = {}
    MAX_ENTRIES = 2048  # a few MB of small bitmaps at most

    def _key(self, renderer):
        return (self.get_text(), hash(self.get_fontproperties()), str(self.get_color()), self.get_ha(),
                self.get_va(), self.get_rotation(), repr(self._bbox_patch and self._bbox_patch.get_boxstyle()),
                renderer.dpi)

    def draw(self, renderer):
        if not self.get_visible() or not self.get_text():
            return
        anchor = np.round(self.get_transform().transform(self.get_unitless_position()))
        key = self._key(renderer)
        hit = self._cache.get(key) if CachedText.enabled else None
        if hit is None:
            hit = self._render(renderer)
            if CachedText.enabled:
                if len(self._cache) >= self.MAX_ENTRIES:
                    self._cache.clear()
                self._cache[key] = hit
        image, dx, dy = hit
        if image is not None:
            gc = renderer.new_gc()
            renderer.draw_image(gc, int(anchor[0]) + dx, int(anchor[1]) + dy, image)
            gc.restore()
        self.stale = False

    def _render(self, renderer):
        """Draw the text alone, anchored at a whole pixel, on a transparent scratch canvas; keep the smallest
        box around its pixels and where that box sits from the anchor."""
        from matplotlib.backends.backend_agg import RendererAgg
        from matplotlib.transforms import IdentityTransform

        size = (int(renderer.width), int(renderer.height), renderer.dpi)
        scratch = self._scratch.get(size)
        if scratch is None:
            scratch = self._scratch[size] = RendererAgg(*size)
        scratch.clear()
        ox, oy = size[0] // 2, size[1] // 2  # any whole pixel with room around it
        position, transform = self.get_position(), self.get_transform()
        self.set_transform(IdentityTransform())
        self.set_position((ox, oy))
        try:
            super().draw(scratch)
            box = self.get_window_extent(scratch)
            if self._bbox_patch is not None:
                box = box.union([box, self._bbox_patch.get_window_extent(scratch)])
        finally:
            self.set_transform(transform)
            self.set_position(position)
        pixels = np.asarray(scratch.buffer_rgba())
        # Look for the drawn pixels only around the text (and its box), not over the whole canvas.
        x0, x1 = max(int(box.x0) - 4, 0), min(int(box.x1) + 5, size[0])
        y0, y1 = max(size[1] - int(box.y1) - 5, 0), min(size[1] - int(box.y0) + 4, size[1])
        alpha = pixels[y0:y1, x0:x1, 3]
        rows = np.flatnonzero(alpha.any(axis=1))
        cols = np.flatnonzero(alpha.any(axis=0))
        if rows.size == 0:
            return None, 0, 0
        top, bottom, left, right = y0 + rows[0], y0 + rows[-1] + 1, x0 + cols[0], x0 + cols[-1] + 1
        image = pixels[top:bottom, left:right][::-1].copy()  # draw_image takes rows bottom-up
        # draw_image places the image's lower-left corner, in pixels from the canvas' bottom.
        return image, left - ox, (size[1] - bottom) - oy


def text(ax, x, y, string="", **kwargs):
    """A label that changes with the sliders (a CachedText); data coordinates unless `transform` says otherwise."""
    label = CachedText(x, y, string, **kwargs)
    ax.add_artist(label)
    label.set_clip_on(False)
    return label
