"""PNG bytes of an RGB picture, fast enough for a slider: the explorers send one per move.

Encoding is most of a redraw's cost with Pillow (~13 ms for an explorer's picture, even at
compression level 0, because of its row filters); the flat colours of a plot compress as well
without filters. A PNG is a signature and three chunks: the header (size and pixel format), the
compressed rows (each starting with its filter byte), and the end marker.

The compressor is zlib-ng when it is installed (requirements.txt pins it): at its level 2 it
compresses a projector-size picture in ~1.8 ms to ~50 KB, where the standard library's zlib takes
~5.5 ms at level 1 for ~60 KB (`make bench SIZE=projector`). Without it, the standard zlib is used:
the same pictures, a few milliseconds slower.

matplotlib hands over RGBA pixels. They are stored as RGBA (an opaque figure's alpha is 255 everywhere
and costs the compressor almost nothing) because dropping the alpha is a strided copy that took longer
than the compression itself (6 vs 5 ms at projector size); the row buffer is reused between moves for
the same reason (a fresh 1-3 MB array per picture is memory new to the process every time).
"""

import struct
import zlib

import numpy as np

try:  # the same DEFLATE format as zlib, 3x faster on these pictures
    from zlib_ng import zlib_ng as _compressor

    LEVEL = 2
except ImportError:
    _compressor, LEVEL = zlib, 1

__all__ = ["encode_png"]

SIGNATURE = b"\x89PNG\r\n\x1a\n"
COLOUR_TYPE = {3: 2, 4: 6}  # channels -> PNG colour type (2: RGB, 6: RGBA)
_ROWS = {}


def _chunk(kind, data):
    """A PNG chunk: length, type, data and the CRC of type + data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _rows(height, row_bytes):
    """A reused buffer of `height` rows, each starting with its filter byte 0 (none)."""
    if (height, row_bytes) not in _ROWS:
        if len(_ROWS) > 8:
            _ROWS.clear()
        _ROWS[height, row_bytes] = np.zeros((height, row_bytes + 1), dtype=np.uint8)
    return _ROWS[height, row_bytes]


def encode_png(pixels):
    """PNG bytes of `pixels`, a [height, width, 3 or 4] uint8 array (RGB or RGBA)."""
    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] not in COLOUR_TYPE:
        raise ValueError(f"pixels have dtype {pixels.dtype} and shape {pixels.shape}: "
                         "expected uint8 RGB or RGBA, [height, width, 3 or 4]")
    height, width, channels = pixels.shape
    rows = _rows(height, width * channels)
    rows[:, 1:].reshape(height, width, channels)[...] = pixels  # a view of the buffer: one copy, in place
    header = struct.pack(">IIBBBBB", width, height, 8, COLOUR_TYPE[channels], 0, 0, 0)  # 8 bits, no interlace
    return (SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", _compressor.compress(memoryview(rows), LEVEL))
            + _chunk(b"IEND", b""))
