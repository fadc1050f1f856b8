#!/usr/bin/env python3
"""pageserver.py: the web site the benchmark points the isolated browser at.

Standard library only. Listens on 127.0.0.1 (any free port) and prints the
port as the first line of stdout; the log goes to stderr.

    GET /start.html       the page of the current mode (the sessions' home_page)
    GET /static.html      a page that never changes once drawn
    GET /anim.html        a page that redraws about 30 times per second
    GET /soak.html        a long page that scrolls itself and repaints a
                          noise band: big updates without any input
    GET /noise.html       random pixels over the whole window, a new screen
                          every 33 ms: every update is a full-screen one
    GET /mode?m=NAME      NAME is "static", "anim", "soak" or "noise": what
                          /start.html serves from now on (bench_session and
                          bench_soak set it before their logins)

Both pages, CSS pixels, zoom 1, no scrolling:
    marker: left 100, top 60, 240 x 120, rgb(0,160,255); bench_session finds
            the page on screen by it ("page complete" = marker fully drawn)
The animated page adds, every 33 ms (setInterval):
    clock:  three 32 x 32 blocks at top 200, left 100, 140, 180; together
            they show Date.now() mod 2^18 ms, 6 bits per block, 2 bits per
            colour channel (0, 85, 170 or 255), most significant block first,
            so the viewer can tell how old the picture it shows is
    counter: the tick number in 48 px digits at left 100, top 260
"""
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HEAD = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>pixelgate bench %s</title>
<style>
html, body { margin: 0; padding: 0; background: #ffffff; overflow: hidden; }
#marker { position: absolute; left: 100px; top: 60px; width: 240px; height: 120px;
          background: rgb(0,160,255); }
