"""A tiny paletted raster for emulated results: a seed-coloured card that shows its request.

A :class:`Canvas` holds one palette index per pixel (``bytearray``), so every drawing step is a
slice assignment and every colour conversion is one :meth:`bytes.translate` -- fast enough in
pure Python to render megapixel images on demand. :func:`paint_card` draws what an emulated
result looks like: a gradient mosaic derived from (prompt, seed), a few discs, and a panel with
the first words of the prompt, the seed and the model in a built-in 5x7 bitmap font, so a person
looking at hundreds of outputs can tell which request produced which.
"""

from __future__ import annotations

import hashlib

__all__ = ["Canvas", "digest", "paint_card", "text_lines"]

# Classic 5x7 font, ASCII 32..126: five column bytes per glyph, bit 0 = top row.
_FONT = bytes.fromhex(
    "0000000000" "00005f0000" "0007000700" "147f147f14" "242a7f2a12" "2313086462" "3649552250"
    "0005030000" "001c224100" "0041221c00" "14083e0814" "08083e0808" "0050300000" "0808080808"
    "0060600000" "2010080402" "3e5149453e" "00427f4000" "4261514946" "2141454b31" "1814127f10"
    "2745454539" "3c4a494930" "0171090503" "3649494936" "064949291e" "0036360000" "0056360000"
    "0814224100" "1414141414" "0041221408" "0201510906" "324979413e" "7e1111117e" "7f49494936"
    "3e41414122" "7f4141221c" "7f49494941" "7f09090901" "3e4149497a" "7f0808087f" "00417f4100"
    "2040413f01" "7f08142241" "7f40404040" "7f020c027f" "7f0408107f" "3e4141413e" "7f09090906"
    "3e4151215e" "7f09192946" "4649494931" "01017f0101" "3f4040403f" "1f2040201f" "3f4038403f"
    "6314081463" "0708700807" "6151494543" "007f414100" "0204081020" "0041417f00" "0402010204"
    "4040404040" "0001020400" "2054545478" "7f48444438" "3844444420" "384444487f" "3854545418"
    "087e090102" "0c5252523e" "7f08040478" "00447d4000" "2040443d00" "7f10284400" "00417f4000"
    "7c04180478" "7c08040478" "3844444438" "7c14141408" "081414187c" "7c08040408" "4854545420"
    "043f444020" "3c4040207c" "1c2040201c" "3c4030403c" "4428102844" "0c5050503c" "4464544c44"
    "0008364100" "00007f0000" "0041360800" "1008081008"
)
GLYPH_W, GLYPH_H, ADVANCE = 5, 7, 6


def digest(*parts: object) -> bytes:
    """32 bytes that depend on every part (the one source of per-request variety)."""
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()


