"""A small Markdown-to-HTML converter for the reports this package writes.

It covers what report.md and the section files (sensitivity.md, backtest.md) use: ATX
headings, paragraphs, bullet and numbered lists, pipe tables with alignment, fenced code,
images on their own line, and inline code, bold, italics and links. Everything else is
shown as escaped text, never as raw HTML; every attribute is escaped, and a link or image
address must be http(s) or relative (:func:`safe_url`), so a hostile prior ``source`` cannot
put script into a report that is shared. Local images are inlined as data URIs so the page
opens anywhere as a single file.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

__all__ = ["image_data_uri", "markdown_to_html", "html_page", "safe_url", "split_row", "table_rows"]

_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
         ".gif": "image/gif"}
_IMAGE_LINE = re.compile(r"^!\[(?P<alt>[^\]]*)\]\((?P<src>[^)\s]+)\)$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")
_TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")


def image_data_uri(path: str | Path) -> str:
    """``data:image/png;base64,...`` for a local image file."""
    path = Path(path)
    mime = _MIME.get(path.suffix.lower())
    if mime is None:
        raise ValueError(f"{path}: not an image type that can be inlined ({', '.join(_MIME)})")
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


#: Schemes a link may have; a link without one is relative (to the report's folder).
SAFE_SCHEMES = ("http", "https")
#: Inlined images (data URIs) an image may have besides those.
_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|gif);base64,[A-Za-z0-9+/=]*$")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


def safe_url(url: str, *, image: bool = False) -> str | None:
    """``url`` if it is an http(s) or relative link (for an image, also an inlined PNG, JPEG
    or GIF), else None: ``javascript:``, ``data:text/html``, ``vbscript:`` and the like
    never become a live link in a report someone else opens."""
    # browsers drop tabs, newlines and leading controls inside a scheme ("java\tscript:")
    cleaned = "".join(c for c in url if c > " " and c != "\x7f")
    if image and _DATA_IMAGE.match(cleaned):
        return url
    scheme = _SCHEME.match(cleaned)
    if scheme is None:
        return None if cleaned.startswith("\\") or cleaned.startswith("/\\") else url
    return url if scheme[1].lower() in SAFE_SCHEMES else None


def _inline_image(m) -> str:
    """An inline image of escaped text: alt is already escaped, the address is checked."""
    src = safe_url(html.unescape(m[2]), image=True)
    if src is None:
        return m[1]  # the alt text only
    return f'<img alt="{m[1]}" src="{html.escape(src)}">'


def _inline_link(m) -> str:
    href = safe_url(html.unescape(m[2]))
    if href is None:
        return m[1]  # the label only, not a link
    return f'<a href="{html.escape(href)}" rel="noopener noreferrer">{m[1]}</a>'


def _inline(text: str) -> str:
    """Escape, then apply code spans, images, links, bold and italics (code spans first, so
    their contents stay literal)."""
    pieces = re.split(r"(`[^`]+`)", text)
    out = []
    for piece in pieces:
        if len(piece) > 1 and piece.startswith("`") and piece.endswith("`"):
            out.append(f"<code>{html.escape(piece[1:-1])}</code>")
            continue
        s = html.escape(piece)  # quotes too: text that ends up in an attribute stays text
        s = re.sub(r"!\[([^\]]*)\]\(([^)\s]+)\)", _inline_image, s)
        s = re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", _inline_link, s)
        s = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", s)
        s = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", s)
        out.append(s)
    return "".join(out)


def split_row(line: str) -> list[str]:
    """The cells of one Markdown table row, stripped, with ``\\|`` unescaped."""
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    cells = re.split(r"(?<!\\)\|", line)
    return [c.strip().replace("\\|", "|") for c in cells]


def table_rows(table: str) -> list[dict[str, str]]:
    """The body rows of a Markdown table (its header, rule and rows) as column -> cell."""
    lines = table.strip().splitlines()
    columns = split_row(lines[0])
    return [dict(zip(columns, split_row(line))) for line in lines[2:]]


def _alignments(rule: str) -> list[str]:
    aligns = []
    for cell in split_row(rule):
        left, right = cell.startswith(":"), cell.endswith(":")
        aligns.append("center" if left and right else "right" if right else "left")
    return aligns


def _table(lines: list[str]) -> str:
    header, aligns, body = split_row(lines[0]), _alignments(lines[1]), [split_row(l) for l in lines[2:]]
    def cell(tag, text, i):
        align = aligns[i] if i < len(aligns) else "left"
        style = f' style="text-align:{align}"' if align != "left" else ""
        return f"<{tag}{style}>{_inline(text)}</{tag}>"
    head = "".join(cell("th", c, i) for i, c in enumerate(header))
    rows = "\n".join("<tr>" + "".join(cell("td", c, i) for i, c in enumerate(r)) + "</tr>" for r in body)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>"


def _image(alt: str, src: str, base: Path | None) -> str:
    if safe_url(src, image=True) is None:
        return f"<p>{_inline(alt)}</p>" if alt else ""
    local = base / src if base is not None and "://" not in src and not src.startswith("data:") else None
    if local is not None and local.is_file() and local.suffix.lower() in _MIME:
        src = image_data_uri(local)
    return (f'<figure><img alt="{html.escape(alt)}" src="{html.escape(src)}">'
            f"<figcaption>{_inline(alt)}</figcaption></figure>" if alt else
            f'<figure><img alt="" src="{html.escape(src)}"></figure>')


def markdown_to_html(text: str, *, base: str | Path | None = None) -> str:
    """Convert the Markdown subset described in the module docstring to an HTML fragment.

    Parameters
    ----------
    text
        The Markdown.
    base
        Folder that relative image paths are read from, to inline them as data URIs; images
        that are not found there keep their path.
    """
    base = Path(base) if base is not None else None
    lines = text.splitlines()
    blocks: list[str] = []
    paragraph: list[str] = []
    i = 0

    def flush():
        if paragraph:
            blocks.append("<p>" + _inline(" ".join(s.strip() for s in paragraph)) + "</p>")
            paragraph.clear()

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped:
            flush()
            i += 1
        elif stripped.startswith("```"):
            flush()
            j = i + 1
            while j < len(lines) and not lines[j].strip().startswith("```"):
                j += 1
            code = "\n".join(lines[i + 1 : j])
            blocks.append(f"<pre><code>{html.escape(code)}</code></pre>")
            i = j + 1
        elif m := _HEADING.match(stripped):
            flush()
            level = len(m[1])
            blocks.append(f"<h{level}>{_inline(m[2])}</h{level}>")
            i += 1
        elif m := _IMAGE_LINE.match(stripped):
            flush()
            blocks.append(_image(m["alt"], m["src"], base))
            i += 1
        elif stripped.startswith("|") and i + 1 < len(lines) and _TABLE_RULE.match(lines[i + 1].strip()):
            flush()
            j = i + 2
            while j < len(lines) and lines[j].strip().startswith("|"):
                j += 1
            blocks.append(_table([l.strip() for l in lines[i:j]]))
            i = j
        elif _BULLET.match(line) or _NUMBERED.match(line):
            flush()
            pattern, tag = (_BULLET, "ul") if _BULLET.match(line) else (_NUMBERED, "ol")
            items = []
            while i < len(lines) and lines[i].strip():
                m = pattern.match(lines[i])
                if m:
                    items.append(m[1])
                elif items:  # a continuation line of the item above
                    items[-1] += " " + lines[i].strip()
                else:
                    break
                i += 1
            blocks.append(f"<{tag}>\n" + "\n".join(f"<li>{_inline(t)}</li>" for t in items) + f"\n</{tag}>")
        else:
            paragraph.append(line)
            i += 1
    flush()
    return "\n".join(blocks)


_CSS = """
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222;
       max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.3rem; margin-top: 2rem;
     border-bottom: 1px solid #ddd; } h3 { font-size: 1.1rem; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.85rem;
        font-variant-numeric: tabular-nums; display: block; overflow-x: auto; }
th, td { padding: 0.2rem 0.6rem; border-bottom: 1px solid #e5e5e5; vertical-align: top;
         overflow-wrap: anywhere; }
td { min-width: 3.5rem; }
th { border-bottom: 2px solid #bbb; }
figure { margin: 1rem 0; } figure img { max-width: 100%; height: auto; }
figcaption { color: #666; font-size: 0.85rem; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: 0.85rem; }
pre { background: #f6f6f6; padding: 0.6rem; overflow-x: auto; }
@media print {
  body { max-width: none; margin: 0; font-size: 11pt; }
  table { display: table; width: 100%; font-size: 8pt; }
  pre { white-space: pre-wrap; overflow-wrap: anywhere; }
  h2 { break-after: avoid; } figure, tr { break-inside: avoid; }
}
"""


def html_page(body: str, *, title: str) -> str:
    """A complete, self-contained HTML document around ``body``."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
