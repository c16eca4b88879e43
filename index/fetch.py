"""Download Hugging Face Daily Papers JSON into the library's `fetched/` folder, and ingest it.

`GET {endpoint}/api/daily_papers?date=YYYY-MM-DD&limit=100&p=0,1,...` until a page comes back
short; each day becomes `<home>/fetched/YYYY-MM-DD.json`, an ordinary digest file, so a library
can always be rebuilt from the saved files with no network. The folder is registered as a
source like any other, and the ingest reads only what changed.

Which days to ask for again: a day's list and its upvotes move for a day or so after it, so a
day is final once it was fetched at least `SETTLES_AFTER` days after itself; until then it is
fetched on every run. Final days (with papers or empty, as weekends are) are never asked for
again; the dot-file `fetched/.state.json` remembers when each day was fetched, and the source
scan skips dot-files.

Standard library HTTP (`urllib`): no dependency, proxies from the environment (`http_proxy`,
`https_proxy`, `no_proxy`) through its default `ProxyHandler`, and one request per day is too
few for keep-alive to matter. Nothing else imports this module, so `papers find` never loads
an HTTP client.

No Click and no Textual here: the CLI's `papers fetch` and the reader (in a worker, with a
progress callback and a cancel check) call `fetch`; failures are `PapersError`s.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

from papers.index import locks
from papers.index.dailyjson import parse_daily_json, sniff
from papers.index.errors import InputError, LibraryBusy, Unavailable, from_os_error
from papers.index.export import write_atomic
from papers.index.sources import MAX_DIGEST_BYTES

DEFAULT_ENDPOINT = "https://huggingface.co"
API_PATH = "/api/daily_papers"
FETCHED_DIR = "fetched"
STATE_FILE = ".state.json"  # a dot-file: the source scan never takes it for a digest
LOCK_FILE = ".lock"
STATE_VERSION = 1
SETTLES_AFTER = 2  # days; today and yesterday are still moving, the day before is final
PAGE_SIZE = 100  # the API's largest page
MAX_PAGES = 100  # 10,000 papers a day: past this the server is ignoring `p`
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

Progress = Callable[[str, int, int], None]  # (stage, done, total), as the ingest's
Cancelled = Callable[[], bool]
FETCH_STAGE = "fetching"


@dataclass(frozen=True)
class Network:
    """How to talk to the server. Tests shorten `timeout` and `backoff`."""

    endpoint: str = DEFAULT_ENDPOINT
    timeout: float = 30.0  # seconds, for connecting and for each read
    retries: int = 3  # after the first try, on 429, 5xx and network faults
    backoff: float = 2.0  # seconds before the first retry; doubles after each
    longest_wait: float = 120.0  # a Retry-After longer than this ends the run instead
    page_size: int = PAGE_SIZE


class FetchFailed(Unavailable):
    """A day could not be downloaded: the network, the server, or a body that is not Daily
    Papers JSON. `report` says what was done before it; `json` is the `--json` answer."""

    def __init__(self, message: str, report: FetchReport):
        super().__init__(message)
        self.report = report
        self.json = {"error": message, **report.to_json()}


def endpoint_from(explicit: str | None = None, environ=None) -> str:
    """`explicit` (--endpoint), else `HF_ENDPOINT` (as huggingface_hub reads it), else the Hub;
    InputError unless it is an http(s) URL."""
    environ = os.environ if environ is None else environ
    url = (explicit or environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).strip().rstrip("/")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        where = "--endpoint" if explicit else "HF_ENDPOINT"
        raise InputError(f"{where} must be an http(s) URL like {DEFAULT_ENDPOINT}, "
                         f"not {url!r}")
    return url


def plan_days(today: date, *, on: date | None = None, since: date | None = None,
              until: date | None = None, days: int | None = None) -> list[date]:
    """The days a run asks about, oldest first.

    Nothing given: yesterday and today (yesterday's upvotes still move). `on` one day;
    `since` to `until` (default today); `days` the last N days up to today.
    """
    if sum(x is not None for x in (on, since, days)) > 1:
        raise InputError("give one of --date, --since or --days")
    if until is not None and since is None:
        raise InputError("--until needs --since")
    if on is not None:
        first = last = on
    elif since is not None:
        first, last = since, until or today
    elif days is not None:
        if days < 1:
            raise InputError(f"--days must be 1 or more, not {days}")
        first, last = today - timedelta(days=days - 1), today
    else:
        first, last = today - timedelta(days=1), today
    if last > today:
        raise InputError(f"{last.isoformat()} is after today ({today.isoformat()}): "
                         "there is nothing to fetch yet")
    if first > last:
        raise InputError(f"--since {first.isoformat()} is after --until {last.isoformat()}")
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@dataclass
class FetchReport:
    """What a run did, day by day, and the ingest that followed."""

    folder: str = ""
    fetched: list[date] = field(default_factory=list)  # downloaded, with papers
    written: list[date] = field(default_factory=list)  # of those, new or changed on disk
    empty: list[date] = field(default_factory=list)  # downloaded, no papers (yet)
    skipped: list[date] = field(default_factory=list)  # final: no request sent
    failed: list[date] = field(default_factory=list)  # the day that failed, and those after
    papers: int = 0  # papers in the days downloaded
    cancelled: bool = False
    ingest: object | None = None  # the IngestReport, when anything was written

    @property
    def papers_added(self) -> int:
        return self.ingest.papers_added if self.ingest else 0

    @property
    def papers_updated(self) -> int:
        return self.ingest.papers_updated if self.ingest else 0

    @property
    def changed(self) -> bool:
        """Whether the library changed (what a reader refreshes on)."""
        return bool(self.ingest and self.ingest.changed)

    def to_json(self) -> dict:
        def days(items):
            return [d.isoformat() for d in items]

        return {
            "fetched": days(self.fetched), "written": days(self.written),
            "empty": days(self.empty), "skipped": days(self.skipped),
            "failed": days(self.failed), "papers": self.papers,
            "papers_added": self.papers_added, "papers_updated": self.papers_updated,
            "cancelled": self.cancelled, "folder": self.folder,
            "problems": [p.to_json() for p in self.ingest.problems] if self.ingest else [],
        }

    def summary(self) -> str:
        parts = [f"{_count(len(self.fetched), 'day')} fetched ({_count(self.papers, 'paper')})"]
        if self.empty:
            parts.append(f"{len(self.empty)} empty")
        if self.skipped:
            parts.append(f"{len(self.skipped)} already final")
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        text = ", ".join(parts)
        if self.cancelled:
            text += "; cancelled"
        if self.written:
            text += f"; papers: {self.papers_added} added, {self.papers_updated} updated"
        elif self.fetched or self.empty:
            text += "; nothing changed"
        return text


def fetch(
    home: Path,
    days: list[date],
    *,
    today: date | None = None,
    network: Network = Network(),
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
    ingest: bool = True,
    procs: int = 1,
    lock_timeout: float = 10.0,
) -> FetchReport:
    """Download `days` (see `plan_days`) into `<home>/fetched/`, register that folder and
    ingest what changed. Returns a `FetchReport`.

    `progress(stage, done, total)` hears "fetching" over the days, then the ingest's stages.
    `cancelled()` is asked between days, pages and retry waits: when it says yes, the run
    stops with `report.cancelled`, no ingest, and every file written so far whole (the next
    re-scan reads them). Raises `FetchFailed` (exit 3) when a day cannot be downloaded, after
    ingesting the days written before it; `LibraryBusy` when another fetch is running.
    """
    home = Path(home)
    today = today or date.today()
    folder = home / FETCHED_DIR
    report = FetchReport(folder=str(folder))
    stop = cancelled or (lambda: False)
    client = _Client(network, stop)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise from_os_error(exc, "create the folder") from None
    with _fetch_lock(folder, lock_timeout):
        state = _State(folder)
        failure: str | None = None
        for n, day in enumerate(days):
            if progress:
                progress(FETCH_STAGE, n, len(days))
            if state.final(day, today):
                report.skipped.append(day)
                continue
            if stop():
                report.cancelled = True
                break
            try:
                items, text = client.day(day)
            except _Stop:
                report.cancelled = True
                break
            except _Failure as exc:
                failure = str(exc)
                report.failed.append(day)
                for later in days[n + 1:]:  # not asked for: the fault ends the run
                    (report.skipped if state.final(later, today) else report.failed).append(
                        later)
                break
            if items:
                report.fetched.append(day)
                report.papers += len(items)
                if _save(folder, day, text):
                    report.written.append(day)
                    if len(report.written) == 1:
                        _register(home, folder)
            else:
                report.empty.append(day)
            state.remember(day, today, len(items))
        if progress and not report.cancelled and not failure:
            progress(FETCH_STAGE, len(days), len(days))
    if report.written and ingest and not report.cancelled:
        report.ingest = _ingest(home, procs, lock_timeout, progress)
    if failure:
        raise FetchFailed(failure + _after(report), report)
    return report


# -- the days on disk -----------------------------------------------------------------------


def _name(day: date) -> str:
    return f"{day.isoformat()}.json"


class _State:
    """When each day was fetched, and how many papers it had: `fetched/.state.json`."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder / STATE_FILE
        try:
            data = json.loads(self.path.read_text("utf-8"))
            days = data.get("days") if isinstance(data, dict) else None
        except (OSError, ValueError):
            days = None  # lost or damaged: the files alone say which days are there
        self.days: dict = days if isinstance(days, dict) else {}

    def fetched_on(self, day: date) -> tuple[date | None, int]:
        """When `day` was last fetched, and its papers; from the file's mtime if unrecorded."""
        record = self.days.get(day.isoformat())
        if isinstance(record, dict):
            try:
                return date.fromisoformat(record["fetched_on"]), int(record["papers"])
            except (KeyError, TypeError, ValueError):
                pass
        try:
            mtime = (self.folder / _name(day)).stat().st_mtime
        except OSError:
            return None, 0
        return datetime.fromtimestamp(mtime).date(), 1

    def final(self, day: date, today: date) -> bool:
        """Fetched once it had settled, and its file (if it had papers) still there."""
        when, papers = self.fetched_on(day)
        if when is None or (when - day).days < SETTLES_AFTER or (today - day).days < SETTLES_AFTER:
            return False
        return papers == 0 or (self.folder / _name(day)).is_file()

    def remember(self, day: date, today: date, papers: int) -> None:
        self.days[day.isoformat()] = {"fetched_on": today.isoformat(), "papers": papers}
        text = json.dumps({"version": STATE_VERSION, "days": dict(sorted(self.days.items()))},
                          indent=1)
        try:
            write_atomic(self.path, text + "\n")
        except OSError as exc:
            raise from_os_error(exc, "write") from None


def _save(folder: Path, day: date, text: str) -> bool:
    """Write the day's file unless it already holds exactly this; True if written."""
    path = folder / _name(day)
    try:
        if path.read_bytes() == text.encode("utf-8"):
            return False
    except OSError:
        pass
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise from_os_error(exc, "write") from None
    return True


def _fetch_lock(folder: Path, timeout: float):
    """One fetch at a time per library (cron and the reader may start one together)."""
    return locks.held(folder / LOCK_FILE, timeout, lambda: LibraryBusy(
        "another papers fetch is running for this library; try again when it has finished"))


def _register(home: Path, folder: Path) -> None:
    from papers.index.sources import add_sources

    try:
        add_sources(home, [folder])
    except OSError as exc:
        raise from_os_error(exc, "register") from None


def _ingest(home: Path, procs: int, lock_timeout: float, progress: Progress | None):
    from papers.index.ingest import ingest
    from papers.index.sources import load_sources

    return ingest(home, load_sources(home), procs=procs, lock_timeout=lock_timeout,
                  progress=progress)


def _after(report: FetchReport) -> str:
    if not report.written:
        return "; nothing changed"
    return (f"; the {_count(len(report.written), 'day')} fetched before it "
            f"{'were' if len(report.written) != 1 else 'was'} saved"
            f"{' and added' if report.ingest else ''}")


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


# -- HTTP -----------------------------------------------------------------------------------


class _Failure(Exception):
    """A day could not be had; the message is the one line the user reads."""


class _Stop(Exception):
    """The caller cancelled while we were waiting."""


class _Retry(Exception):
    def __init__(self, why: str, wait: float | None = None):
        super().__init__(why)
        self.wait = wait


class _Client:
    def __init__(self, network: Network, cancelled: Cancelled):
        self.net = network
        self.cancelled = cancelled
        # build_opener includes ProxyHandler(), which reads the proxy variables (and no_proxy).
        self.opener = urllib.request.build_opener()
        self.opener.addheaders = [("User-Agent", _user_agent()),
                                  ("Accept", "application/json")]

    def day(self, day: date) -> tuple[list, str]:
        """Every entry of `day`, over as many pages as it takes, and the text to save."""
        items: list = []
        seen: set[str] = set()
        texts: list[str] = []
        for page in range(MAX_PAGES):
            if self.cancelled():
                raise _Stop
            url = self.url(day, page)
            got, text = self.page(url, day)
            new = [item for item in got if _key(item) not in seen]
            seen.update(_key(item) for item in new)
            items.extend(new)
            texts.append(text)
            if len(got) < self.net.page_size or not new:
                break
        if len(texts) == 1:
            return items, texts[0]
        return items, json.dumps(items, ensure_ascii=False, indent=2) + "\n"

    def url(self, day: date, page: int) -> str:
        query = urllib.parse.urlencode({"date": day.isoformat(), "limit": self.net.page_size,
                                        "p": page})
        return f"{self.net.endpoint}{API_PATH}?{query}"

    def page(self, url: str, day: date) -> tuple[list, str]:
        """One page: tried up to 1 + retries times; its entries and its text."""
        shown = f"{self.net.endpoint}{API_PATH}?date={day.isoformat()}"
        tries = self.net.retries + 1
        for attempt in range(tries):
            try:
                return _entries(self.get(url), shown)
            except _Retry as exc:
                if attempt + 1 == tries:
                    raise _Failure(f"could not reach {shown}: {exc} "
                                   f"({tries} {'tries' if tries != 1 else 'try'})") from None
                wait = exc.wait if exc.wait is not None else self.net.backoff * 2 ** attempt
                if wait > self.net.longest_wait:
                    raise _Failure(f"could not reach {shown}: {exc}, and it asks to wait "
                                   f"{wait:.0f} s") from None
                self.sleep(wait)
        raise AssertionError("unreachable")

    def get(self, url: str) -> bytes:
        """The body of a 200 answer; _Retry for what may pass, _Failure for what will not."""
        timeout = self.net.timeout
        try:
            with self.opener.open(url, timeout=timeout) as answer:
                return _read(answer, timeout)
        except urllib.error.HTTPError as exc:
            why = f"HTTP {exc.code} {exc.reason}".rstrip()
            exc.close()
            if exc.code in RETRY_STATUSES:
                raise _Retry(why, _retry_after(exc.headers.get("Retry-After"))) from None
            raise _Failure(f"could not reach {_shown(url)}: {why}") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError):
                raise _Retry(f"no answer within {timeout:g} s") from None
            if isinstance(reason, ssl.SSLCertVerificationError):  # trying again will not help
                raise _Failure(f"could not reach {_shown(url)}: its certificate cannot be "
                               f"trusted ({reason.verify_message})") from None
            raise _Retry(_os_reason(reason)) from None
        except TimeoutError:
            raise _Retry(f"no answer within {timeout:g} s") from None
        except http.client.IncompleteRead:
            raise _Retry("the answer was cut off") from None
        except (http.client.HTTPException, OSError) as exc:
            raise _Retry(_os_reason(exc)) from None

    def sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if self.cancelled():
                raise _Stop
            time.sleep(min(left, 0.1))


