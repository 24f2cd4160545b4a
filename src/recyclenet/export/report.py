"""The evaluation report of a plan: Markdown or HTML, in English or Chinese.

A short summary (the headline indicators and any lines the caller adds), the indicator
table (name, value, unit, definition) per group, and optional PNG maps. Labels come
from ``data/labels.csv``; text from the caller and from OSM (street and place names,
Chinese or not) is shown as it is, only escaped for HTML. The HTML page is one
self-contained file: images are embedded as data URIs, no scripts, no network.
"""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..i18n import check_lang, labels
from ..indicators import Indicator, format_number

#: Indicators shown in the summary when present, in this order.
HEADLINE_KEYS: tuple[str, ...] = (
    "stations_open",
    "share_within_radius",
    "access_distance_p95_m",
    "tonnes_collected",
    "vehicle_km",
    "cost_per_tonne",
    "co2e_kg",
    "empty_running_share",
    "park_gis_utilisation_rate",
    "park_hw_licensed_share",
    "park_cost_per_tonne",
    "park_byproduct_value_per_year",
)

_GROUPS: tuple[str, ...] = ("siting", "routing", "park")


@dataclass(frozen=True)
class Section:
    """A report section after the indicators: a heading, lines, a table, images.

    Attributes
    ----------
    title : str
        Heading (level 2), already in the report's language.
    lines : sequence of str
        Bullet lines above the table (shown as they are).
    columns : sequence of str
        Table header; empty for no table.
    rows : sequence of sequence of str
        Table cells, already formatted.
    numeric : sequence of int
        Column positions aligned right.
    images : sequence of path
        Charts shown below the table (embedded in HTML).
    subsections : sequence of Section
        Shown below, one heading level down.
    """

    title: str
    lines: Sequence[str] = ()
    columns: Sequence[str] = ()
    rows: Sequence[Sequence[str]] = ()
    numeric: Sequence[int] = ()
    images: Sequence[str | Path] = ()
    subsections: Sequence[Section] = field(default_factory=tuple)


def _section_markdown(sec: Section, level: int, relative_to: str | Path | None) -> list[str]:
    out = ["", f"{'#' * level} {sec.title}", ""]
    out += [f"- {line}" for line in sec.lines]
    if sec.lines:
        out.append("")
    if sec.columns:
        out.append("| " + " | ".join(_md_cell(c) for c in sec.columns) + " |")
        out.append("|" + "|".join("---:" if i in sec.numeric else "---"
                                  for i in range(len(sec.columns))) + "|")  # fmt: skip
        out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in sec.rows]
    for img in sec.images:
        p = Path(img)
        link = os.path.relpath(p, relative_to) if relative_to is not None else str(p)
        out += ["", f"![{p.stem}]({Path(link).as_posix()})"]
    for sub in sec.subsections:
        out += _section_markdown(sub, level + 1, relative_to)
    return out


def _section_html(sec: Section, level: int, embed_images: bool,
                  relative_to: str | Path | None) -> list[str]:  # fmt: skip
    esc = html.escape
    out = [f"<section><h{level}>{esc(sec.title)}</h{level}>"]
    if sec.lines:
        out.append("<ul>" + "".join(f"<li>{esc(x)}</li>" for x in sec.lines) + "</ul>")
    if sec.columns:
        out.append("<table><thead><tr>" + "".join(f"<th>{esc(c)}</th>" for c in sec.columns)
                   + "</tr></thead><tbody>")  # fmt: skip
        for row in sec.rows:
            cells = "".join(
                f'<td class="num">{esc(c)}</td>' if i in sec.numeric else f"<td>{esc(c)}</td>"
                for i, c in enumerate(row)
            )
            out.append(f"<tr>{cells}</tr>")
        out.append("</tbody></table>")
    for img in sec.images:
        out.append(_figure_html(Path(img), embed_images, relative_to))
    for sub in sec.subsections:
        out += _section_html(sub, min(level + 1, 6), embed_images, relative_to)
    out.append("</section>")
    return out


