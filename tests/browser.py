"""Open built HTML pages in headless Chromium and report what a reader would see go wrong.

The pages are served from a local HTTP server that injects a small probe script at the top of
every HTML page (the build itself is not modified). The probe records JavaScript errors,
unhandled promise rejections and resources that fail to load; once the page's images have
loaded (or failed) and MathJax has finished typesetting, it lists images that did not decode
and math that MathJax did not typeset, and POSTs a JSON report back to the server. Until the
report arrives the server holds back one image of the page, so the page's load event, and
with it the exit of ``chromium --dump-dom``, waits for the report. A page that never sends
its report failed to load.
"""

import functools
import html
import http.server
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

PROBE = r"""<script>
window.__problems = [];
window.addEventListener('error', function (e) {
  var t = e.target;
  if (t && t !== window && (t.src || t.href)) { window.__problems.push('failed to load: ' + (t.src || t.href)); }
  else { window.__problems.push('javascript error: ' + e.message); }
}, true);
window.addEventListener('unhandledrejection', function (e) { window.__problems.push('unhandled rejection: ' + e.reason); });
document.addEventListener('DOMContentLoaded', function () {
  // An image that the server holds back until the report is in keeps the page's load event
  // (and so Chromium's --dump-dom exit) waiting for MathJax and the other images.
  var hold = new Image();
  hold.src = '/__hold';
  var images = Array.prototype.slice.call(document.images);
  var imagesDone = Promise.all(images.map(function (img) {
    return img.complete ? Promise.resolve() : new Promise(function (r) {
      img.addEventListener('load', r); img.addEventListener('error', r); });
  }));
  var needsMath = document.querySelector('.math') !== null && document.querySelector('script[src*="mathjax" i]') !== null;
  var mathDone = new Promise(function (resolve) {
    var waited = 0;
    (function poll() {
      if (window.MathJax && MathJax.startup && MathJax.startup.promise) { MathJax.startup.promise.then(resolve, resolve); }
      else if (!needsMath || waited > 10000) { resolve(); }
      else { waited += 50; setTimeout(poll, 50); }
    })();
  });
  Promise.all([imagesDone, mathDone]).then(function () {
    var report = {problems: window.__problems.slice(), broken_images: [], unrendered_math: 0, math: 0,
                  mathjax: !!(window.MathJax && MathJax.startup)};
    images.forEach(function (img) {
      if (!(img.complete && img.naturalWidth > 0)) { report.broken_images.push(img.getAttribute('src')); }
    });
    var maths = document.querySelectorAll('.math');
    report.math = maths.length;
    Array.prototype.forEach.call(maths, function (m) { if (!m.querySelector('mjx-container')) { report.unrendered_math += 1; } });
    fetch('/__report', {method: 'POST', body: JSON.stringify(report)});
  });
});
</script>"""

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--virtual-time-budget=15000"]


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class _ProbeHandler(http.server.SimpleHTTPRequestHandler):
    state = None  # set per server: {"report": ..., "done": threading.Event()}

    def log_message(self, *args):
        pass

    def do_POST(self):
        if self.path == "/__report":
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.state["report"] = json.loads(body)
            self.state["done"].set()
        self.send_response(204)
        self.end_headers()

    def send_head(self):
        if self.path == "/__hold":
            self.state["done"].wait(30)
            gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
            self.send_response(200)
            self.send_header("Content-Type", "image/gif")
            self.send_header("Content-Length", str(len(gif)))
            self.end_headers()
            return io.BytesIO(gif)
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if path.suffix != ".html" or not path.is_file():
            return super().send_head()
        body = path.read_bytes()
        body = re.sub(rb"<head>", lambda m: m.group(0) + PROBE.encode(), body, count=1)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


class PageChecker:
    """Serve ``root`` on 127.0.0.1 and check pages in Chromium. Use as a context manager."""

    def __init__(self, root, chromium=None):
        self.root = Path(root)
        self.chromium = chromium or find_chromium()

    def __enter__(self):
        self.state = {"report": None, "done": threading.Event()}
        handler_class = type("Handler", (_ProbeHandler,), {"state": self.state})
        handler = functools.partial(handler_class, directory=str(self.root))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/"
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def check(self, relpath, screenshot=None):
        """Open one page; return its report, whose ``problems`` lists everything that went wrong."""
        self.state["report"] = None
        self.state["done"].clear()
        with tempfile.TemporaryDirectory() as profile:
            cmd = [self.chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", self.base + relpath]
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            if screenshot:
                subprocess.run([self.chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                                "--window-size=1200,1600", f"--screenshot={screenshot}", self.base + relpath],
                               capture_output=True, timeout=120)
        report = self.state["report"]
        if report is None:
            return {"problems": [f"page did not finish loading (no report); chromium exit {proc.returncode}"]}
        problems = list(report["problems"])
        problems += [f"image did not load: {src}" for src in report["broken_images"]]
        if report["unrendered_math"]:
            problems.append(f"{report['unrendered_math']} of {report['math']} math elements not typeset by MathJax")
        report["problems"] = problems
        return report


def chromium_available():
    return find_chromium() is not None and os.environ.get("RNN_COURSE_NO_BROWSER") != "1"
