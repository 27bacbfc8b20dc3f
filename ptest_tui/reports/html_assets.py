"""The fixed parts of the HTML report: its stylesheet, its script and its security policy.

Everything is inlined so the report is one file that opens from disk, from a CI artifact
or from an email, without a server or network. Nothing here depends on the run: run data
reaches the script only through ``data-`` attributes, never by pasting it into code.
"""

from __future__ import annotations

import base64
import hashlib

# Outcome colours (GitHub's Primer palette: readable on white, distinct for the common
# forms of colour blindness when paired with the outcome word, which is always shown).
OUTCOME_COLOURS = {
    "passed": "#1a7f37",
    "failed": "#cf222e",
    "error": "#a40e26",
    "skipped": "#9a6700",
    "xfailed": "#6e7781",
    "xpassed": "#0969da",
    "cancelled": "#57606a",
}

CSS = """
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0;
  --bg-soft: #f6f8fa; --ok: #dafbe1; --fail: #ffebe9; --warn: #fff8c5; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); margin: 0 auto; padding: 1.5rem; max-width: 1200px; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .75rem; border-bottom: 1px solid var(--line);
  padding-bottom: .25rem; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.meta { color: var(--muted); margin: .25rem 0; }
.run-message { background: var(--warn); padding: .5rem .75rem; border-radius: 6px;
  white-space: pre-wrap; }
.badge { display: inline-block; padding: 0 .5em; border-radius: 1em; color: #fff;
  font-size: .8em; font-weight: 600; vertical-align: middle; background: #57606a; }
.tiles { display: flex; flex-wrap: wrap; gap: .5rem; list-style: none; padding: 0; }
.tile { border: 1px solid var(--line); border-radius: 6px; padding: .4rem .8rem;
  min-width: 6.5rem; background: var(--bg-soft); }
.tile b { display: block; font-size: 1.4rem; }
.tile.zero { opacity: .45; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .5rem; text-align: left;
  vertical-align: top; }
thead th { background: var(--bg-soft); position: sticky; top: 0; }
.matrix { width: auto; }
.matrix td { text-align: center; min-width: 6rem; font-variant-numeric: tabular-nums; }
.cell-ok { background: var(--ok); }
.cell-fail { background: var(--fail); font-weight: 600; }
.cell-warn { background: var(--warn); }
.cell-none { color: var(--muted); }
.filters { display: flex; flex-wrap: wrap; gap: .35rem; margin-bottom: .5rem; }
.filters button { font: inherit; border: 1px solid var(--line); background: #fff;
  border-radius: 6px; padding: .15rem .6rem; cursor: pointer; }
.filters button[aria-pressed="true"] { background: var(--fg); color: #fff; }
.shown { color: var(--muted); margin-left: auto; align-self: center; }
.results td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.results td.case { word-break: break-word; }
.parent { color: var(--muted); font-size: .85em; }
tr.detail td { border-bottom-width: 2px; padding-top: 0; }
details summary { cursor: pointer; color: var(--muted); white-space: pre-wrap;
  word-break: break-word; }
details h4 { margin: .6rem 0 .2rem; font-size: .85rem; }
pre { background: var(--bg-soft); border: 1px solid var(--line); border-radius: 6px;
  padding: .5rem; margin: 0; max-height: 28rem; overflow: auto; white-space: pre-wrap;
  word-break: break-word; font-size: 12px; }
.chart text { font-size: 12px; fill: var(--fg); }
.chart .value { fill: var(--muted); }
footer { margin-top: 2rem; color: var(--muted); font-size: .85em; }
""" + "".join(
    f".o-{name} {{ color: {colour}; }} .badge.o-{name} {{ background: {colour}; color: #fff; }}"
    f" .chart .o-{name} {{ fill: {colour}; }}\n"
    for name, colour in OUTCOME_COLOURS.items()
)

# Status filter. The filter bar starts hidden, so a reader without script sees every
# result and no dead buttons. The chosen filter goes into the URL fragment, so a link can
# open the report filtered ("report.html#failed").
SCRIPT = """
(function () {
  "use strict";
  var bar = document.querySelector(".filters");
  if (!bar) { return; }
  var buttons = Array.prototype.slice.call(bar.querySelectorAll("button[data-filter]"));
  var rows = Array.prototype.slice.call(document.querySelectorAll("tbody.result"));
  var shown = bar.querySelector(".shown");
  function matches(row, filter) {
    if (filter === "all") { return true; }
    if (filter === "flaky") { return row.getAttribute("data-flaky") === "1"; }
    return row.getAttribute("data-status") === filter;
  }
  function apply(filter) {
    if (!buttons.some(function (b) { return b.getAttribute("data-filter") === filter; })) {
      filter = "all";
    }
    var count = 0;
    rows.forEach(function (row) {
      var show = matches(row, filter);
      row.hidden = !show;
      if (show) { count += 1; }
    });
    buttons.forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-filter") === filter));
    });
    if (shown) { shown.textContent = "showing " + count + " of " + rows.length; }
  }
  buttons.forEach(function (b) {
    b.addEventListener("click", function () {
      var filter = b.getAttribute("data-filter");
      apply(filter);
      if (window.history && window.history.replaceState) {
        window.history.replaceState(null, "", filter === "all" ? " " : "#" + filter);
      }
    });
  });
  bar.hidden = false;
  apply(decodeURIComponent(window.location.hash.slice(1)) || "all");
})();
"""


def _sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


# Nothing may load from anywhere, and only our own script (by its hash) may run: even if a
# case name slipped through escaping as a <script>, the browser would refuse to run it.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    f"script-src {_sha256_source(SCRIPT)}; base-uri 'none'; form-action 'none'"
)