.clk { position: absolute; top: 200px; width: 32px; height: 32px; background: #000; }
#counter { position: absolute; left: 100px; top: 260px; font: 48px monospace; }
</style></head>
<body>
<div id="marker"></div>
"""

STATIC = HEAD % "static" + """<p style="position: absolute; left: 100px; top: 200px; font: 18px sans-serif">
static page: nothing here changes</p>
</body></html>
"""

ANIM = HEAD % "animated" + """<div class="clk" id="c0" style="left: 100px"></div>
<div class="clk" id="c1" style="left: 140px"></div>
<div class="clk" id="c2" style="left: 180px"></div>
<div id="counter">0</div>
<script>
var blocks = [document.getElementById('c0'), document.getElementById('c1'),
              document.getElementById('c2')];
var counter = document.getElementById('counter');
var tick = 0;
function level(v) { return (v & 3) * 85; }
setInterval(function () {
  var t = Date.now() % 262144;
  for (var i = 0; i < 3; i++) {
    var v = (t >> (6 * (2 - i))) & 63;
    blocks[i].style.background =
      'rgb(' + level(v >> 4) + ',' + level(v >> 2) + ',' + level(v) + ')';
  }
  tick += 1;
  counter.textContent = String(tick);
}, 33);
</script>
</body></html>
"""

# The soak page (bench_soak): updates as big as real browsing makes them.
# A page 60 screens long of coloured rows and text scrolls itself by 24 px
# every 50 ms (a scroll: CopyRect plus new rows), back to the top at the end
# (a full-screen repaint); a 1280 x 160 band of random pixels, fixed at the
# bottom of the window, is redrawn every 1.5 s (incompressible: hundreds of
# KiB per update). The viewer's wheel events scroll it too.
SOAK = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>pixelgate bench soak</title>
<style>
html, body { margin: 0; padding: 0; background: #ffffff; }
.row { height: 40px; font: 18px sans-serif; padding-left: 12px; line-height: 40px; }
#noise { position: fixed; left: 0; bottom: 0; width: 1280px; height: 160px; }
</style></head>
<body>
<div id="rows"></div>
<canvas id="noise" width="1280" height="160"></canvas>
<script>
var rows = document.getElementById('rows');
var html = [];
for (var i = 0; i < 1200; i++) {
  var h = (i * 47) % 360;
  html.push('<div class="row" style="background: hsl(' + h + ', 70%, ' +
            (40 + (i * 13) % 40) + '%)">row ' + i +
            ': \u65e5\u672c\u8a9e\u306e\u6587\u7ae0 the quick brown fox jumps over the lazy dog ' +
            (i * 7919 % 100003) + '</div>');
}
rows.innerHTML = html.join('');
setInterval(function () {
  if (window.scrollY + window.innerHeight >= document.body.scrollHeight - 4)
    window.scrollTo(0, 0);
  else
    window.scrollBy(0, 24);
}, 50);
var cv = document.getElementById('noise'), cx = cv.getContext('2d');
function noise() {
  var img = cx.createImageData(cv.width, cv.height), d = img.data;
  for (var k = 0; k < d.length; k += 4) {
    var r = Math.random() * 16777216 | 0;
    d[k] = r & 255; d[k + 1] = (r >> 8) & 255; d[k + 2] = (r >> 16) & 255; d[k + 3] = 255;
  }
  cx.putImageData(img, 0, 0);
}
noise();
setInterval(noise, 1500);
</script>
</body></html>
"""

# The noise page (bench_session's recording and relay scenarios): a canvas
# the size of the window, repainted every 33 ms with one of four screens of
# random pixels made at load (making them anew each time would cost the
# browser more than the repaint), so every update is the whole screen and
# incompressible (16 MiB at 2048 x 2048 in 32 bpp). The marker is drawn on top
# so the viewer can tell when the page is on screen.
NOISE = HEAD % "noise" + """<canvas id="noise" style="position: fixed; left: 0; top: 0"></canvas>
<style>#marker { z-index: 1; }</style>
<script>
var cv = document.getElementById('noise'), cx = cv.getContext('2d'), frames = [], n = 0;
function make() { // the window is sized after the first paint: again on resize
  cv.width = window.innerWidth; cv.height = window.innerHeight;
  frames = [];
  for (var f = 0; f < 4; f++) {
    var img = cx.createImageData(cv.width, cv.height), d = img.data;
    for (var k = 0; k < d.length; k += 4) {
      var r = Math.random() * 16777216 | 0;
      d[k] = r & 255; d[k + 1] = (r >> 8) & 255; d[k + 2] = (r >> 16) & 255; d[k + 3] = 255;
    }
    frames.push(img);
  }
}
make();
window.addEventListener('resize', make);
setInterval(function () { cx.putImageData(frames[n++ % 4], 0, 0); }, 33);
</script>
</body></html>
"""

PAGES = {"static": STATIC.encode("utf-8"), "anim": ANIM.encode("utf-8"),
         "soak": SOAK.encode("utf-8"), "noise": NOISE.encode("utf-8")}


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.mode = "static"


STATE = State()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "pixelgate-bench-pageserver"

    def log_message(self, fmt, *args):
        sys.stderr.write("pageserver: %s %s\n" % (self.address_string(), fmt % args))

    def send(self, status, body, ctype="text/plain; charset=utf-8"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urlsplit(self.path)
        html = "text/html; charset=utf-8"
        if url.path == "/start.html":
            with STATE.lock:
                mode = STATE.mode
            self.send(200, PAGES[mode], html)
        elif url.path == "/static.html":
            self.send(200, PAGES["static"], html)
        elif url.path == "/anim.html":
            self.send(200, PAGES["anim"], html)
        elif url.path == "/soak.html":
            self.send(200, PAGES["soak"], html)
        elif url.path == "/noise.html":
            self.send(200, PAGES["noise"], html)
        elif url.path == "/mode":
            mode = parse_qs(url.query).get("m", [""])[0]
            if mode not in PAGES:
                self.send(400, b"mode is static, anim, soak or noise\n")
                return
            with STATE.lock:
                STATE.mode = mode
            self.send(200, ("mode %s\n" % mode).encode())
        else:
            self.send(404, b"not found\n")


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
