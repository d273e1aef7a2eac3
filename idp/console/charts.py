"""Charts as server-rendered SVG: a few bars need no chart library, work without JavaScript and print well.
Each chart carries a <title> (its accessible name) and the pages show the same numbers as a table."""

from dataclasses import dataclass

from markupsafe import Markup, escape

COLOURS = {"success": "#1d7a3a", "failure": "#b3261e", "interrupted": "#b26a00"}
BAR = "#0a5bd3"


@dataclass
class Series:
    key: str
    label: str
    colour: str


#: the viewBox width of a chart drawn for a phone: about the card's width at 390 px, so that its text shows at
#: nearly its CSS size (a 560-wide chart squeezed into 330 px drew 15 px labels at 9 px)
NARROW = 330


def responsive(wide: Markup, narrow: Markup) -> Markup:
    """Both drawings of a chart: the stylesheet shows the narrow one under 600 px, the wide one above."""
    return Markup(  # both are our own markup: str.replace, which (unlike Markup's) escapes nothing
        str(wide).replace('class="chart"', 'class="chart wide"', 1)
        + str(narrow).replace('class="chart"', 'class="chart narrow"', 1)
    )


def stacked_columns(
    title: str,
    columns: list[tuple[str, dict[str, int]]],
    series: list[Series],
    width: int = 560,
    height: int = 180,
    labels: int = 6,
) -> Markup:
    """Columns (label, {series key: count}) stacked by series: sign-ins per hour by result; about `labels`
    column labels along the bottom."""
    top = max([sum(values.values()) for _, values in columns] + [1])
    left, bottom, plot_h = 34, 22, height - 34
    step = (width - left) / max(len(columns), 1)
    parts = [_axis(left, plot_h + 8, width, top)]
    for i, (label, values) in enumerate(columns):
        x, y = left + i * step, plot_h + 8
        for s in series:
            count = values.get(s.key, 0)
            if not count:
                continue
            h = count / top * plot_h
            y -= h
            parts.append(
                f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{max(step - 2, 1):.1f}" height="{h:.1f}" '
                f'fill="{s.colour}"><title>{escape(label)} · {escape(s.label)}: {count}</title></rect>'
            )
        if i % max(len(columns) // labels, 1) == 0:
            parts.append(f'<text x="{x:.1f}" y="{height - bottom + 18}">{escape(label)}</text>')
    return _svg(title, width, height, parts)


def horizontal_bars(title: str, rows: list[tuple[str, int]], width: int = 560, colour: str = BAR) -> Markup:
    """One bar per row (label, count), longest first: methods used, failure reasons."""
    rows = rows[:8]
    height = 28 * max(len(rows), 1) + 8
    top = max([count for _, count in rows] + [1])
    label_w = 220
    parts = []
    for i, (label, count) in enumerate(rows):
        y = 4 + i * 28
        w = count / top * (width - label_w - 40)
        short = label if len(label) <= 26 else label[:25] + "…"
        parts.append(f'<text x="0" y="{y + 14}">{escape(short)}</text>')
        parts.append(
            f'<rect x="{label_w}" y="{y + 2}" width="{max(w, 1):.1f}" height="16" fill="{colour}">'
            f"<title>{escape(label)}: {count}</title></rect>"
        )
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 14}">{count}</text>')
    return _svg(title, width, height, parts)


def labelled_bars(title: str, rows: list[tuple[str, int]], width: int = NARROW, colour: str = BAR) -> Markup:
    """`horizontal_bars` for a phone: each label on a line of its own across the chart, its bar and count under
    it, so a long label (Japanese ones are) is not cut to a few characters."""
    rows = rows[:8]
    height = 44 * max(len(rows), 1)
    top = max([count for _, count in rows] + [1])
    most = width // 15  # characters of a line at 15 px (a Japanese character is about as wide as the font size)
    parts = []
    for i, (label, count) in enumerate(rows):
        y = i * 44
        w = count / top * (width - 48)
        short = label if len(label) <= most else label[: most - 1] + "…"
        parts.append(f'<text x="0" y="{y + 15}">{escape(short)}</text>')
        parts.append(
            f'<rect x="0" y="{y + 22}" width="{max(w, 1):.1f}" height="14" fill="{colour}">'
            f"<title>{escape(label)}: {count}</title></rect>"
        )
        parts.append(f'<text x="{w + 6:.1f}" y="{y + 35}">{count}</text>')
    return _svg(title, width, height, parts)


def share_bar(title: str, part: int, whole: int, part_label: str, rest_label: str, width: int = 560) -> Markup:
    """One bar split in two: the share of users registered for MFA."""
    share = part / whole if whole else 0
    w = share * width
    parts = [
        f'<rect x="0" y="0" width="{w:.1f}" height="24" fill="{COLOURS["success"]}"><title>{escape(part_label)}: {part}</title></rect>',
        f'<rect x="{w:.1f}" y="0" width="{width - w:.1f}" height="24" fill="#c8c8c8"><title>{escape(rest_label)}: {whole - part}</title></rect>',
    ]
    return _svg(title, width, 24, parts)


def _axis(left: int, base: float, width: int, top: int) -> str:
    return (
        f'<line x1="{left}" y1="{base:.1f}" x2="{width}" y2="{base:.1f}" stroke="#888"/>'
        f'<text x="0" y="14">{top}</text><text x="0" y="{base:.1f}">0</text>'
    )


def _svg(title: str, width: int, height: int, parts: list[str]) -> Markup:
    return Markup(
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height + 4}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{''.join(parts)}</svg>"
    )
