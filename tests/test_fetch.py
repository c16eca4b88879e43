"""`papers fetch` against a real HTTP server on 127.0.0.1, started here.

The server answers `/api/daily_papers?date=D&limit=L&p=P` from the real API files in
`../shared/hf-api/` (or our own small fixture when `../shared` is absent), pages them, and
plays the faults a test scripts: a 500, a 429 with Retry-After, a stall, a cut-off body, an
HTML page. No test reaches the internet: the proxy variables are cleared, and the one test
of proxies points them at this server too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import FIXTURES, SHARED

from papers.index.fetch import (
    FETCHED_DIR,
    STATE_FILE,
    FetchFailed,
    Network,
    fetch,
    plan_days,
)
from papers.tui.cli import cli

API_FILES = SHARED / "hf-api" if (SHARED / "hf-api").is_dir() else FIXTURES / "fetch"
# Ten days around three days with papers (the real files and our fixture share these dates);
# 27 and 28 September 2025 are a weekend.
TODAY = date(2025, 10, 3)
TEN_DAYS = plan_days(TODAY, days=10)
WITH_PAPERS = [date(2025, 9, 26), date(2025, 9, 29), date(2025, 10, 3)]
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def papers_in(day: date) -> list[dict]:
    return json.loads((API_FILES / f"{day.isoformat()}.json").read_bytes())


# -- the server ------------------------------------------------------------------------------


class Hub(ThreadingHTTPServer):
    """The Daily Papers API for the days in `files`, and the faults queued in `faults`."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.files = {p.stem: p.read_bytes() for p in API_FILES.glob("*.json")}
        self.faults: list[tuple] = []  # one per request, first in first out
        self.day_faults: dict[str, list[tuple]] = {}  # the same, for one day's requests
        self.requests: list[dict] = []  # date, limit, p, host, at (monotonic)
        self.ignore_paging = False
        self.release = threading.Event()  # lets stalled handlers go at the end
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def asked(self) -> list[tuple[str, int]]:
        return [(r["date"], r["p"]) for r in self.requests]

    def days_asked(self) -> list[str]:
        return sorted({r["date"] for r in self.requests})


