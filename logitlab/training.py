"""Record a Keras model's logits while it trains, for `ll.widgets.training_explorer(recorder.run)`.

    grid = ll.training.grid_around(x_train)
    recorder = ll.training.LogitRecorder(x_train[:5], grid, label_ids=y_train[:5])
    model.fit(x_train, y_train, epochs=20, callbacks=[recorder], verbose=0)
    ll.widgets.training_explorer(recorder.run)

This is the only logitlab module that imports Keras (and so TensorFlow).
"""

from dataclasses import dataclass, field

import keras
import numpy as np

from logitlab import numerics

__all__ = ["LogitRecorder", "TrainingRun", "grid_around"]


@dataclass
class TrainingRun:
    """What a LogitRecorder saw: entry e of `logits`/`grid_probs`/`losses` is after e epochs (0 = before training)."""

    points: np.ndarray  # [points, 2] inputs whose logits are followed
    grid: np.ndarray  # [rows, cols, 2] inputs covering the plane, for decision regions
    label_ids: np.ndarray | None = None  # the points' true classes, if given
    logits: list = field(default_factory=list)  # per epoch: [points, classes]
    grid_probs: list = field(default_factory=list)  # per epoch: [rows, cols, classes]
    losses: list = field(default_factory=list)  # per epoch: training loss (None before training)

    @property
    def epochs(self):
        return len(self.logits) - 1


def grid_around(x, steps=60, margin=0.15):
    """A [steps, steps, 2] grid of 2-D inputs covering the points `x` plus `margin` of their range on each side."""
    x = numerics.as_floats(x, "x")
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"x has shape {list(x.shape)}: expected 2-D inputs of shape [points, 2]")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 2 <= steps <= 400:
        raise ValueError(f"steps is {steps!r}: expected an integer from 2 to 400")
    low, high = x.min(axis=0), x.max(axis=0)
    pad = np.maximum(high - low, 1e-9) * margin
    xs = np.linspace(low[0] - pad[0], high[0] + pad[0], steps)
    ys = np.linspace(low[1] - pad[1], high[1] + pad[1], steps)
    return np.stack(np.meshgrid(xs, ys), axis=-1).astype(np.float32)


class LogitRecorder(keras.callbacks.Callback):
    """A Keras callback that records, before training and after every epoch, the model's logits at
    `points` and its softmax probabilities over `grid` (the model must output logits)."""

    def __init__(self, points, grid, label_ids=None):
        super().__init__()
        points = numerics.as_floats(points, "points").astype(np.float32)
        grid = numerics.as_floats(grid, "grid").astype(np.float32)
        if points.ndim != 2:
            raise ValueError(f"points has shape {list(points.shape)}: expected [points, features]")
        if grid.ndim != 3 or grid.shape[-1] != points.shape[1]:
            raise ValueError(f"grid has shape {list(grid.shape)}: expected [rows, cols, {points.shape[1]}] "
                             "(ll.training.grid_around(x) makes one)")
        if label_ids is not None:
            label_ids = np.asarray(label_ids).astype(int).reshape(-1)
            if label_ids.shape[0] != points.shape[0]:
                raise ValueError(f"{label_ids.shape[0]} label_ids for {points.shape[0]} points: expected one per point")
        self.run = TrainingRun(points=points, grid=grid, label_ids=label_ids)

    def _record(self, loss):
        logits = np.asarray(self.model(self.run.points, training=False), dtype=np.float64)
        if logits.ndim != 2 or logits.shape[1] < 2:
            raise ValueError(f"the model outputs shape {list(logits.shape)}: expected logits [points, classes >= 2]")
        flat = self.run.grid.reshape(-1, self.run.grid.shape[-1])
        grid_logits = np.asarray(self.model(flat, training=False), dtype=np.float64)
        self.run.logits.append(logits)
        self.run.grid_probs.append(numerics.softmax(grid_logits).reshape(*self.run.grid.shape[:2], -1))
        self.run.losses.append(loss)

    def on_train_begin(self, logs=None):
        if not self.run.logits:  # a second fit() continues the same run
            self._record(None)

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss")
        self._record(None if loss is None else float(loss))