def _value_text(ind: Indicator, lang: str) -> str:
    unit = ind.unit_label(lang)
    value = format_number(ind.value)
    if value == "–":
        return value
    return f"{value}{unit}" if ind.unit == "pct" else f"{value} {unit}"


def headline(indicators: Iterable[Indicator], lang: str = "en") -> list[str]:
    """``name: value unit`` of the headline indicators present (see :data:`HEADLINE_KEYS`)."""
    by_key = {i.key: i for i in indicators}
    sep = "：" if check_lang(lang) == "zh" else ": "
    return [
        f"{by_key[k].name(lang)}{sep}{_value_text(by_key[k], lang)}"
        for k in HEADLINE_KEYS
        if k in by_key
    ]


def _grouped(indicators: Sequence[Indicator]) -> list[tuple[str, list[Indicator]]]:
    out = []
    for g in _GROUPS:
        rows = [i for i in indicators if i.group == g]
        if rows:
            out.append((g, rows))
    return out


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def report_markdown(
    indicators: Sequence[Indicator],
    *,
    lang: str = "en",
    title: str | None = None,
    summary: Sequence[str] = (),
    images: Sequence[str | Path] = (),
    relative_to: str | Path | None = None,
    sections: Sequence[Section] = (),
) -> str:
    """The report as Markdown (GitHub tables).

    Parameters
    ----------
    indicators : sequence of Indicator
        From :func:`recyclenet.indicators.plan_indicators`.
    lang : {"en", "zh"}
        Language of the labels.
    title : str, optional
        Default: the ``report_title`` label.
    summary : sequence of str
        Lines added below the headline indicators (shown as they are).
    images : sequence of path
        PNG maps, linked as ``![name](path)``.
    relative_to : path, optional
        Directory the image links are made relative to (the report's folder).
    sections : sequence of Section
        Further sections after the indicators (plan versus actual, evaluation...).
    """
    lab = labels(check_lang(lang))
    out = [f"# {title or lab['report_title']}", "", f"## {lab['report_summary']}", ""]
    out += [f"- {line}" for line in [*headline(indicators, lang), *summary]]
    out += ["", f"## {lab['report_indicators']}"]
    for group, rows in _grouped(indicators):
        out += ["", f"### {lab['group_' + group]}", ""]
        out.append(f"| {lab['col_indicator']} | {lab['col_value']} | {lab['col_unit']} | "
                   f"{lab['col_definition']} |")  # fmt: skip
        out.append("|---|---:|---|---|")
        for i in rows:
            cells = [i.name(lang), format_number(i.value), i.unit_label(lang), i.definition(lang)]
            out.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
    for sec in sections:
        out += _section_markdown(sec, 2, relative_to)
    if images:
        out += ["", f"## {lab['report_maps']}", ""]
        for img in images:
            p = Path(img)
            link = os.path.relpath(p, relative_to) if relative_to is not None else str(p)
            out += [f"![{p.stem}]({Path(link).as_posix()})", ""]
    return "\n".join(out).rstrip() + "\n"


_CSS = """
body { font-family: system-ui, "Noto Sans CJK SC", "Microsoft YaHei", sans-serif;
       margin: 2em auto; max-width: 70em; padding: 0 1em; color: #222; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.35em 0.6em; text-align: left;
         vertical-align: top; }
th { background: #f2f2f2; }
table.indicators th:nth-child(1) { width: 24%; }
table.indicators th:nth-child(2) { width: 9%; }
table.indicators th:nth-child(3) { width: 14%; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
figure { margin: 1em 0; } img { max-width: 100%; border: 1px solid #ddd; }
"""


