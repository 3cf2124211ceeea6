"""The desk's live page of a call: plain HTML and one small same-origin script, no build step.

The page asks for a bearer token once (or takes a ticket from its address's fragment, which is
never sent to the server), trades it for a board ticket (`POST /calls/{id}/board-tickets`),
keeps the ticket in the tab's session storage, and opens the call's picture stream with an
`EventSource`. It writes only text into the page (`textContent`), never markup from data.
The Content-Security-Policy allows scripts, styles and connections from the API's own origin
only (inline styles for the page's own style block), as the documentation pages do.
"""

from __future__ import annotations

__all__ = ["BOARD_SCRIPT", "CONTENT_SECURITY_POLICY", "board_page"]

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline';"
    " connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none';"
    " frame-ancestors 'none'"
)

_PAGE = """<!DOCTYPE html>
<html lang="nl">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Oproep - Verbinders</title>
  <style>
    body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1b1b1b; }
    h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
    .meta { color: #555; margin-bottom: 1rem; }
    .counts { display: flex; gap: 1rem; flex-wrap: wrap; margin: 1rem 0; }
    .count { border: 1px solid #ccc; border-radius: .5rem; padding: .5rem 1rem; min-width: 7rem; }
    .count b { display: block; font-size: 2rem; }
    table { border-collapse: collapse; margin: .5rem 0 1.5rem; }
    th, td { border-bottom: 1px solid #ddd; padding: .25rem .75rem; text-align: left; }
    #status { font-size: .9rem; color: #555; }
    #login[hidden], #board[hidden] { display: none; }
  </style>
</head>
<body>
  <main id="app" data-call="{call_id}">
    <form id="login" hidden>
      <label>Token <input id="token" type="password" autocomplete="off" size="60"></label>
      <button type="submit">Open het bord</button>
      <p id="login-error"></p>
    </form>
    <section id="board" hidden>
      <h1 id="title">...</h1>
      <div class="meta"><span id="kind"></span> · <span id="state"></span>
        · reageren vóór <span id="respond-by"></span></div>
      <div class="counts">
        <div class="count">aangeschreven<b id="addressed">0</b></div>
        <div class="count">bereikt<b id="reached">0</b></div>
        <div class="count">ontvangen<b id="acknowledged">0</b></div>
        <div class="count">gereageerd<b id="responded">0</b></div>
        <div class="count">beschikbaar<b id="available">0</b></div>
        <div class="count">vrijwilligers<b id="volunteers">0</b></div>
      </div>
      <h2>Wat er nodig is</h2>
      <table><thead><tr><th>behoefte</th><th>soort</th><th>aantal</th><th>wijk</th>
        <th>taal</th><th>geclaimd door</th></tr></thead><tbody id="needs"></tbody></table>
      <h2>Per wijk</h2>
      <table><thead><tr><th>wijk</th><th>nodig</th><th>aangeboden</th><th>organisaties</th>
        </tr></thead><tbody id="by-district"></tbody></table>
      <h2>Per taal</h2>
      <table><thead><tr><th>taal</th><th>nodig</th><th>aangeboden</th><th>organisaties</th>
        </tr></thead><tbody id="by-language"></tbody></table>
      <p id="status">verbinden...</p>
    </section>
  </main>
  <script src="/board/board.js"></script>
</body>
</html>
"""

BOARD_SCRIPT = b"""\
// Verbinders: the live board of one call (see verbinders/api/board_page.py).
(function () {
  "use strict";
  var app = document.getElementById("app");
  var callId = app.dataset.call;
  var key = "verbinders-board-" + callId;

  function $(id) { return document.getElementById(id); }
  function shown(value) { return value === null || value === undefined ? "" : String(value); }
  function text(id, value) { $(id).textContent = shown(value); }

  function rows(id, items, cells) {
    var body = $(id);
    while (body.firstChild) { body.removeChild(body.firstChild); }
    items.forEach(function (item) {
      var tr = document.createElement("tr");
      cells(item).forEach(function (value) {
        var td = document.createElement("td");
        td.textContent = shown(value);
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }

  function render(p) {
    text("title", p.title);
    text("kind", p.kind);
    text("state", p.state);
    text("respond-by", new Date(p.respond_by).toLocaleString("nl-NL"));
    ["addressed", "reached", "acknowledged", "responded", "available"].forEach(function (k) {
      text(k, p[k]);
    });
    text("volunteers", p.volunteers_offered);
    rows("needs", p.needs, function (n) {
      return [n.description, n.kind, n.quantity, n.district || "hele stad", n.language,
              n.claimed_by_name || n.claimed_by];
    });
    var tally = function (t) {
      return [t.key || "hele stad", t.needed, t.offered, t.organisations];
    };
    rows("by-district", p.by_district, tally);
    rows("by-language", p.by_language, tally);
    app.dataset.position = String(p.position);
    text("status", "bijgewerkt " + new Date().toLocaleTimeString("nl-NL"));
  }

  function watch(ticket) {
    $("login").hidden = true;
    $("board").hidden = false;
    var source = new EventSource(
      "/calls/" + callId + "/picture/stream?ticket=" + encodeURIComponent(ticket));
    source.addEventListener("picture", function (event) { render(JSON.parse(event.data)); });
    source.onerror = function () { text("status", "verbinding verbroken, opnieuw verbinden..."); };
  }

  function login() {
    $("login").hidden = false;
    $("login").addEventListener("submit", function (event) {
      event.preventDefault();
      fetch("/calls/" + callId + "/board-tickets", {
        method: "POST",
        headers: { "Authorization": "Bearer " + $("token").value.trim() }
      }).then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) { throw new Error(body.detail || response.statusText); }
          sessionStorage.setItem(key, body.ticket);
          watch(body.ticket);
        });
      }).catch(function (error) { text("login-error", error.message); });
    });
  }

  var fragment = new URLSearchParams(window.location.hash.slice(1));
  var ticket = fragment.get("ticket");
  if (ticket) {
    sessionStorage.setItem(key, ticket);
    history.replaceState(null, "", window.location.pathname);
  } else {
    ticket = sessionStorage.getItem(key);
  }
  if (ticket) { watch(ticket); } else { login(); }
})();
"""


def board_page(call_id: str) -> bytes:
    """The page for one call (`call_id` already escaped)."""
    return _PAGE.replace("{call_id}", call_id).encode()