class Canvas:
    """``width`` x ``height`` palette indices plus a palette of at most 256 RGB colours."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(width * height)
        self.palette: list[tuple[int, int, int]] = []

    def colour(self, rgb: tuple[int, int, int]) -> int:
        """The palette index of ``rgb`` (added on first use)."""
        rgb = (rgb[0] & 0xFF, rgb[1] & 0xFF, rgb[2] & 0xFF)
        try:
            return self.palette.index(rgb)
        except ValueError:
            if len(self.palette) >= 256:
                raise ValueError("palette full") from None
            self.palette.append(rgb)
            return len(self.palette) - 1

    def copy(self) -> Canvas:
        other = Canvas(self.width, self.height)
        other.pixels[:] = self.pixels
        other.palette = list(self.palette)
        return other

    def padded(self, width: int, height: int) -> Canvas:
        """A larger copy whose extra columns and rows repeat the last ones (codec padding)."""
        other = Canvas(width, height)
        other.palette = list(self.palette)
        w = self.width
        last = b""
        for y in range(height):
            if y < self.height:
                row = bytes(self.pixels[y * w:(y + 1) * w])
                last = row + row[-1:] * (width - w)
            other.pixels[y * width:(y + 1) * width] = last
        return other

    def fill(self, x: int, y: int, w: int, h: int, index: int) -> None:
        """Fill a rectangle (clipped to the canvas) with one palette index."""
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(self.width, x + w), min(self.height, y + h)
        if x1 <= x0 or y1 <= y0:
            return
        run = bytes((index,)) * (x1 - x0)
        for row in range(y0, y1):
            start = row * self.width + x0
            self.pixels[start:start + len(run)] = run

    def text(self, x: int, y: int, text: str, index: int, background: int, scale: int) -> int:
        """Draw one line of text over a solid ``background`` box; returns the width drawn."""
        glyph_rows = [bytearray() for _ in range(GLYPH_H)]
        for char in text:
            code = ord(char)
            cols = _FONT[(code - 32) * 5:(code - 31) * 5] if 32 <= code < 127 else b"\x7f" * 5
            for r, out in enumerate(glyph_rows):
                out.extend(1 if col >> r & 1 else 0 for col in cols)
                out.append(0)
        box_w = min(len(glyph_rows[0]) * scale + scale, self.width - x)
        if box_w <= 0:
            return 0
        table = bytes((background, index)) + bytes(254)
        self.fill(x, y, box_w, (GLYPH_H + 2) * scale, background)
        for r, bits in enumerate(glyph_rows):
            line = bytes(b for b in bits for _ in range(scale)).translate(table)
            line = line[:box_w - scale]
            for dy in range(scale):
                row = y + (r + 1) * scale + dy
                if 0 <= row < self.height and line:
                    start = row * self.width + x + scale
                    self.pixels[start:start + len(line)] = line
        return box_w

    def planes(self) -> tuple[bytes, bytes, bytes]:
        """The R, G and B planes (one byte per pixel each)."""
        data = bytes(self.pixels)
        pad = [(0, 0, 0)] * (256 - len(self.palette))
        pal = self.palette + pad
        return tuple(data.translate(bytes(c[i] for c in pal)) for i in range(3))  # type: ignore[return-value]

    def rgb(self) -> bytes:
        """Interleaved 8-bit RGB, row after row."""
        out = bytearray(3 * len(self.pixels))
        for i, plane in enumerate(self.planes()):
            out[i::3] = plane
        return bytes(out)


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t),
            round(a[2] + (b[2] - a[2]) * t))


def text_lines(prompt: str, seed: int | str, model: str, width: int, scale: int) -> list[str]:
    """The lines a card shows: the prompt's first words (wrapped), then seed and model."""
    per_line = max(4, (width - 4 * scale) // (ADVANCE * scale) - 1)
    lines: list[str] = []
    current = ""
    for word in (prompt.split() or ["(no prompt)"]):
        word = word[:per_line]
        if current and len(current) + 1 + len(word) > per_line:
            lines.append(current)
            current = word
            if len(lines) == 3:
                break
        else:
            current = f"{current} {word}" if current else word
    else:
        lines.append(current)
    return lines + [f"seed {seed}"[:per_line]] + ([f"model {model}"[:per_line]] if model else [])


def text_scale(width: int, height: int) -> int:
    """Glyph magnification: about 28 characters across the card."""
    return max(1, min(width // (ADVANCE * 28), height // (GLYPH_H * 12)) or 1)


def paint_card(prompt: str, seed: int | str, model: str, width: int, height: int,
               salt: str = "") -> Canvas:
    """The picture of an emulated result (see the module docstring)."""
    d = digest("card", prompt, seed, model, salt)
    canvas = Canvas(width, height)
    top, bottom = (d[0], d[1], d[2]), (d[3] ^ 0x80, d[4], d[5] ^ 0x80)
    tile = 8
    cols, rows = (width + tile - 1) // tile, (height + tile - 1) // tile
    levels = 48
    shades = [canvas.colour(_mix(top, bottom, i / (levels - 1))) for i in range(levels)]
    tilt = d[6] % 5 - 2
    span = max(1, rows + abs(tilt) * cols)
    for ty in range(rows):
        row = bytearray()
        for tx in range(cols):
            pos = ty + tilt * tx + (abs(tilt) * cols if tilt < 0 else 0)
            row += bytes((shades[min(levels - 1, pos * levels // span)],)) * tile
        line = bytes(row[:width])
        for y in range(ty * tile, min(height, ty * tile + tile)):
            canvas.pixels[y * width:(y + 1) * width] = line
    accent = canvas.colour((d[7] | 0x40, d[8] | 0x40, d[9] | 0x40))
    for k in range(3):
        cx, cy = d[10 + k] * width // 256, d[13 + k] * height // 256
        radius = max(2, (d[16 + k] % 24 + 8) * min(width, height) // 128)
        _disc(canvas, cx, cy, radius, accent if k != 1 else shades[(d[19] % levels)])
    scale = text_scale(width, height)
    ink, panel = canvas.colour((255, 255, 255)), canvas.colour((20, 20, 20))
    y = 2 * scale
    for caption in text_lines(prompt, seed, model, width, scale):
        if y + (GLYPH_H + 2) * scale > height:
            break
        canvas.text(2 * scale, y, caption, ink, panel, scale)
        y += (GLYPH_H + 2) * scale
    return canvas


def _disc(canvas: Canvas, cx: int, cy: int, radius: int, index: int) -> None:
    r2 = radius * radius
    for y in range(max(0, cy - radius), min(canvas.height, cy + radius + 1)):
        dy = y - cy
        half = int((r2 - dy * dy) ** 0.5)
        canvas.fill(cx - half, y, 2 * half + 1, 1, index)