class Handler(BaseHTTPRequestHandler):
    server: Hub

    def log_message(self, *args) -> None:  # keep the test output clean
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)  # a proxied request carries the whole URL
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with self.server.lock:
            self.server.requests.append({
                "date": query.get("date"), "limit": int(query.get("limit", 0)),
                "p": int(query.get("p", 0)), "host": parts.netloc or self.headers["Host"],
                "path": parts.path, "at": time.monotonic()})
            queue = self.server.day_faults.get(query.get("date")) or self.server.faults
            fault = queue.pop(0) if queue else None
        if fault is None:
            self.serve(parts.path, query)
        else:
            getattr(self, "fault_" + fault[0])(*fault[1:])

    def serve(self, path: str, query: dict) -> None:
        if path != "/api/daily_papers":
            self.send(404, b'{"error":"Sorry, we can\'t find the page you are looking for."}')
            return
        raw = self.server.files.get(query.get("date", ""), b"[]")
        items = json.loads(raw)
        limit, page = int(query.get("limit", 50)), int(query.get("p", 0))
        if self.server.ignore_paging:
            page = 0
        if page == 0 and len(items) < limit:
            self.send(200, raw)  # the file as saved, byte for byte
        else:
            self.send(200, json.dumps(items[page * limit:(page + 1) * limit]).encode())

    def send(self, status: int, body: bytes, kind: str = "application/json",
             headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def fault_status(self, status: int, headers: dict | None = None) -> None:
        self.send(status, b'{"error":"try later"}', headers=headers)

    def fault_stall(self) -> None:
        """No answer at all until the test ends."""
        self.server.release.wait(30)

    def fault_stall_in_body(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "100000")
        self.end_headers()
        self.wfile.write(b'[{"paper": {"id": "2510.')
        self.wfile.flush()
        self.server.release.wait(30)

    def fault_truncate(self) -> None:
        """A Content-Length the body never reaches: the connection closes half-way."""
        body = self.server.files.get("2025-10-03", b"[]")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.close_connection = True

    def fault_cut(self) -> None:
        """No Content-Length, and the body stops inside an entry: only JSON can tell."""
        body = self.server.files.get("2025-10-03", b"[]")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.close_connection = True

    def fault_html(self) -> None:
        self.send(200, b"<!DOCTYPE html>\n<html><head><title>Sign in to the Wi-Fi</title>"
                       b"</head><body>\x1b[31mwelcome</body></html>", kind="text/html")


@pytest.fixture
def hub():
    server = Hub()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join(10)


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch):
    """Whatever the machine's proxy settings, requests here go straight to 127.0.0.1."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.delenv("HF_ENDPOINT", raising=False)


def quick(hub: Hub, **changes) -> Network:
    """Short waits, so that faults cost milliseconds; a timeout generous enough for a
    loaded CI machine where nothing stalls on purpose."""
    return Network(**{"endpoint": hub.url, "timeout": 10.0, "retries": 2, "backoff": 0.01,
                      **changes})


def run(runner, hub: Hub, *args: str):
    return runner.invoke(cli, ["fetch", "--endpoint", hub.url, "--backoff", "0.01", *args])


def snapshot(home: Path) -> dict:
    """Everything a failed fetch must leave as it was: the fetched files, the sources, the
    manifest and what a search finds."""
    from papers.index.library import Library

    files = {p.name: p.read_bytes() for p in sorted((home / FETCHED_DIR).glob("*"))
             if p.name != ".lock"}
    lib = Library(home)
    try:
        return {"files": files, "sources": (home / "sources.json").read_bytes(),
                "manifest": lib.manifest().files, "papers": all_papers(home)}
    finally:
        lib.close()


def all_papers(home: Path) -> list[str]:
    from papers.index.library import Library

    lib = Library(home)
    try:
        return sorted(h.paper.id for h in lib.search().hits())
    finally:
        lib.close()


def one_line(text: str) -> str:
    assert "Traceback" not in text
    [line] = text.strip().splitlines()
    return line


# -- days, pages and the library ---------------------------------------------------------


def test_a_ten_day_backfill_saves_the_days_with_papers_and_remembers_the_empty_ones(
        home, hub):
    report = fetch(home, TEN_DAYS, today=TODAY, network=quick(hub))

    assert hub.days_asked() == [d.isoformat() for d in TEN_DAYS]
    assert len(hub.requests) == 10  # one page each: no day has 100 papers
    assert report.fetched == report.written == WITH_PAPERS
    assert report.empty == [d for d in TEN_DAYS if d not in WITH_PAPERS]
    folder = home / FETCHED_DIR
    assert sorted(p.name for p in folder.glob("2*.json")) == [
        f"{d.isoformat()}.json" for d in WITH_PAPERS]
    for day in WITH_PAPERS:  # saved as the API sent them
        assert (folder / f"{day}.json").read_bytes() == hub.files[day.isoformat()]
    ids = {e["paper"]["id"] for d in WITH_PAPERS for e in papers_in(d)}
    assert report.papers == sum(len(papers_in(d)) for d in WITH_PAPERS)
    assert report.papers_added == len(ids) and report.papers_updated == 0
    from papers.index.sources import load_sources

    assert load_sources(home) == [folder]
    assert len(all_papers(home)) == len(ids)
    state = json.loads((folder / STATE_FILE).read_text())["days"]
    assert set(state) == {d.isoformat() for d in TEN_DAYS}
    assert state["2025-09-27"] == {"fetched_on": "2025-10-03", "papers": 0}


def test_a_rerun_asks_only_for_today_and_yesterday_until_they_settle(home, hub):
    fetch(home, TEN_DAYS, today=TODAY, network=quick(hub))
    hub.requests.clear()

    again = fetch(home, TEN_DAYS, today=TODAY, network=quick(hub))
    assert hub.days_asked() == ["2025-10-02", "2025-10-03"]
    assert again.skipped == TEN_DAYS[:-2]
    assert (again.written, again.ingest) == ([], None)  # the same bytes: nothing to read

    # Two days later both have settled: they are asked for one last time, then never.
    hub.requests.clear()
    later = TODAY + timedelta(days=2)
    fetch(home, TEN_DAYS, today=later, network=quick(hub))
    assert hub.days_asked() == ["2025-10-02", "2025-10-03"]
    hub.requests.clear()
    final = fetch(home, TEN_DAYS, today=later, network=quick(hub))
    assert hub.requests == [] and final.skipped == TEN_DAYS


def test_a_day_that_changed_updates_its_papers(home, hub):
    fetch(home, [TODAY], today=TODAY, network=quick(hub))
    items = papers_in(TODAY)
    first = items[0]["paper"]
    first["upvotes"] = first["upvotes"] + 500
    hub.files[TODAY.isoformat()] = json.dumps(items).encode()

    report = fetch(home, [TODAY], today=TODAY, network=quick(hub))
    assert report.written == [TODAY]
    assert (report.papers_added, report.papers_updated) == (0, len(items))
    from papers.index.library import Library

    lib = Library(home)
    hits = lib.search(f'arxiv:{first["id"]}').hits()
    lib.close()
    assert [h.paper.upvotes for h in hits] == [first["upvotes"]]


def test_pages_are_read_until_one_comes_back_short(home, hub):
    day = date(2025, 9, 29)
    total = len(papers_in(day))
    report = fetch(home, [day], today=TODAY, network=quick(hub, page_size=2))

    assert hub.asked() == [("2025-09-29", p) for p in range(total // 2 + 1)]
    assert {r["limit"] for r in hub.requests} == {2}
    saved = json.loads((home / FETCHED_DIR / "2025-09-29.json").read_bytes())
    assert [e["paper"]["id"] for e in saved] == [e["paper"]["id"] for e in papers_in(day)]
    assert report.papers == report.papers_added == total


def test_a_server_that_ignores_the_page_is_not_asked_forever(home, hub):
    hub.ignore_paging = True
    day = date(2025, 9, 29)
    report = fetch(home, [day], today=TODAY, network=quick(hub, page_size=2))
    assert hub.asked() == [("2025-09-29", 0), ("2025-09-29", 1)]  # page 1 brought nothing new
    assert report.papers == 2


def test_progress_is_told_over_the_days_then_the_ingest(home, hub):
    heard: list[tuple[str, int, int]] = []
    fetch(home, TEN_DAYS, today=TODAY, network=quick(hub),
          progress=lambda *args: heard.append(args))
    days = [h for h in heard if h[0] == "fetching"]
    assert days == [("fetching", n, 10) for n in range(11)]
    assert heard.index(days[-1]) < len(heard) - 1  # the ingest's stages follow


def test_a_cancel_stops_between_days_and_keeps_whole_files(home, hub, runner):
    report = fetch(home, TEN_DAYS, today=TODAY, network=quick(hub),
                   cancelled=lambda: len(hub.requests) >= 3)
    assert report.cancelled and len(hub.requests) == 3
    assert report.fetched == [date(2025, 9, 26)] and report.ingest is None
    # The file is whole and its folder registered: the next re-scan adds its papers.
    result = runner.invoke(cli, ["index", "--json"])
    assert json.loads(result.output)["papers_added"] == len(papers_in(date(2025, 9, 26)))


def test_in_a_worker_thread_without_ingest_the_files_wait_for_the_next_rescan(home, hub):
    """How the reader calls it: in a thread, progress and cancel as callables, and its own
    re-scan (which refreshes the list) reading the saved files afterwards."""
    from papers.index.ingest import ingest
    from papers.index.sources import load_sources

    done: list = []
    worker = threading.Thread(target=lambda: done.append(
        fetch(home, [TODAY], today=TODAY, network=quick(hub), ingest=False,
              progress=lambda *args: None, cancelled=lambda: False)))
    worker.start()
    worker.join(60)
    [report] = done
    assert report.written == [TODAY] and report.ingest is None and not report.changed
    rescan = ingest(home, load_sources(home))
    assert rescan.papers_added == len(papers_in(TODAY))


def test_a_cancel_ends_a_long_retry_wait(home, hub):
    hub.faults = [("status", 503, {"Retry-After": "100"})]
    started = time.monotonic()
    report = fetch(home, [TODAY], today=TODAY, network=quick(hub),
                   cancelled=lambda: len(hub.requests) >= 1)
    assert report.cancelled and time.monotonic() - started < 30
    assert not (home / FETCHED_DIR / f"{TODAY}.json").exists()


# -- the command line --------------------------------------------------------------------


def test_the_command_backfills_a_range_and_a_rerun_of_the_past_sends_nothing(
        home, hub, runner):
    result = run(runner, hub, "--since", "2025-09-24", "--until", "2025-10-03", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert set(summary) == {"fetched", "written", "empty", "skipped", "failed", "papers",
                            "papers_added", "papers_updated", "cancelled", "folder", "problems"}
    assert summary["fetched"] == [d.isoformat() for d in WITH_PAPERS]
    assert len(summary["empty"]) == 7 and summary["failed"] == summary["skipped"] == []
    assert summary["papers_added"] > 0 and summary["papers_updated"] == 0

    hub.requests.clear()
    again = run(runner, hub, "--since", "2025-09-24", "--until", "2025-10-03")
    assert again.exit_code == 0 and hub.requests == []
    assert again.output == "0 days fetched (0 papers), 10 already final\n"
    assert len(all_papers(home)) == summary["papers_added"]


def test_quiet_prints_nothing_and_the_plain_summary_one_line(home, hub, runner):
    quiet = run(runner, hub, "--date", "2025-09-26", "--quiet")
    assert (quiet.exit_code, quiet.output, quiet.stderr) == (0, "", "")
    loud = run(runner, hub, "--date", "2025-09-29")
    n = len(papers_in(date(2025, 9, 29)))
    assert loud.output == f"1 day fetched ({n} papers); papers: {n} added, 0 updated\n"


def test_hf_endpoint_is_the_default_and_endpoint_wins(home, hub, runner, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", hub.url + "/")
    result = runner.invoke(cli, ["fetch", "--date", "2025-09-26", "--json"])
    assert result.exit_code == 0 and hub.days_asked() == ["2025-09-26"]
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # the discard port: nobody there
    result = run(runner, hub, "--date", "2025-09-29", "--json")
    assert result.exit_code == 0 and hub.days_asked() == ["2025-09-26", "2025-09-29"]


def test_proxies_come_from_the_environment(home, hub, runner, monkeypatch):
    monkeypatch.setenv("http_proxy", hub.url)
    result = runner.invoke(cli, ["fetch", "--endpoint", "http://hub.invalid", "--date",
                                 "2025-09-26", "--json"])
    assert result.exit_code == 0, result.output
    assert [(r["host"], r["path"]) for r in hub.requests] == [
        ("hub.invalid", "/api/daily_papers")]


@pytest.mark.parametrize(("args", "says"), [
    (["--date", "2999-01-01"], "is after today"),
    (["--until", "2025-10-01"], "--until needs --since"),
    (["--since", "2025-10-03", "--until", "2025-10-01"], "is after --until"),
    (["--date", "2025-10-01", "--days", "3"], "give one of"),
    (["--endpoint", "ftp://example.org"], "must be an http(s) URL"),
])
def test_bad_options_exit_2_and_ask_nothing(home, hub, runner, args, says):
    result = runner.invoke(cli, ["fetch", *args])
    assert result.exit_code == 2 and says in one_line(result.stderr)
    assert hub.requests == []


# -- faults: exit 3, one line, and the library as it was -------------------------------


@pytest.fixture
def library(home, hub, runner) -> dict:
    """A library with one fetched day in it; its snapshot."""
    result = run(runner, hub, "--date", "2025-09-26", "--json")
    assert result.exit_code == 0, result.output
    hub.requests.clear()
    return snapshot(home)


def test_a_500_then_a_200_is_fetched(home, hub, runner, library):
    hub.faults = [("status", 500)]
    result = run(runner, hub, "--date", "2025-10-03", "--json")
    assert result.exit_code == 0, result.stderr
    assert hub.asked() == [("2025-10-03", 0)] * 2
    assert json.loads(result.output)["papers_added"] == len(papers_in(TODAY))


def test_a_429_waits_as_long_as_retry_after_says(home, hub, runner, library):
    hub.faults = [("status", 429, {"Retry-After": "1"})]
    result = run(runner, hub, "--date", "2025-10-03", "--json")
    assert result.exit_code == 0, result.stderr
    first, second = hub.requests
    assert second["at"] - first["at"] >= 0.9  # not the 0.01 s backoff


@pytest.mark.parametrize(("faults", "says", "tries"), [
    ([("status", 503)] * 3, "HTTP 503 Service Unavailable (3 tries)", 3),
    ([("status", 429, {"Retry-After": "3600"})], "HTTP 429 Too Many Requests, and it asks to "
                                                 "wait 3600 s", 1),
    ([("status", 404)], "HTTP 404 Not Found", 1),
    ([("stall",)] * 3, "no answer within 0.5 s (3 tries)", 3),
    ([("stall_in_body",)] * 3, "no answer within 0.5 s (3 tries)", 3),
    ([("truncate",)] * 3, "the answer was cut off (3 tries)", 3),
    ([("cut",)], "did not answer with Daily Papers JSON (the answer ends early or is damaged)",
     1),
    ([("html",)], "did not answer with Daily Papers JSON (an HTML page)", 1),
], ids=["500s", "429-too-long", "404", "stall", "stall-in-body", "truncated", "cut", "html"])
def test_a_fault_exits_3_with_one_line_and_changes_nothing(home, hub, runner, library,
                                                           faults, says, tries):
    hub.faults = list(faults)
    result = run(runner, hub, "--date", "2025-10-03", "--timeout", "0.5", "--retries", "2")
    assert result.exit_code == 3, result.output
    line = one_line(result.stderr)
    url = f"{hub.url}/api/daily_papers?date=2025-10-03"
    assert line.startswith(f"papers: could not reach {url}: " if "JSON" not in says
                           else f"papers: {url} ")
    assert line.endswith(f"{says}; nothing changed")
    assert "\x1b" not in line and result.stdout == ""
    assert len(hub.requests) == tries
    assert snapshot(home) == library  # no file, no temporary file, no new paper


def test_a_fault_answers_json_with_json(home, hub, runner, library):
    hub.faults = [("html",)]
    result = run(runner, hub, "--date", "2025-10-03", "--json")
    assert result.exit_code == 3
    answer = json.loads(one_line(result.stderr))
    assert "an HTML page" in answer["error"] and answer["failed"] == ["2025-10-03"]


def test_a_fault_mid_range_keeps_the_days_before_it(home, hub, runner, library):
    hub.day_faults = {"2025-09-29": [("status", 500)] * 3}  # every try
    result = run(runner, hub, "--since", "2025-09-28", "--until", "2025-10-03", "--retries",
                 "2", "--json")
    assert result.exit_code == 3
    answer = json.loads(one_line(result.stderr))
    assert answer["empty"] == ["2025-09-28"]
    assert answer["failed"] == ["2025-09-29", "2025-09-30", "2025-10-01", "2025-10-02",
                                "2025-10-03"]
    assert hub.days_asked() == ["2025-09-28", "2025-09-29"]  # nothing after the fault
    assert answer["error"].endswith("(3 tries); nothing changed")

    hub.day_faults = {"2025-10-03": [("status", 500)] * 3}  # after 2025-09-29 was saved
    result = run(runner, hub, "--since", "2025-09-28", "--until", "2025-10-03", "--retries",
                 "2")
    assert result.exit_code == 3
    assert one_line(result.stderr).endswith(
        "HTTP 500 Internal Server Error (3 tries); the 1 day fetched before it was saved and "
        "added")
    assert sorted(p.name for p in (home / FETCHED_DIR).glob("2*")) == [
        "2025-09-26.json", "2025-09-29.json"]
    ids = {e["paper"]["id"] for d in WITH_PAPERS[:2] for e in papers_in(d)}
    assert len(all_papers(home)) == len(ids)


def test_nothing_is_reached_when_the_port_is_closed(home, runner, library, hub):
    result = runner.invoke(cli, ["fetch", "--endpoint", "http://127.0.0.1:9", "--date",
                                 "2025-10-03", "--retries", "1", "--backoff", "0"])
    assert result.exit_code == 3
    line = one_line(result.stderr)
    assert line == ("papers: could not reach http://127.0.0.1:9/api/daily_papers?"
                    "date=2025-10-03: connection refused (2 tries); nothing changed")
    assert snapshot(home) == library


# -- the HTTP client loads only for `papers fetch` --------------------------------------


def modules_loaded(*args: str, home: Path, cwd: Path) -> set[str]:
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "papers.tui", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**environ, "PAPERS_HOME": str(home)},
                          stdin=subprocess.DEVNULL)
    names = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines()
             if line.startswith("import time:") and line.count("|") == 2}
    assert names, proc.stderr
    return names


HTTP = {"papers.index.fetch", "urllib.request", "http.client"}


def test_papers_find_does_not_load_the_http_client(home, hub, runner, library, tmp_path):
    assert modules_loaded("find", "model", home=home, cwd=tmp_path) & HTTP == set()
    # The check can fail: a fetch does load it (a past day, final: no request is sent).
    assert modules_loaded("fetch", "--date", "2025-09-26", "--endpoint", hub.url,
                                  home=home, cwd=tmp_path) >= HTTP


def test_a_second_fetch_waits_for_the_first(home, hub):
    from papers.index.errors import LibraryBusy
    from papers.index.fetch import _fetch_lock

    folder = home / FETCHED_DIR
    folder.mkdir(parents=True)
    with _fetch_lock(folder, 0), pytest.raises(LibraryBusy, match="another papers fetch"):
        fetch(home, [TODAY], today=TODAY, network=quick(hub), lock_timeout=0.2)
    assert hub.requests == []


def test_a_fetch_failure_carries_what_was_done(home, hub):
    hub.faults = [("html",)]
    with pytest.raises(FetchFailed) as failed:
        fetch(home, [TODAY], today=TODAY, network=quick(hub))
    assert failed.value.exit_code == 3 and failed.value.report.failed == [TODAY]
