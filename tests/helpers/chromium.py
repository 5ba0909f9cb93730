"""Headless Chromium for the report tests, driven through the DevTools protocol over a pipe
(``--remote-debugging-pipe``: JSON messages ended by NUL on file descriptors 3 and 4), so no
websocket client is needed. The network stays closed: file:// pages only."""

from __future__ import annotations

import base64
import io
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--remote-debugging-pipe", "--window-size=1400,1000", "--mute-audio",
]


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Chromium:
    """``with Chromium() as c: result = c.load("file:///.../index.html")``."""

    def __init__(self, binary: str | None = None, timeout: float = 60.0):
        self.binary = binary or find_chromium()
        if self.binary is None:
            raise RuntimeError("chromium not found")
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="sepcore-chromium-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def plumb():  # the child's fd 3 reads our commands, fd 4 takes its answers
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)

        self.proc = subprocess.Popen(
            [self.binary, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            preexec_fn=plumb, pass_fds=(3, 4),
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._next_id = 0
        self.events: list[dict] = []
        self.session = None

    # ---------------------------------------------------------------- protocol
    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_child], [], [], left)[0]:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                err = self.proc.stderr.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"chromium closed the pipe: {err}")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, params: dict | None = None, session: bool = True) -> dict:
        self._next_id += 1
        msg = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method: str) -> dict:
        for i, e in enumerate(self.events):
            if e.get("method") == method:
                return self.events.pop(i)
        deadline = time.monotonic() + self.timeout
        while True:
            e = self._read_message(deadline)
            if e.get("method") == method:
                return e
            self.events.append(e)

    # ---------------------------------------------------------------- a page
    def load(self, url: str, full_page: bool = False) -> dict:
        """Open ``url``; return its console errors, requested URLs, images, audio (each
        loaded for its metadata) and a PNG screenshot (of the whole page if ``full_page``)."""
        self.events = []
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)
        self.session = self.send("Target.attachToTarget",
                                 {"targetId": target["targetId"], "flatten": True},
                                 session=False)["sessionId"]
        for domain in ("Runtime", "Log", "Page", "Network"):
            self.send(f"{domain}.enable")
        self.send("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired")
        probe = """(async () => {
          const imgs = [...document.images].map(i => [i.getAttribute('src'), i.complete,
                                                     i.naturalWidth, i.naturalHeight]);
          const audio = await Promise.all([...document.querySelectorAll('audio')].map(a =>
            new Promise(done => {
              const t = setTimeout(() => done([a.getAttribute('src'), 'timeout']), 20000);
              a.addEventListener('loadedmetadata', () => { clearTimeout(t);
                done([a.getAttribute('src'), a.duration]); });
              a.addEventListener('error', () => { clearTimeout(t);
                done([a.getAttribute('src'), 'error ' + (a.error ? a.error.code : '?')]); });
              a.preload = 'metadata'; a.load();
            })));
          const urls = [...document.querySelectorAll('[src],[href]')].map(
            e => e.getAttribute('src') || e.getAttribute('href'));
          return JSON.stringify({imgs, audio, urls, text: document.body.innerText});
        })()"""
        value = self.send("Runtime.evaluate", {"expression": probe, "awaitPromise": True,
                                               "returnByValue": True})
        if "exceptionDetails" in value:
            raise RuntimeError(f"probe failed: {value['exceptionDetails']}")
        result = json.loads(value["result"]["value"])
        params: dict = {"format": "png"}
        if full_page:
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            params.update(captureBeyondViewport=True, clip={
                "x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1})
        shot = self.send("Page.captureScreenshot", params)
        result["screenshot"] = base64.b64decode(shot["data"])
        self._drain()
        result["errors"] = [e for e in self.events if _is_error(e)]
        result["requests"] = [e["params"]["request"]["url"] for e in self.events
                              if e.get("method") == "Network.requestWillBeSent"]
        return result

    def _drain(self, quiet: float = 0.3) -> None:
        """Collect the events that are still coming (late console messages)."""
        while True:
            try:
                self.events.append(self._read_message(time.monotonic() + quiet))
            except TimeoutError:
                return

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.send("Browser.close", session=False)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        self.proc.stderr.close()
        shutil.rmtree(self.profile, ignore_errors=True)


def _is_error(event: dict) -> bool:
    method, params = event.get("method"), event.get("params", {})
    if method == "Runtime.exceptionThrown":
        return True
    if method == "Runtime.consoleAPICalled":
        return params.get("type") in ("error", "assert")
    if method == "Log.entryAdded":
        return params.get("entry", {}).get("level") == "error"
    # a media element cancels the rest of a file once it has what it needs (ERR_ABORTED,
    # canceled): not an error; a missing file is (ERR_FILE_NOT_FOUND)
    return method == "Network.loadingFailed" and not params.get("canceled")


def check_in_browser(browser: Chromium, index: Path) -> dict:
    """Assert that the report ``index`` renders: no console error, nothing requested
    outside its folder, every image shown, every audio decoded by the browser, a screenshot
    that is not blank. Returns the page (text, audio, images, screenshot)."""
    from PIL import Image

    folder = index.parent.resolve()
    page = browser.load(index.resolve().as_uri())
    assert page["errors"] == []
    # (data: URLs are the browser's own media-control icons)
    for url in page["requests"]:
        if not url.startswith("data:"):
            assert url.startswith(folder.as_uri() + "/"), url
    assert page["imgs"] and all(done and w > 0 and h > 0 for _, done, w, h in page["imgs"])
    for src, duration in page["audio"]:  # a duration, or 'error N' / 'timeout'
        assert isinstance(duration, (int, float)) and duration > 0.5, (src, duration)
    with Image.open(io.BytesIO(page["screenshot"])) as shot:
        colours = shot.convert("RGB").getcolors(maxcolors=1 << 20)
        assert shot.size[0] > 800 and colours and len(colours) > 50  # not blank
    return page
