"""Open a local HTML file in headless Chromium: its console errors, a DOM probe and a screenshot.

Chromium is driven over the DevTools protocol on --remote-debugging-pipe (JSON messages ending
in NUL on file descriptors 3 and 4), hand-written here because the tests need a handful of
protocol calls: Playwright or Selenium would bring a driver of their own (Node, chromedriver) to
make them. The pipe needs no port, so parallel test runs cannot collide. `make test` installs
Debian's chromium when it is missing.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

WIDTH, HEIGHT = 1200, 900
TIMEOUT = 60.0  # seconds for any one protocol answer, browser start included


@dataclass
class PageResult:
    errors: list[str]  # uncaught exceptions, console.error/assert calls, browser error log entries
    probe: object  # what the probe expression returned, evaluated after the load event
    screenshot: bytes  # PNG of the whole page


class _Pipe:
    """One protocol connection: commands out on `writer`, answers and events in on `reader`."""

    def __init__(self, writer: int, reader: int):
        self.writer, self.reader = writer, reader
        self.buffer = b""
        self.events: list[dict] = []
        self.next_id = 0

    def call(self, method: str, session: str | None = None, **params) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self.writer, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"chromium: {method}: {reply['error'].get('message')}")
                return reply["result"]
            self.events.append(reply)

    def wait_for(self, wanted: Callable[[dict], bool]) -> dict:
        """The first event, already received or still to come, for which `wanted` is true."""
        for event in self.events:
            if wanted(event):
                return event
        while True:
            event = self._read()
            self.events.append(event)
            if wanted(event):
                return event

    def _read(self) -> dict:
        deadline = time.monotonic() + TIMEOUT
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.reader], [], [], left)[0]:
                raise TimeoutError(f"chromium: no answer in {TIMEOUT:.0f} s")
            chunk = os.read(self.reader, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium: the browser closed the DevTools pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)


def _error_text(event: dict) -> str | None:
    """The text of an event that reports an error on the page, else None."""
    method, params = event.get("method"), event.get("params", {})
    if method == "Runtime.exceptionThrown":
        details = params["exceptionDetails"]
        return details.get("exception", {}).get("description") or details.get("text")
    if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
        return " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
    if method == "Log.entryAdded" and params["entry"]["level"] == "error":
        return params["entry"]["text"]
    return None


def chromium() -> str:
    path = shutil.which("chromium")
    assert path, "chromium not found: `make test` installs it (apt-get install chromium)"
    return path


def open_page(path: Path, probe: str) -> PageResult:
    """Load `path` in a fresh headless browser; `probe` is a JavaScript expression (JSON result)."""
    binary = chromium()
    with tempfile.TemporaryDirectory(prefix="newsdesk-chromium-") as profile:
        log = Path(profile) / "browser.log"
        commands_r, commands_w = os.pipe()
        answers_r, answers_w = os.pipe()
        # Moved above 9 first, so that placing them on 3 and 4 cannot overwrite one another.
        ends = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (commands_r, answers_w)]
        for fd in (commands_r, answers_w):
            os.close(fd)
        argv = [binary, "--headless", "--no-sandbox",  # tests may run as root (CI does)
                "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--no-default-browser-check", "--hide-scrollbars", f"--user-data-dir={profile}",
                f"--window-size={WIDTH},{HEIGHT}", "--remote-debugging-pipe", "about:blank"]
        # posix_spawn rather than subprocess: the browser must find the pipe on fds 3 and 4 exactly
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[
            (os.POSIX_SPAWN_DUP2, ends[0], 3),
            (os.POSIX_SPAWN_DUP2, ends[1], 4),
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, str(log), os.O_WRONLY | os.O_CREAT, 0o600),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ])
        for fd in ends:
            os.close(fd)
        pipe = _Pipe(commands_w, answers_r)
        try:
            return _load(pipe, path, probe)
        except (TimeoutError, RuntimeError) as exc:
            browser_log = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise AssertionError(f"{exc}; browser log:\n{browser_log}") from None
        finally:
            os.close(commands_w)  # the browser quits when its command pipe closes
            os.close(answers_r)
            _reap(pid)


def _reap(pid: int, grace: float = 10.0) -> None:
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if os.waitpid(pid, os.WNOHANG)[0]:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def _load(pipe: _Pipe, path: Path, probe: str) -> PageResult:
    target = pipe.call("Target.createTarget", url="about:blank")["targetId"]
    session = pipe.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    for domain in ("Runtime", "Log", "Page"):
        pipe.call(f"{domain}.enable", session)
    # Lifecycle events name their navigation: the load of about:blank cannot pass for the page's.
    pipe.call("Page.setLifecycleEventsEnabled", session, enabled=True)
    navigation = pipe.call("Page.navigate", session, url=path.resolve().as_uri())
    if "errorText" in navigation:
        raise AssertionError(f"{path}: chromium could not open it: {navigation['errorText']}")
    pipe.wait_for(lambda e: e.get("method") == "Page.lifecycleEvent"
                  and e["params"]["name"] == "load"
                  and e["params"]["loaderId"] == navigation["loaderId"])
    value = pipe.call("Runtime.evaluate", session, expression=probe, returnByValue=True)
    if "exceptionDetails" in value:
        raise AssertionError(f"the probe failed: {value['exceptionDetails']}")
    size = pipe.call("Page.getLayoutMetrics", session)["cssContentSize"]
    shot = pipe.call("Page.captureScreenshot", session, format="png", captureBeyondViewport=True,
                     clip={"x": 0, "y": 0, "width": WIDTH, "height": size["height"], "scale": 1})
    errors = [text for e in pipe.events if (text := _error_text(e)) is not None]
    return PageResult(errors, value["result"].get("value"), base64.b64decode(shot["data"]))
