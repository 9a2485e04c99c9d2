"""Drive headless Chromium from the tests: load a file:// page, dump its DOM, screenshot it, and
list the requests it made (Chromium's JSON net log).

Chromium comes from the system (Debian ``chromium``, installed by ``scripts/install-system
--test``). Without it the browser tests are skipped with the reason, unless
``GRAPHFRAUD_REQUIRE_BROWSER=1`` (CI sets it), which turns the skip into a failure.

Every run uses a fresh profile, and ``--host-resolver-rules`` so that no host name resolves:
nothing leaves the machine, yet every request the page attempts is still in the net log. The
browser's own background requests (update checks, time, sign-in) are told apart from the
page's by their initiator: Chromium marks them "not an origin", while a file:// page's
requests come from the opaque origin "null" within the file:// network partition.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from dataclasses import dataclass, field
from pathlib import Path

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
LOCAL_SCHEMES = ("file", "data", "blob", "about", "chrome", "devtools")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--no-first-run", "--no-default-browser-check", "--disable-component-update",
         "--disable-sync", "--disable-extensions", "--disable-default-apps",
         "--host-resolver-rules=MAP * ~NOTFOUND"]


def chromium_path() -> str | None:
    """The browser to use: ``$GRAPHFRAUD_CHROMIUM`` or the first of :data:`BROWSERS` on PATH."""
    env = os.environ.get("GRAPHFRAUD_CHROMIUM")
    if env:
        return env
    return next((p for p in map(shutil.which, BROWSERS) if p), None)


def need_chromium() -> str:
    """The browser, or skip the test (fail it when ``GRAPHFRAUD_REQUIRE_BROWSER=1``)."""
    path = chromium_path()
    if path is None:
        reason = ("headless Chromium not found (install it with: scripts/install-system --test, "
                  "or set GRAPHFRAUD_CHROMIUM)")
        if os.environ.get("GRAPHFRAUD_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + "; GRAPHFRAUD_REQUIRE_BROWSER=1 requires the browser tests")
        pytest.skip(reason)
    return path


@dataclass
class Request:
    """One request in the net log."""

    url: str
    initiator: str
    from_page: bool

    @property
    def scheme(self) -> str:
        return self.url.split(":", 1)[0].lower()


@dataclass
class PageLoad:
    """What a page did in the browser."""

    dom: str
    requests: list[Request] = field(default_factory=list)
    log: str = ""

    @property
    def outside_requests(self) -> list[str]:
        """URLs the page asked for that are not local (not file:, data:, blob:)."""
        return sorted({r.url for r in self.requests
                       if r.from_page and r.scheme not in LOCAL_SCHEMES})

    def html_attribute(self, name: str) -> str | None:
        """An attribute of the <html> element after the page ran, or None."""
        return parse_dom(self.dom).attribute("html", name)

    def parsed(self) -> Dom:
        return parse_dom(self.dom)


@dataclass
class Dom:
    """Elements of a DOM dump: every start tag with its attributes, and the text inside each
    element that has an id (entities decoded, as a reader sees it)."""

    tags: list[tuple[str, dict[str, str | None]]] = field(default_factory=list)
    text_by_id: dict[str, str] = field(default_factory=dict)

    def attribute(self, tag: str, name: str) -> str | None:
        for t, attrs in self.tags:
            if t == tag:
                return attrs.get(name)
        return None

    def count(self, tag: str) -> int:
        return sum(1 for t, _ in self.tags if t == tag)

    def text(self, element_id: str) -> str:
        return self.text_by_id.get(element_id, "")


_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
         "track", "wbr"}


class _DomParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.dom = Dom()
        self.stack: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.dom.tags.append((tag, a))
        if tag not in _VOID:
            self.stack.append((tag, a.get("id")))
            if a.get("id"):
                self.dom.text_by_id.setdefault(str(a["id"]), "")

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data: str) -> None:
        for _, element_id in self.stack:
            if element_id:
                self.dom.text_by_id[element_id] += data


def parse_dom(dom: str) -> Dom:
    parser = _DomParser()
    parser.feed(dom)
    parser.close()
    return parser.dom


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)


def load(page: Path, *, fragment: str = "", budget_ms: int = 5000,
         window: tuple[int, int] = (1400, 900), timeout: float = 180) -> PageLoad:
    """Open ``page`` (a local file) headless, let it run ``budget_ms`` of virtual time, and
    return its DOM and the requests made while it ran."""
    browser = need_chromium()
    url = Path(page).resolve().as_uri() + (f"#{fragment}" if fragment else "")
    with tempfile.TemporaryDirectory(prefix="gf-browser-") as tmp:
        netlog = Path(tmp) / "netlog.json"
        proc = _run([browser, *FLAGS, f"--user-data-dir={tmp}/profile",
                     f"--window-size={window[0]},{window[1]}",
                     f"--virtual-time-budget={budget_ms}", f"--log-net-log={netlog}",
                     "--dump-dom", url], timeout)
        if proc.returncode != 0 or "<html" not in proc.stdout:
            raise AssertionError(f"chromium failed on {url} (exit {proc.returncode}):\n"
                                 f"{proc.stderr[-3000:]}")
        requests = read_netlog(netlog)
    return PageLoad(dom=proc.stdout, requests=requests, log=proc.stderr)


def screenshot(page: Path, png: Path, *, fragment: str = "", budget_ms: int = 5000,
               window: tuple[int, int] = (1400, 900), timeout: float = 180) -> Path:
    """A PNG of ``page`` after ``budget_ms`` of virtual time."""
    browser = need_chromium()
    url = Path(page).resolve().as_uri() + (f"#{fragment}" if fragment else "")
    with tempfile.TemporaryDirectory(prefix="gf-browser-") as tmp:
        proc = _run([browser, *FLAGS, f"--user-data-dir={tmp}/profile",
                     f"--window-size={window[0]},{window[1]}",
                     f"--virtual-time-budget={budget_ms}", f"--screenshot={png}", url], timeout)
    if proc.returncode != 0 or not Path(png).is_file():
        raise AssertionError(f"chromium made no screenshot of {url} (exit {proc.returncode}):\n"
                             f"{proc.stderr[-3000:]}")
    return Path(png)


def read_netlog(path: Path) -> list[Request]:
    """Requests in a Chromium JSON net log (URL_REQUEST_START_JOB events)."""
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    try:
        log = json.loads(text)
    except ValueError:  # a log cut short: close the event list
        log = json.loads(text.rstrip().rstrip(",") + "]}")
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    out = []
    for ev in log.get("events", []):
        params = ev.get("params") or {}
        if ev.get("type") != start_job or "url" not in params:
            continue
        initiator = str(params.get("initiator", ""))
        partition = str(params.get("network_isolation_key", ""))
        from_page = initiator != "not an origin" or "file://" in partition
        out.append(Request(url=params["url"], initiator=initiator, from_page=from_page))
    return out


_URL_ATTR = re.compile(r"""\b(?:src|href|action|formaction|poster|data|srcset|xlink:href|background
                           |manifest)\s*=\s*["']?\s*((?:https?|wss?|ftp):|//)""", re.I | re.X)