def _read(answer, timeout: float) -> bytes:
    """The whole body, at most MAX_DIGEST_BYTES; a server trickling bytes forever counts as
    a stall too (each read has `timeout`, the whole body four times that)."""
    deadline = time.monotonic() + 4 * timeout
    chunks: list[bytes] = []
    size = 0
    while chunk := answer.read(64 * 1024):
        size += len(chunk)
        if size > MAX_DIGEST_BYTES:
            raise _Failure(f"could not reach {_shown(answer.url)}: the answer is larger "
                           f"than {MAX_DIGEST_BYTES // 2**20} MB")
        if time.monotonic() > deadline:
            raise TimeoutError
        chunks.append(chunk)
    # read(amt) returns short instead of raising when the connection closes before
    # Content-Length is reached; what was promised and not sent is left in `length`.
    if getattr(answer, "length", None):
        raise http.client.IncompleteRead(b"".join(chunks), answer.length)
    return b"".join(chunks)


def _entries(body: bytes, shown: str) -> tuple[list, str]:
    """The page's entries and its text; _Failure unless it is Daily Papers JSON."""
    def refuse(what: str):
        return _Failure(f"{shown} did not answer with Daily Papers JSON ({what})")

    if sniff(body) != "array":
        return _refuse_kind(body, refuse)
    try:
        items = json.loads(body)
    except ValueError:
        raise refuse("the answer ends early or is damaged") from None
    if not isinstance(items, list):
        raise refuse("not a list")
    if items and not parse_daily_json(body, name=shown).entries:
        raise refuse("a list of something else")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:  # JSON in UTF-16 or -32: save it as UTF-8, like everything else
        text = json.dumps(items, ensure_ascii=False, indent=2) + "\n"
    return items, text


def _refuse_kind(body: bytes, refuse):
    head = body[:1024].lstrip().lower()
    if not head:
        raise refuse("an empty answer")
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<")):
        raise refuse("an HTML page")
    try:
        obj = json.loads(body)
    except ValueError:
        raise refuse("not JSON") from None
    if isinstance(obj, dict) and isinstance(obj.get("error"), str):
        raise refuse(f"the server said: {obj['error'][:200]}")
    raise refuse(f"a JSON {type(obj).__name__}")


def _key(item) -> str:
    paper = item.get("paper") if isinstance(item, dict) else None
    pid = paper.get("id") if isinstance(paper, dict) else None
    return pid if isinstance(pid, str) else json.dumps(item, sort_keys=True)


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _os_reason(reason) -> str:
    if isinstance(reason, socket.gaierror):
        return "the host name could not be resolved"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror[:1].lower() + reason.strerror[1:]
    return str(reason) or reason.__class__.__name__


def _shown(url: str) -> str:
    """A request's URL as the user knows it: without the page parameters."""
    parts = urllib.parse.urlsplit(url)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k == "date"]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def _user_agent() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"papers-tui/{version('papers-tui')}"
    except PackageNotFoundError:
        return "papers-tui"