def _data_uri(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"report image {path}: cannot read ({exc.strerror or exc})") from None
    mime = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
            ".svg": "image/svg+xml"}.get(path.suffix.lower())  # fmt: skip
    if mime is None:
        raise InputError(f"report image {path}: use a .png, .jpg or .svg file")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _figure_html(p: Path, embed_images: bool, relative_to: str | Path | None) -> str:
    esc = html.escape
    if embed_images:
        src = _data_uri(p)
    else:
        link = os.path.relpath(p, relative_to) if relative_to is not None else str(p)
        src = Path(link).as_posix()
    return (f'<figure><img src="{esc(src)}" alt="{esc(p.stem)}">'
            f"<figcaption>{esc(p.name)}</figcaption></figure>")  # fmt: skip


def report_html(
    indicators: Sequence[Indicator],
    *,
    lang: str = "en",
    title: str | None = None,
    summary: Sequence[str] = (),
    images: Sequence[str | Path] = (),
    embed_images: bool = True,
    relative_to: str | Path | None = None,
    sections: Sequence[Section] = (),
) -> str:
    """The report as one HTML page (UTF-8, no scripts, works offline).

    Parameters
    ----------
    indicators, lang, title, summary : see :func:`report_markdown`
    images : sequence of path
        PNG (or JPEG, SVG) maps.
    embed_images : bool
        Embed the images as data URIs (default), else link them.
    relative_to : path, optional
        Directory linked images are made relative to.
    sections : sequence of Section
        Further sections after the indicators.

    Raises
    ------
    InputError
        An image cannot be read (named).
    """
    lab = labels(check_lang(lang))
    esc = html.escape
    heading = title or lab["report_title"]
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(heading)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{esc(heading)}</h1>",
        f'<section id="summary"><h2>{esc(lab["report_summary"])}</h2><ul>',
    ]
    out += [f"<li>{esc(line)}</li>" for line in [*headline(indicators, lang), *summary]]
    out += ["</ul></section>", f'<section id="indicators"><h2>{esc(lab["report_indicators"])}</h2>']
    for group, rows in _grouped(indicators):
        out += [
            f"<h3>{esc(lab['group_' + group])}</h3>",
            f'<table class="indicators" data-group="{group}">',
            "<thead><tr>"
            + "".join(
                f"<th>{esc(lab[c])}</th>"
                for c in ("col_indicator", "col_value", "col_unit", "col_definition")
            )
            + "</tr></thead>",
            "<tbody>",
        ]
        for i in rows:
            out.append(
                f'<tr data-key="{esc(i.key)}"><td>{esc(i.name(lang))}</td>'
                f'<td class="num">{esc(format_number(i.value))}</td>'
                f"<td>{esc(i.unit_label(lang))}</td><td>{esc(i.definition(lang))}</td></tr>"
            )
        out += ["</tbody>", "</table>"]
    out.append("</section>")
    for sec in sections:
        out += _section_html(sec, 2, embed_images, relative_to)
    if images:
        out.append(f'<section id="maps"><h2>{esc(lab["report_maps"])}</h2>')
        out += [_figure_html(Path(img), embed_images, relative_to) for img in images]
        out.append("</section>")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def write_report(
    path: str | Path,
    indicators: Sequence[Indicator],
    *,
    lang: str = "en",
    title: str | None = None,
    summary: Sequence[str] = (),
    images: Sequence[str | Path] = (),
    sections: Sequence[Section] = (),
) -> Path:
    """Write the report as Markdown (``.md``) or HTML (``.html``, ``.htm``), UTF-8.

    Markdown links the images relative to the report's folder; HTML embeds them.

    Raises
    ------
    InputError
        Another file suffix, or an unreadable image.
    """
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix == ".md":
        text = report_markdown(indicators, lang=lang, title=title, summary=summary,
                               images=images, relative_to=out.parent,
                               sections=sections)  # fmt: skip
    elif suffix in (".html", ".htm"):
        text = report_html(
            indicators, lang=lang, title=title, summary=summary, images=images, sections=sections
        )
    else:
        raise InputError(f"report {out}: use a .md or .html file name")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out


__all__ = ["HEADLINE_KEYS", "Section", "headline", "report_html", "report_markdown", "write_report"]