_CSS_URL = re.compile(r"""(?:url\(\s*["']?\s*|@import\s+["']?)((?:https?|wss?|ftp):|//)""", re.I)
_FETCHING_LINK = re.compile(r"""<link\b[^>]*\brel\s*=\s*["']?(?:preconnect|dns-prefetch|prefetch
                                |preload|prerender|stylesheet|import|modulepreload)""", re.I | re.X)


def outside_references(html: str) -> list[str]:
    """Places in an HTML text that would load something from the network: an attribute or a
    CSS ``url()`` / ``@import`` with an http(s), ws(s) or protocol-relative URL, or a
    ``<link>`` that fetches. The static half of the "opens with no network" check."""
    found = []
    for rx in (_URL_ATTR, _CSS_URL, _FETCHING_LINK):
        for m in rx.finditer(html):
            found.append(html[max(0, m.start() - 20): m.end() + 40])
    return found


def colour_pixels(png: Path, colour: str, *, tolerance: int = 6) -> int:
    """How many pixels of the PNG are within ``tolerance`` (per channel) of ``colour``."""
    from PIL import Image

    want = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
    with Image.open(png) as img:
        rgb = img.convert("RGB")
        return sum(count for count, px in rgb.getcolors(maxcolors=1 << 24) or []
                   if all(abs(a - b) <= tolerance for a, b in zip(px, want)))
