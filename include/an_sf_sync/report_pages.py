"""The sync report as pages a CRM admin can act on: escaped HTML, an inline SVG chart, a CSV download.

Everything is server-rendered, with no script and no external asset, so the pages work inside the
Airflow UI's frame, at narrow widths (wide tables scroll in their own focusable region) and with a
screen reader (captions, header scopes, labelled controls, a text alternative for the chart).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

from an_sf_sync.plan import Action, Direction
from an_sf_sync.reasons import KIND_LABELS, reason
from an_sf_sync.staging import retention
from an_sf_sync.staging.report import (
    COLUMNS,
    HISTORY_DAYS,
    PROBLEMS,
    SCOPES,
    ObjectRow,
    RejectFilter,
    RunDetail,
    RunSummary,
)

DIRECTION_LABELS: dict[str, str] = {Direction.TO_SALESFORCE: "Action Network → Salesforce",
                                     Direction.TO_ACTIONNETWORK: "Salesforce → Action Network",
                                     Direction.LOCAL: "Pairs (both sides)"}
COLUMN_LABELS = {"read": "Read", "created": "Created", "updated": "Updated", "linked": "Linked",
                 "unlinked": "Unlinked", "subscribed": "Subscribed", "unsubscribed": "Unsubscribed",
                 "waiting": "Waiting", "noted": "Repaired", "not_in_scope": "Not in scope", "skipped": "Skipped",
                 "failed": "Failed"}
DRY_LABELS = {"created": "Would create", "updated": "Would update", "linked": "Would link",
              "unlinked": "Would unlink", "subscribed": "Would subscribe", "unsubscribed": "Would unsubscribe"}
ALWAYS_SHOWN = ("read", "created", "updated", "not_in_scope", "skipped", "failed")
SCOPE_LABELS = {"problems": "Problems to fix", "not_in_scope": "Not in scope", "all": "All"}
ACTION_LABELS: dict[str, str] = {Action.CREATE: "create", Action.UPDATE: "update", Action.SUBSCRIBE: "subscribe",
                                 Action.UNSUBSCRIBE: "unsubscribe"}
CSV_COLUMNS = ("run_id", "source", "object", "record_id", "record_url", "reason_code", "reason", "what_to_do",
               "message", "created_at")
_SF_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
_AN_PATHS = {"person": "people", "donation": "donations"}  # Action Network API resources by reject object
_FORMULA = ("=", "+", "-", "@", "\t", "\r")

_STYLE = """
*, *::before, *::after { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, sans-serif; margin: 0; padding: 1rem; color: #1a202c; background: #fff; }
main { max-width: 80rem; }
h1 { font-size: 1.35rem; margin: 0 0 .25rem; overflow-wrap: anywhere; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; } h3 { font-size: 1rem; margin: 1rem 0 .35rem; }
p { margin: .25rem 0 .75rem; } .lead { color: #2d3748; }
.scroll { overflow-x: auto; max-width: 100%; margin-bottom: .75rem; }
.scroll:focus { outline: 2px solid #2b6cb0; outline-offset: 2px; }
table { border-collapse: collapse; min-width: 100%; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; position: sticky; left: 0;
  max-width: calc(100vw - 2rem); }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #cbd5e0; vertical-align: top; }
thead th { background: #edf2f7; } th[scope=row] { font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.zero { color: #4a5568; }
.status { padding: .05rem .5rem; border-radius: .6rem; font-size: .85rem; background: #e2e8f0; white-space: nowrap; }
.succeeded { background: #c6f6d5; } .failed { background: #fed7d7; } .incomplete, .running { background: #fefcbf; }
.dry { background: #bee3f8; }
.empty { color: #4a5568; font-style: italic; }
a { color: #2b5797; } a:focus, button:focus, select:focus { outline: 2px solid #2b5797; outline-offset: 2px; }
form.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: flex-end; margin: .5rem 0 1rem; }
form.filters label { display: flex; flex-direction: column; font-size: .9rem; font-weight: 600; min-width: 0;
  max-width: 100%; }
select, button { font: inherit; padding: .3rem .5rem; min-height: 2.25rem; max-width: 100%; }
select { width: 100%; text-overflow: ellipsis; }
button { background: #2b5797; color: #fff; border: 0; border-radius: .25rem; cursor: pointer; }
.chart { margin: .5rem 0 1rem; } .chart svg { display: block; width: 100%; height: 6rem; background: #f7fafc; }
.chart p { margin: .15rem 0; font-size: .9rem; }
.code { font-family: ui-monospace, monospace; font-size: .85rem; color: #2d3748; }
.message { color: #2d3748; font-size: .9rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
  white-space: nowrap; }
@media (max-width: 40rem) { body { padding: .6rem; } th, td { padding: .3rem .4rem; } }
"""


def page(title: str, body: str) -> str:
    return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body><main>{body}</main></body></html>")


def _when(value: datetime | None) -> str:
    return escape(value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()) if value else "—"


def _status(status: str) -> str:
    return f'<span class="status {escape(status)}">{escape(status)}</span>'


_DRY = ' <span class="status dry">dry run</span>'
_NUMERIC = ' class="n"'


def _num(value: int) -> str:
    return f'<td class="n{" zero" if not value else ""}">{value:,}</td>'


def _table(caption: str, headers: list[str], rows: list[str], empty: str, numeric: Iterable[int] = ()) -> str:
    """A captioned table (``rows`` are rendered ``<tr>``s) in a scrollable region; else the ``empty`` line."""
    if not rows:
        return f'<p class="empty">{escape(empty)}</p>'
    numeric = set(numeric)
    head = "".join(f'<th scope="col"{_NUMERIC if i in numeric else ""}>{escape(h)}</th>'
                   for i, h in enumerate(headers))
    return (f'<div class="scroll" role="region" aria-label="{escape(caption)}" tabindex="0"><table>'
            f"<caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def run_link(run_id: str) -> str:
    """Where a run's page is, relative to the report's root."""
    return f"run?run_id={quote(run_id, safe='')}"


def record_url(links: dict[str, str], source: str, obj: str, record_id: str | None) -> str | None:
    """The record in Salesforce (the org's instance URL + Id) or in Action Network's API, when known.

    Action Network documents no address of a person's or a donation's page in its web app, so its
    records link to their API resource (readable with the group's API key).
    """
    if not record_id:
        return None
    if source == "salesforce" and links.get("salesforce") and _SF_ID.match(record_id):
        return f"{links['salesforce'].rstrip('/')}/{quote(record_id)}"
    if source == "actionnetwork" and links.get("actionnetwork") and obj in _AN_PATHS:
        return f"{links['actionnetwork'].rstrip('/')}/{_AN_PATHS[obj]}/{quote(record_id)}"
    return None


# ---- the chart -----------------------------------------------------------------------------------

def _bars(title: str, runs: list[RunSummary], values: list[int], color: str) -> str:
    """One series as an SVG bar chart with a text alternative (the exact figures are in the table below)."""
    width, height, top = 600, 100, max(values, default=0) or 1
    step = width / max(len(values), 1)
    bars = "".join(
        f'<rect x="{i * step + step * .1:.1f}" y="{height - v / top * height:.1f}" width="{step * .8:.1f}"'
        f' height="{v / top * height:.1f}" fill="{color}"><title>{escape(r.run_id)}: {v:,}</title></rect>'
        for i, (r, v) in enumerate(zip(runs, values, strict=True)))
    summary = (f"{title}: {len(values)} runs, {sum(values):,} in all, at most {max(values, default=0):,} in one run"
               if values else f"{title}: no runs")
    return (f'<figure class="chart"><svg viewBox="0 0 {width} {height}" preserveAspectRatio="none" role="img"'
            f' aria-label="{escape(summary)}"><title>{escape(summary)}</title>{bars}</svg>'
            f"<figcaption><p>{escape(summary)}.</p></figcaption></figure>")


def render_chart(history: list[RunSummary], days: int = HISTORY_DAYS) -> str:
    if not history:
        return f'<p class="empty">No run in the last {days} days.</p>'
    rows = [f'<tr><th scope="row"><a href="{escape(run_link(r.run_id))}">{escape(r.run_id)}</a></th>'
            f"<td>{_when(r.finished_at or r.started_at)}</td>{_num(r.moved)}{_num(r.rejects)}</tr>" for r in history]
    return (f"<h2>The last {days} days</h2>"
            + _bars("Records moved per run", history, [r.moved for r in history], "#2b6cb0")
            + _bars("Open rejects per run (problems to fix)", history, [r.rejects for r in history], "#c53030")
            + "<details><summary>The chart's figures</summary>"
            + _table("Records moved and open rejects per run", ["Run", "When", "Moved", "Open rejects"], rows, "",
                     numeric=(2, 3)) + "</details>")


# ---- all runs ------------------------------------------------------------------------------------

def render_runs(summaries: list[RunSummary], history: list[RunSummary] | None = None) -> str:
    rows = [f'<tr><th scope="row"><a href="{escape(run_link(s.run_id))}">{escape(s.run_id)}</a></th>'
            f"<td>{_status(s.status)}{_DRY if s.dry_run else ''}"
            f"</td><td>{_when(s.started_at)}</td><td>{_when(s.finished_at)}</td>"
            f"{_num(s.read)}{_num(s.moved)}{_num(s.rejects)}{_num(s.not_in_scope)}{_num(s.conflicts)}</tr>"
            for s in summaries]
    return page("Sync report", (
        "<h1>Sync report</h1><p class=\"lead\">Action Network ⇄ Salesforce: what each run read and moved, the"
        " records someone has to fix (open rejects, each with a reason and what to do), the records the sync"
        " leaves out by design (not in scope) and the fields both sides changed (conflicts).</p>"
        + render_chart(history or [])
        + "<h2>Runs</h2>"
        + _table("The latest runs, newest first",
                 ["Run", "Status", "Started", "Finished", "Read", "Moved", "Open rejects", "Not in scope",
                  "Conflicts"], rows, "No runs recorded yet: trigger the DAG, and each run shows up here.",
                 numeric=(4, 5, 6, 7, 8))))


# ---- one run -------------------------------------------------------------------------------------

def _objects(rows: list[ObjectRow], dry_run: bool) -> str:
    shown = [c for c in COLUMNS if c in ALWAYS_SHOWN or any(r.counts[c] for r in rows)]
    label = {c: DRY_LABELS.get(c, COLUMN_LABELS[c]) if dry_run else COLUMN_LABELS[c] for c in shown}
    body = [f'<tr><th scope="row">{escape(r.group)}</th><td>{escape(DIRECTION_LABELS.get(r.direction, r.direction))}'
            f"</td>{''.join(_num(r.counts[c]) for c in shown)}</tr>" for r in rows]
    caption = "What the run would write, per object and direction (dry run: nothing was written)" if dry_run \
        else "What the run read and wrote, per object and direction"
    return _table(caption, ["Object", "Direction", *(label[c] for c in shown)], body,
                  "Nothing was read or planned in this run.", numeric=range(2, 2 + len(shown)))


def _preview(preview: list[dict[str, Any]]) -> str:
    if not preview:
        return '<p class="empty">The dry run would write nothing.</p>'
    parts = []
    for entry in preview:
        rows = [f"<tr><td>{escape(str(s['an_id'] or '—'))}</td><td>{escape(str(s['sf_id'] or '—'))}</td>"
                f"<td>{escape(_fields(s['payload']))}</td></tr>" for s in entry["sample"]]
        what = (f"{entry['object']}: {ACTION_LABELS.get(entry['action'], entry['action'])}, "
                f"{DIRECTION_LABELS.get(entry['direction'], entry['direction'])} ({entry['records']:,} records;"
                f" the first {len(rows)})")
        parts.append(_table(what[0].upper() + what[1:], ["Action Network id", "Salesforce id", "Values"], rows, ""))
    return "".join(parts)


def _fields(payload: dict[str, Any], most: int = 5) -> str:
    """A plan row's values in one line: ``email: a@b.org, last_name: Doe``."""
    fields = payload.get("fields")
    values = fields if isinstance(fields, dict) else payload
    items = [(k, v) for k, v in values.items()
             if k not in ("base", "description") and v not in (None, "", {}) and not isinstance(v, dict | list)]
    return ", ".join(f"{k}: {v}" for k, v in items[:most]) or "—"


def _select(name: str, label: str, options: list[tuple[str, str]], chosen: str | None) -> str:
    opts = "".join(f'<option value="{escape(v)}"{" selected" if v == (chosen or "") else ""}>{escape(t)}</option>'
                   for v, t in options)
    return f'<label for="f-{name}">{escape(label)}<select id="f-{name}" name="{name}">{opts}</select></label>'


def filter_query(run_id: str, rejects: RejectFilter) -> str:
    return urlencode({k: v for k, v in (("run_id", run_id), ("reason", rejects.reason), ("object", rejects.object),
                                        ("scope", rejects.scope)) if v})


def _rejects(detail: RunDetail, rejects: RejectFilter) -> str:
    run_id = detail.run.run_id
    reasons = sorted({r["reason_code"] for r in detail.reject_reasons})
    objects = sorted({r["object"] for r in detail.reject_reasons})
    form = ('<form class="filters" method="get" action="run" aria-label="Filter the open rejects">'
            f'<input type="hidden" name="run_id" value="{escape(run_id)}">'
            + _select("scope", "Show", [(s, SCOPE_LABELS[s]) for s in SCOPES], rejects.scope)
            + _select("reason", "Reason", [("", "Every reason")] + [(c, f"{reason(c).label} ({c})") for c in reasons],
                      rejects.reason)
            + _select("object", "Object", [("", "Every object")] + [(o, o) for o in objects], rejects.object)
            + '<button type="submit">Show rejects</button></form>')
    csv_link = (f'<p><a href="rejects.csv?{escape(filter_query(run_id, rejects))}" download>Download these rejects'
                f" as CSV ({detail.matching:,} rows)</a></p>")
    rows = []
    for r in detail.rejects:
        why = reason(r["reason_code"])
        url = record_url(detail.links, r["source"], r["object"], r["record_id"])
        record = escape(r["record_id"] or "—")
        where = "Salesforce" if r["source"] == "salesforce" else "Action Network"
        cell = (f'<a href="{escape(url)}" target="_blank" rel="noopener noreferrer">{record}'
                f'<span class="visually-hidden"> (opens in {where})</span></a>' if url else record)
        rows.append(f'<tr><th scope="row">{cell}</th><td>{escape(r["object"])}</td><td>{escape(where)}</td>'
                    f'<td>{escape(why.label)} <span class="code">{escape(r["reason_code"])}</span>'
                    f'<div class="message">{escape(r["message"])}</div></td><td>{escape(why.action)}</td></tr>')
    shown = (f"<p>Showing the first {len(rows):,} of {detail.matching:,}; the CSV has them all.</p>"
             if detail.matching > len(rows) else "")
    return form + csv_link + shown + _table(
        f"Open rejects: {SCOPE_LABELS[rejects.scope].lower()}", ["Record", "Object", "From", "Reason", "What to do"],
        rows, "No open reject matches these filters.")


def _reasons(detail: RunDetail) -> str:
    rows = [f'<tr><th scope="row">{escape(reason(r["reason_code"]).label)}</th>'
            f'<td class="code">{escape(r["reason_code"])}</td><td>{escape(r["object"])}</td>'
            f'<td>{KIND_LABELS[reason(r["reason_code"]).kind]}</td>'
            f'{_num(r["records"])}{_num(r["open"])}</tr>' for r in detail.reject_reasons]
    return _table("Rejects per reason", ["Reason", "Code", "Object", "Kind", "Records", "Still open"], rows,
                  "Nothing was rejected.", numeric=(4, 5))


def render_run(detail: RunDetail | None, run_id: str, rejects: RejectFilter = PROBLEMS) -> str:
    if detail is None:
        return page(f"Sync report: {run_id}", (
            f"<h1>Run {escape(run_id)}</h1><p class=\"empty\">This run has recorded nothing in staging yet.</p>"
            '<p><a href="./">All runs</a></p>'))
    run = detail.run
    conflicts = [f"<tr><th scope=\"row\">{escape(c['field'])}</th>"
                 + "".join(f"<td>{escape(str(c[k]) if c[k] is not None else '')}</td>"
                           for k in ("an_id", "sf_id", "an_value", "sf_value", "winner")) + "</tr>"
                 for c in detail.conflicts]
    preview = ("<h2>Preview: what this dry run would write</h2><p>Nothing was written to either side. Per object,"
               " the records the run would create or update, with a sample of each.</p>" + _preview(detail.preview)
               if run.dry_run else "")
    return page(f"Sync report: {run.run_id}", (
        '<p><a href="./">← All runs</a></p>'
        f"<h1>Run {escape(run.run_id)} {_status(run.status)}{_DRY if run.dry_run else ''}</h1>"
        f'<p class="lead">Started {_when(run.started_at)}, finished {_when(run.finished_at)}.'
        f" {run.moved:,} records moved, {run.rejects:,} open rejects to fix, {run.not_in_scope:,} records"
        " not in scope.</p>"
        + ("<p class=\"empty\">The records this run wrote are no longer kept: staged copies and plans are removed"
           f" after the days of the variable <code>{retention.VARIABLE}</code> ({retention.DEFAULT_DAYS} by default)."
           " Its counts read,"
           " its rejects and its conflicts remain.</p>" if detail.pruned else "")
        + f"<h2>Per object</h2>{_objects(detail.objects, run.dry_run)}"
        "<p>Not in scope: records the sync leaves out by design (a Contact outside the Subscribers campaign,"
        " an upload, a ticketed event…). Skipped: records a person has to fix before they can sync. Failed:"
        " writes the other system refused. Repaired: values the sync fixed or shortened itself.</p>"
        + preview
        + f"<h2>Rejects ({run.rejects + run.not_in_scope})</h2>" + _reasons(detail)
        + "<h3>Open rejects</h3>" + _rejects(detail, rejects)
        + f"<h2>Conflicts ({run.conflicts})</h2>"
        + _table("Fields both sides changed; the later change won",
                 ["Field", "Action Network id", "Salesforce id", "Action Network value", "Salesforce value",
                  "Winner"], conflicts, "No field was changed on both sides.")))


# ---- CSV -------------------------------------------------------------------------------------------

def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA) else text


def rejects_csv(run_id: str, rejects: Iterable[dict[str, Any]], links: dict[str, str]) -> Iterator[str]:
    """The rejects as CSV, a chunk of lines at a time."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for n, r in enumerate(rejects, 1):
        why = reason(r["reason_code"])
        writer.writerow([_cell(v) for v in (
            run_id, r["source"], r["object"], r["record_id"], record_url(links, r["source"], r["object"],
                                                                          r["record_id"]),
            r["reason_code"], why.label, why.action, r["message"], r["created_at"])])
        if n % 1000 == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()
