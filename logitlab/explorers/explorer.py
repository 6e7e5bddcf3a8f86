"""The Explorer object: controls, the numbers they produce, and a picture redrawn in place when a control moves.

The explorers themselves (which controls, which picture, which numbers) are in `logitlab/explorers/widgets.py`;
this module is their common frame: the layout of sliders, numbers and picture, and `set(**values)`.
"""

import base64
import contextlib

import numpy as np

class Explorer:
    """Controls, the numbers they produce, and a picture redrawn in place when a control moves.

    compute(**control values) -> numbers; draw(numbers) updates the picture's changing artists;
    summary(numbers) -> one deterministic line of text (the stored text/plain output);
    table(numbers) -> the HTML shown beside the sliders. `picture` is the BlittedFigure; set
    `blit = False` to draw it whole on every move instead (the benchmark's comparison). `style` is the
    explorer's own sizes, its picture's (`set_size` later changes only explorers made after it).
    """

    def __init__(self, name, controls, compute, picture, draw, summary, table, help_text=""):
        import ipywidgets as widgets

        self.name = name
        self.controls = dict(controls)
        self.picture = picture
        self.style = picture.style
        self.blit = True
        self._compute, self._draw, self._summary, self._table = compute, draw, summary, table
        self._holding = False
        # Shown at its own size at most (sharp, never stretched), smaller only to fit the screen (_layout_css).
        # The PNG goes out as a data: URL (format "url"): of PNG bytes ipywidgets makes a blob: URL, which
        # Chromium loads through its browser process (update message to the img's load event: median 14-22 ms
        # in JupyterLab here, 4-7 ms in a bare page); a data: URL loads in the page (5-8 ms in JupyterLab,
        # under 1 ms bare; tests/bench_browser.py).
        self.image = widgets.Image(format="url", layout={"width": f"{picture.width_px}px", "max_width": "100%",
                                                         "height": "auto"})
        self._numbers_html = widgets.HTML()
        intro = [widgets.HTML(f"<b>{help_text}</b>")] if help_text else []
        # A style sheet only: hidden, so it takes no line of its own.
        intro.insert(0, widgets.HTML(_layout_css() + _controls_css(self.style.controls_font_px),
                                     layout={"display": "none"}))
        # Sliders with the numbers beside them, the picture right below: all in view while a slider moves.
        sliders = widgets.VBox(intro + list(self.controls.values()), layout={"margin": "0 24px 0 0"})
        top = widgets.HBox([sliders, self._numbers_html], layout={"flex_flow": "row wrap", "align_items": "center",
                                                                   "flex": "0 0 auto"})
        self.widget = widgets.VBox([top, self.image])
        self.widget.add_class("logitlab-explorer")
        self.image.add_class("logitlab-picture")
        self._numbers_html.add_class("logitlab-numbers")
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.numbers = {}
        self.png = b""
        self._refresh()

    def _on_change(self, _change):
        if not self._holding:
            self._refresh()

    def _refresh(self):
        self.numbers = self._compute(**{name: c.value for name, c in self.controls.items()})
        self._draw(self.numbers)
        self.png = self.picture.png(full=not self.blit)
        self.image.value = b"data:image/png;base64," + base64.b64encode(self.png)
        self._numbers_html.value = self._table(self.numbers)

    def set(self, **values):
        """Set several controls at once (one redraw); unknown names or out-of-range values raise ValueError."""
        unknown = sorted(set(values) - set(self.controls))
        if unknown:
            raise ValueError(f"{self.name} has no control {', '.join(unknown)}: "
                             f"its controls are {', '.join(self.controls)}")
        for name, value in values.items():
            control = self.controls[name]
            low, high = getattr(control, "min", None), getattr(control, "max", None)
            options = getattr(control, "options", None)
            if options is not None and value not in [o[1] if isinstance(o, tuple) else o for o in options]:
                raise ValueError(f"{name} is {value!r}: expected one of {list(options)}")
            if isinstance(control.value, bool) and not isinstance(value, bool):
                raise ValueError(f"{name} is {value!r}: expected True or False")
            is_number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
            if isinstance(control.value, int) and not isinstance(control.value, bool) and not (
                    is_number and float(value).is_integer()):
                raise ValueError(f"{name} is {value!r}: expected a whole number")
            if hasattr(control, "base"):  # FloatLogSlider: min and max are exponents
                low, high = control.base ** low, control.base ** high
            if low is not None and not (is_number and low <= value <= high):
                raise ValueError(f"{name} is {value!r}: expected a number from {low:g} to {high:g}")
        with self._hold():
            for name, value in values.items():
                control = self.controls[name]
                control.value = int(value) if isinstance(control.value, int) and not isinstance(value, bool) else value
        self._refresh()
        return self

    @contextlib.contextmanager
    def _hold(self):
        self._holding = True
        try:
            yield
        finally:
            self._holding = False

    def summary(self):
        """One line of text with the numbers shown now (what a notebook viewer prints)."""
        return f"{self.name}: {self._summary(self.numbers)}"

    def __repr__(self):
        return self.summary()

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = self.summary()
        bundle["image/png"] = base64.b64encode(self.png).decode("ascii")
        return bundle


def _layout_css():
    """A style sheet that keeps a whole explorer on the screen: controls above, the picture below them.

    The explorer is at most as tall as what is left of the window (JupyterLab's menu, tab, toolbar and status
    bars take about 150 px; on a RISE slide only the cell's input line is above it), and the picture, the one
    part that can shrink, gives up height first and keeps its proportions. So at 1280 x 720 the sliders and
    the whole picture are in view together, and on a larger screen the picture is shown at its own size.
    """
    scope = ".logitlab-explorer"
    return (f"<style>{scope} {{max-height: calc(100vh - 150px);}} .reveal {scope} {{max-height: calc(100vh - 70px);}} "
            f"{scope} .logitlab-picture {{flex: 0 1 auto; min-height: 120px; object-fit: contain; "
            f"object-position: left top;}}</style>")


def _controls_css(px):
    """A style sheet for the explorers drawn at a size with larger control text (see `set_size`); "" for 0."""
    if not px:
        return ""
    scope = ".logitlab-explorer"
    return (f"<style>{scope} .widget-label, {scope} .widget-readout, {scope} .widget-dropdown select, "
            f"{scope} .widget-toggle-button, {scope} .logitlab-numbers {{font-size: {px}px; line-height: 1.3;}} "
            f"{scope} .widget-slider, {scope} .widget-hslider {{height: {round(px * 1.8)}px;}}</style>")
