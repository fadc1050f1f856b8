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
                          bench_soak set it before their logins); or one of
                          bench_peers' pages: "read" (a long page of Japanese
                          and English text, headings, tables), "type" (a
                          focused text area, no caret blink), "anim30" (a
                          300 x 250 canvas redrawn every 33 ms), "idle" (a
                          still page), "photo" (24 photo-like pictures)

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

# The pages of bench_peers (bench/run.sh peers): the same pages for
# pixelgate and the other VNC servers. Each has a fixed 40 x 20 marker of
# its own colour at the top right of the viewport (MARKERS; bench_peers
# knows the page is on screen when it sees it), scrolls to the top on every
# load (no scroll restoration: F5 starts the page afresh) and has no caret
# blink or other change of its own unless said.
PEER_HEAD = """<!DOCTYPE html>
<html lang="ja"><head><meta charset="utf-8"><title>pixelgate peers %s</title>
<style>
html, body { margin: 0; padding: 0; background: #ffffff; color: #202020; }
body { font: 16px/1.6 "Noto Sans CJK JP", sans-serif; }
#pmark { position: fixed; right: 20px; top: 10px; width: 40px; height: 20px;
         background: %s; z-index: 10; }
main { width: 1000px; margin: 0 auto; padding: 20px 0; }
h1 { font-size: 28px; } h2 { font-size: 22px; border-bottom: 2px solid #3060a0; }
table { border-collapse: collapse; } td, th { border: 1px solid #888; padding: 4px 10px; }
th { background: #e8eef8; }
</style>
<script>history.scrollRestoration = "manual";
window.addEventListener("load", function () { window.scrollTo(0, 0); });</script>
</head><body><div id="pmark"></div>
"""

# marker colours (r, g, b) of the peers' pages; bench_peers.c has the same
MARKERS = {"read": (255, 0, 128), "type": (0, 200, 80), "anim30": (200, 100, 0),
           "idle": (120, 0, 255), "photo": (0, 128, 128)}


def peer_head(mode):
    return PEER_HEAD % (mode, "rgb(%d,%d,%d)" % MARKERS[mode])


JA = ("\u884c\u653f\u624b\u7d9a\u306e\u30aa\u30f3\u30e9\u30a4\u30f3\u5316\u306b\u4f34\u3044\u3001"
      "\u8077\u54e1\u306f\u30a4\u30f3\u30bf\u30fc\u30cd\u30c3\u30c8\u4e0a\u306e\u60c5\u5831\u3092"
      "\u5b89\u5168\u306b\u95b2\u89a7\u3059\u308b\u5fc5\u8981\u304c\u3042\u308a\u307e\u3059\u3002"
      "\u753b\u9762\u8ee2\u9001\u578b\u306e\u5206\u96e2\u74b0\u5883\u3067\u306f\u3001"
      "\u30d6\u30e9\u30a6\u30b6\u306f\u5916\u90e8\u306e\u30bb\u30eb\u3067\u52d5\u4f5c\u3057\u3001"
      "\u7aef\u672b\u306b\u306f\u753b\u7d20\u3060\u3051\u304c\u5c4a\u304d\u307e\u3059\u3002")
EN = ("Staff read web pages through an isolated browser: only pixels reach the "
      "terminal, and only keys and pointer events go back. ")


def reading_page():
    out = [peer_head("read"), "<main><h1>\u5206\u96e2\u95b2\u89a7\u306e\u624b\u5f15\u304d "
           "(reading test page)</h1>"]
    for sec in range(1, 41):
        out.append("<h2>%d. \u7b2c%d\u7ae0 section %d</h2>" % (sec, sec, sec))
        for par in range(3):
            k = (sec * 7 + par * 3) % 5 + 2
            out.append("<p>" + (JA * k)[: 40 * k] + " " + (EN * k)[: 90 * k] +
                       " (%d-%d)</p>" % (sec, par))
        if sec % 4 == 0:
            out.append("<table><tr><th>\u9805\u76ee item</th><th>\u5024 value</th>"
                       "<th>\u5099\u8003 note</th></tr>")
            for r in range(6):
                out.append("<tr><td>\u9805\u76ee %d-%d</td><td>%d</td><td>%s</td></tr>" %
                           (sec, r, (sec * 131 + r * 17) % 1000, (EN * 2)[r * 7: r * 7 + 40]))
            out.append("</table>")
    out.append("</main></body></html>\n")
    return "".join(out)


