"""HTML pieces of the reports: escaping, tables, Markdown tables, players, the page shell.

Plain HTML and one inline stylesheet: no script, no framework, nothing fetched from
elsewhere, so a page opens from ``file://``, from any static server and from a zip.
"""

from __future__ import annotations

import html
import math
import re

CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em auto; max-width: 1700px;
       padding: 0 1em; color: #222; background: #fff; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.6em 0; }
th, td { border: 1px solid #ddd; padding: 3px 7px; vertical-align: top; }
th { background: #f3f3f3; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; max-height: 30em; }
pre.cmd { white-space: pre-wrap; word-break: break-all; }
td.metrics { white-space: nowrap; font-size: 12px; }
td.utt { max-width: 12em; word-break: break-all; }
code { background: #f3f3f3; padding: 0 3px; }
img.plot { max-width: 100%; }
img.spec { display: block; width: 240px; height: 96px; image-rendering: auto; }
audio { width: 240px; height: 32px; display: block; }
.player { display: inline-block; margin: 2px 6px 2px 0; vertical-align: top; }
.player .label { font-size: 12px; color: #555; }
.note { color: #666; font-size: 13px; }
nav a { margin-right: 1em; }
"""


def esc(value) -> str:
    return html.escape(str(value), quote=True)


def fmt_num(v, digits: int = 2) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "nan"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def table(header: list[str], rows: list[list], numeric_from: int = 1) -> str:
    """A table; cells are escaped unless given as ``Raw``; columns from ``numeric_from``
    on are right-aligned."""
    out = ["<table>", "<tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr>"]
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            text = cell if isinstance(cell, Raw) else esc(cell)
            cls = ' class="num"' if i >= numeric_from and not isinstance(cell, Raw) else ""
            cells.append(f"<td{cls}>{text}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


class Raw(str):
    """HTML that is inserted as it is (already escaped)."""


_CODE = re.compile(r"`([^`]*)`")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")


def _inline(text: str) -> str:
    text = esc(text)
    text = _CODE.sub(r"<code>\1</code>", text)
    return _BOLD.sub(r"<b>\1</b>", text)


def markdown(text: str) -> str:
    """The Markdown that sepcore writes (RESULTS.md: headings, bullet lists, pipe tables,
    paragraphs) as HTML. Every number keeps its exact spelling."""
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("|"):
            block = []
            while i < len(lines) and lines[i].startswith("|"):
                block.append([c.strip() for c in lines[i].strip().strip("|").split("|")])
                i += 1
            rule = len(block) > 1 and all(re.fullmatch(r":?-+:?", c) for c in block[1])
            header, body = (block[0], block[2:]) if rule else (None, block)
            rows = []
            if header:
                rows.append("<tr>" + "".join(f"<th>{_inline(c)}</th>" for c in header) + "</tr>")
            for r in body:
                rows.append("<tr>" + "".join(
                    f'<td{" class=num" if k else ""}>{_inline(c)}</td>' for k, c in enumerate(r)
                ) + "</tr>")
            out.append("<table>\n" + "\n".join(rows) + "\n</table>")
            continue
        m = re.match(r"^(#{1,6})\s+(.*)$", line)
        if m:
            level = min(6, len(m.group(1)) + 2)  # inside a section of the report
            out.append(f"<h{level}>{_inline(m.group(2))}</h{level}>")
        elif line.startswith("- "):
            items = []
            while i < len(lines) and lines[i].startswith("- "):
                items.append(f"<li>{_inline(lines[i][2:])}</li>")
                i += 1
            out.append("<ul>" + "".join(items) + "</ul>")
            continue
        elif line.strip():
            out.append(f"<p>{_inline(line)}</p>")
        i += 1
    return "\n".join(out)


def audio_player(src: str, label: str, spec: str | None = None) -> Raw:
    """A labelled player with its spectrogram under it; ``src``/``spec`` are relative."""
    img = f'<img class="spec" src="{esc(spec)}" alt="spectrogram: {esc(label)}">' if spec else ""
    return Raw(
        f'<div class="player"><div class="label">{esc(label)}</div>'
        f'<audio controls preload="none" src="{esc(src)}"></audio>{img}</div>'
    )


def image(src: str, alt: str, cls: str = "plot") -> Raw:
    return Raw(f'<img class="{cls}" src="{esc(src)}" alt="{esc(alt)}">')


def page(title: str, body: list[str]) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body) + "\n</body>\n</html>\n"
    )