TYPING = peer_head("type") + """<main><h1>\u5165\u529b typing test page</h1>
<textarea id="t" autofocus autocomplete="off" spellcheck="false" rows="3" cols="40"
 style="font: 32px monospace; width: 1000px; caret-color: transparent; outline: none;
        border: 2px solid #888; resize: none"></textarea>
<script>document.getElementById("t").focus();</script>
</main></body></html>
"""

# 300 x 250 (an advertisement's size) changing at 30 fps, the rest still
ANIM30 = peer_head("anim30") + """<main><h1>\u30a2\u30cb\u30e1\u30fc\u30b7\u30e7\u30f3
animation test page</h1><p>""" + JA + EN + """</p>
<canvas id="c" width="300" height="250"></canvas>
<script>
var cx = document.getElementById("c").getContext("2d"), f = 0;
setInterval(function () {
  f += 1;
  var g = cx.createLinearGradient(0, 0, 300, 250);
  g.addColorStop(0, "hsl(" + (f * 3 % 360) + ",80%,55%)");
  g.addColorStop(1, "hsl(" + ((f * 3 + 160) % 360) + ",80%,35%)");
  cx.fillStyle = g; cx.fillRect(0, 0, 300, 250);
  cx.fillStyle = "#fff"; cx.font = "bold 36px sans-serif";
  cx.fillText("\u30bb\u30fc\u30eb " + (f % 1000), 20 + (f * 4) % 120, 130);
  cx.beginPath(); cx.arc(150 + 100 * Math.cos(f / 9), 200, 24, 0, 7);
  cx.fillStyle = "#ff0"; cx.fill();
}, 33);
</script>
</main></body></html>
"""

IDLE = peer_head("idle") + """<main><h1>\u9759\u6b62 idle test page</h1><p>""" + \
    JA + EN + """</p><p>""" + EN + JA + """</p></main></body></html>
"""

# photos: smooth gradients, shapes and grain drawn from a fixed seed, like
# pictures on a news page, with captions; scrolled like the reading page
PHOTO = peer_head("photo") + """<main><h1>\u5199\u771f photo test page</h1>
<div id="g"></div>
<script>
var seed = 12345;
function rnd() { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; }
var g = document.getElementById("g");
for (var i = 0; i < 24; i++) {
  var cv = document.createElement("canvas"); cv.width = 480; cv.height = 320;
  cv.style.margin = "10px";
  var cx = cv.getContext("2d"), gr = cx.createLinearGradient(0, 0, 480, 320);
  gr.addColorStop(0, "hsl(" + (rnd() * 360 | 0) + ",60%,60%)");
  gr.addColorStop(1, "hsl(" + (rnd() * 360 | 0) + ",50%,30%)");
  cx.fillStyle = gr; cx.fillRect(0, 0, 480, 320);
  for (var k = 0; k < 30; k++) {
    var rg = cx.createRadialGradient(rnd() * 480, rnd() * 320, 2, rnd() * 480, rnd() * 320, 20 + rnd() * 120);
    rg.addColorStop(0, "hsla(" + (rnd() * 360 | 0) + ",70%,70%,0.8)");
    rg.addColorStop(1, "hsla(0,0%,0%,0)");
    cx.fillStyle = rg; cx.fillRect(0, 0, 480, 320);
  }
  var img = cx.getImageData(0, 0, 480, 320), d = img.data;
  for (var p = 0; p < d.length; p += 4) {
    var n = (rnd() - 0.5) * 24;
    d[p] += n; d[p + 1] += n; d[p + 2] += n;
  }
  cx.putImageData(img, 0, 0);
  g.appendChild(cv);
  var cap = document.createElement("p");
  cap.textContent = "\u5199\u771f " + (i + 1) + ": " + "@JA@".slice(0, 60);
  g.appendChild(cap);
}
</script>
</main></body></html>
""".replace("@JA@", JA)

PAGES = {"static": STATIC.encode("utf-8"), "anim": ANIM.encode("utf-8"),
         "soak": SOAK.encode("utf-8"), "noise": NOISE.encode("utf-8"),
         "read": reading_page().encode("utf-8"), "type": TYPING.encode("utf-8"),
         "anim30": ANIM30.encode("utf-8"), "idle": IDLE.encode("utf-8"),
         "photo": PHOTO.encode("utf-8")}


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
                self.send(400, ("mode is one of %s\n" % ", ".join(sorted(PAGES))).encode())
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
