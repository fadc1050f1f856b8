#!/usr/bin/env python3
"""tests/fuzz/corpus/make_seeds.py: writes the seed corpus of every fuzz target
(tests/fuzz/corpus/<target>/<seed>), a handful of meaningful inputs each.
The seeds are committed; run this again after changing it (it overwrites
the files it writes and removes nothing else). Each seed's layout (its
first byte or bytes of options, then the input) is the one the target's
source describes at its top."""

import hashlib
import hmac
import json
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def seed(target, name, data):
    d = os.path.join(HERE, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def js(o):
    return json.dumps(o, ensure_ascii=False, separators=(",", ":"))


# ---- RFB pieces (fuzz_rfb_filter, fuzz_record) --------------------------------

def pixel_format(bpp=32, depth=24, big=0, true_colour=1, rmax=255, gmax=255, bmax=255,
                 rs=16, gs=8, bs=0):
    return struct.pack(">BBBBHHHBBB3x", bpp, depth, big, true_colour, rmax, gmax, bmax,
                       rs, gs, bs)


PF16 = pixel_format(16, 16, 0, 1, 31, 63, 31, 11, 5, 0)


def rfb_filter():
    t = "fuzz_rfb_filter"
    # byte 0: bit 0 clipboard allowed, bit 1 after the handshake, bit 2 cap UINT32_MAX; byte 1: cap
    key = lambda down, sym: struct.pack(">BBxxI", 4, down, sym)
    pointer = lambda mask, x, y: struct.pack(">BBHH", 5, mask, x, y)
    fbur = lambda inc, x, y, w, h: struct.pack(">BBHHHH", 3, inc, x, y, w, h)
    setenc = lambda *e: struct.pack(">BxH", 2, len(e)) + b"".join(struct.pack(">i", x) for x in e)
    cut = lambda text: struct.pack(">BxxxI", 6, len(text)) + text
    seed(t, "handshake", b"\x01\x40" + b"RFB 003.008\n" + b"\x01" + b"\x01" + key(1, 0x61))
    seed(t, "handshake_33", b"\x00\x00" + b"RFB 003.003\n" + b"\x01" + fbur(0, 0, 0, 1280, 800))
    seed(t, "session", b"\x03\x40" + b"\x00\x00\x00\x00" + PF16 +
         setenc(7, 16, 5, 1, 0, -239, -223, -224) + fbur(1, 0, 0, 1280, 800) +
         key(1, 0xff0d) + key(0, 0xff0d) + pointer(1, 10, 20) + pointer(0, 10, 20) +
         cut(b"hello"))
    seed(t, "clipboard_off", b"\x02\x00" + cut("日本語".encode()))
    seed(t, "clipboard_big", b"\x03\x08" + cut(b"0123456789abcdef"))
    seed(t, "setenc_unknown", b"\x06\x00" + setenc(0x574d5669, -314, 21, 6, -32, 7))
    seed(t, "extended_clipboard", b"\x07\x00" + struct.pack(">Bxxxi", 6, -8) +
         b"\x10\x00\x00\x01" + b"\x00\x00\x00\x00")
    z = provide_stream("〒100-0001 東京都".encode())
    seed(t, "extended_provide", b"\x03\x40" + struct.pack(">Bxxxi", 6, -(4 + len(z))) +
         b"\x10\x00\x00\x01" + z + key(1, 0x61))
    seed(t, "extended_caps", b"\x03\x40" + struct.pack(">Bxxxi", 6, -8) +
         b"\x01\x00\x00\x01" + b"\x00\x00\x10\x00")


def provide_stream(text, finish=False):
    """An extended clipboard Provide's zlib stream of UTF-8 text (size, text, NUL)."""
    c = zlib.compressobj()
    raw = struct.pack(">I", len(text) + 1) + text + b"\0"
    return c.compress(raw) + c.flush(zlib.Z_FINISH if finish else zlib.Z_SYNC_FLUSH)


def clip_text():
    t = "fuzz_clip_text"
    # byte 0: cap / 64; the rest: a Provide's stream (and, as it is, Latin-1 text)
    seed(t, "japanese", b"\x04" + provide_stream("〒100-0001 東京都千代田区\r\n".encode()))
    seed(t, "finished", b"\x04" + provide_stream(b"Caf\xc3\xa9", finish=True))
    seed(t, "control", b"\x04" + provide_stream(b"a\x1b[31mb"))
    seed(t, "over_cap", b"\x01" + provide_stream(b"x" * 200))
    seed(t, "latin1", b"\x01" + b"Caf\xe9 \xa5100\r\n")


def rfb_server_stream():
    init = lambda fmt=None, name=b"pixelgate": (struct.pack(">HH", 64, 48) + (fmt or pixel_format())
                                                + struct.pack(">I", len(name)) + name)
    hs38 = b"RFB 003.008\n" + b"\x01\x01" + struct.pack(">I", 0) + init()
    hs37 = b"RFB 003.007\n" + b"\x01\x01" + init()
    hs33 = b"RFB 003.003\n" + struct.pack(">I", 1) + init()
    rect = lambda x, y, w, h, enc, data=b"": struct.pack(">HHHHi", x, y, w, h, enc) + data
    fbu = lambda *r: struct.pack(">BxH", 0, len(r)) + b"".join(r)
    raw = fbu(rect(0, 0, 2, 2, 0, b"\x11" * 16))
    copy = fbu(rect(0, 0, 8, 8, 1, struct.pack(">HH", 0, 8)))
    hextile = fbu(rect(0, 0, 16, 16, 5, b"\x02" + b"\x00\x00\xff\x00"),
                  rect(16, 0, 4, 4, 5, b"\x01" + b"\x22" * 64),
                  rect(0, 16, 16, 16, 5, b"\x0e" + b"\x01\x02\x03\x04" * 2 + b"\x01" + b"\x00\x11"))
    zrle = fbu(rect(0, 0, 64, 48, 16, struct.pack(">I", 5) + b"\x78\x9c\x03\x00\x00"))
    tight = fbu(rect(0, 0, 64, 48, 7, b"\x80" + b"\x10\x20\x30"),
                rect(0, 0, 64, 48, 7, b"\x90" + b"\x05" + b"\xff\xd8\xff\xd9\x00"),
                rect(0, 0, 2, 1, 7, b"\x00" + b"\x01\x02\x03\x04\x05\x06"),
                rect(0, 0, 8, 8, 7, b"\x40\x01\x01" + b"\x00\x00\x00\xff\xff\xff" + b"\x0f" * 8))
    pseudo = fbu(rect(0, 0, 2, 2, -239, b"\x33" * 16 + b"\xc0\xc0"), rect(5, 5, 0, 0, -232),
                 rect(0, 0, 80, 60, -223),
                 rect(0, 0, 80, 60, -308, struct.pack(">Bxxx", 1) +
                      struct.pack(">IHHHHI", 1, 0, 0, 80, 60, 0)))
    lastrect = struct.pack(">BxH", 0, 0xffff) + rect(0, 0, 0, 0, -224)
    misc = (struct.pack(">BxHH", 1, 0, 2) + b"\x00" * 12 + b"\x02" +
            struct.pack(">BxxxI", 3, 5) + b"hello" + struct.pack(">Bxxxi", 3, -4) +
            b"\x00\x00\x00\x01" + b"\x96" + b"\xfa\x00\x01\x02")
    return hs38, hs37, hs33, raw, copy, hextile, zrle, tight, pseudo, lastrect, misc, fbu, rect


def record():
    t = "fuzz_record"
    hs38, hs37, hs33, raw, copy, hextile, zrle, tight, pseudo, lastrect, misc, fbu, rect = \
        rfb_server_stream()
    # byte 0: bits 0..1 pieces (1, 3, 100, 4096), bit 2 a SetPixelFormat (16 bytes, 2-byte offset)
    seed(t, "rfb38_raw", b"\x00" + hs38 + raw + copy + b"\x02")
    seed(t, "rfb38_hextile_zrle", b"\x01" + hs38 + hextile + zrle)
    seed(t, "rfb38_tight", b"\x02" + hs38 + tight)
    seed(t, "rfb38_pseudo", b"\x03" + hs38 + pseudo + lastrect)
    seed(t, "rfb38_misc", b"\x02" + hs38 + misc)
    seed(t, "rfb37", b"\x01" + hs37 + raw + b"\x02")
    seed(t, "rfb33", b"\x00" + hs33 + raw + struct.pack(">BxxxI", 3, 5) + b"hello")
    seed(t, "rfb38_16bpp", b"\x06" + PF16 + struct.pack(">H", len(hs38)) + hs38 +
         fbu(rect(0, 0, 2, 2, 0, b"\x44" * 8)) + b"\x02")


def rfb_stream():
    t = "fuzz_rfb_stream"
    # byte 0: bits 0-1 pixel format (32/24, 16/16, 8/8, 16/15), bit 2 cut text allowed,
    # bits 3-4 session size (64x48, 13x7, 2100x3, 1x1), bit 5 the target writes the
    # handshake, bit 6 no Zlib/ZRLE/JPEG allowed, bit 7 UTF-8 and extended cut text;
    # bytes 1-2: enum rfb_sc_encoding bits asked
    fmts = [pixel_format(), PF16, pixel_format(8, 8, 0, 1, 7, 7, 3, 0, 3, 6),
            pixel_format(16, 15, 0, 1, 31, 31, 31, 10, 5, 0)]
    sizes = [(64, 48), (13, 7), (2100, 3), (1, 1)]
    ALL = 0x7ff
    opts = lambda fmt=0, cut=False, size=0, own=False, nozlib=False, asked=ALL: (
        bytes([fmt | cut << 2 | size << 3 | own << 5 | nozlib << 6]) + struct.pack("<H", asked))
    rect = lambda x, y, w, h, enc, data=b"": struct.pack(">HHHHi", x, y, w, h, enc) + data
    fbu = lambda *r: struct.pack(">BxH", 0, len(r)) + b"".join(r)
    bell = b"\x02"
    cut = lambda text: struct.pack(">BxxxI", 3, len(text)) + text

    def compact(n):
        if n < 0x80:
            return bytes([n])
        if n < 0x4000:
            return bytes([n & 0x7f | 0x80, n >> 7])
        return bytes([n & 0x7f | 0x80, (n >> 7) & 0x7f | 0x80, n >> 14])

    def handshake(fmt=0, size=0, name=b"pixelgate"):
        w, h = sizes[size]
        return (b"RFB 003.008\n" + b"\x01\x01" + struct.pack(">I", 0) +
                struct.pack(">HH", w, h) + fmts[fmt] + struct.pack(">I", len(name)) + name)

    def checked(fmt=0, size=0):
        """An update of every kind libvncclient is checked against, in format fmt."""
        bpp = fmts[fmt][0] // 8
        tpx = 3 if fmt == 0 else bpp
        w, h = sizes[size]
        return fbu(
            rect(0, 0, min(w, 4), min(h, 2), 0, b"\xab" * (min(w, 4) * min(h, 2) * bpp)),
            rect(0, 0, 0, 0, 0),                                  # empty Raw
            rect(w - 1, 0, 1, 1, 1, struct.pack(">HH", 0, h - 1)),  # CopyRect
            # Hextile: a raw tile, then bg + fg + 2 subrects, then coloured subrects
            rect(0, 0, min(w, 16), min(h, 16), 5, b"\x01" + b"\x11" * (min(w, 16) * min(h, 16) * bpp)),
            rect(0, 0, 1, 1, 5, b"\x0e" + b"\x07" * (2 * bpp) + b"\x02" + b"\x00\x00" * 2),
            rect(0, 0, 1, 1, 5, b"\x18" + b"\x01" + b"\x09" * bpp + b"\x00\x00"),
            rect(0, 0, w, h, 7, b"\x80" + b"\x22" * tpx),          # Tight fill
            rect(0, 0, 1, 1, 7, b"\x00" + b"\x33" * tpx),          # Tight basic, under 12 bytes
            rect(0, 0, 1, 1, 7, b"\x40\x02" + b"\x44" * tpx),      # gradient, under 12 bytes
            rect(0, 0, min(w, 8), 1, 7, b"\x40\x01\x01" + b"\x55" * (2 * tpx) + b"\x5a"),  # palette
            rect(0, 0, min(w, 8), min(h, 2), 7, b"\xa0" + compact(min(w, 8) * min(h, 2) * tpx) +
                 b"\x77" * (min(w, 8) * min(h, 2) * tpx)),        # Tight without zlib
            rect(1, 1, 3, 2, -239, b"\x12" * (3 * 2 * bpp) + b"\xe0" * 2),  # RichCursor
            rect(0, 0, 9, 2, -240, b"\x34" * (6 + 2 * 2 * 2)),     # XCursor
            rect(0, 0, 0, 0, -239),                                # no cursor
            rect(0, 0, w, h, -223))                                # DesktopSize, the same size

    compressed = fbu(rect(0, 0, 8, 8, 6, struct.pack(">I", 5) + b"\x78\x9c\x03\x00\x00"),
                     rect(0, 0, 8, 8, 16, struct.pack(">I", 5) + b"\x78\x9c\x03\x00\x00"),
                     rect(0, 0, 8, 8, 7, b"\x00" + compact(9) + b"\x78\x9c" + b"\x00" * 7),
                     rect(0, 0, 8, 8, 7, b"\x90" + compact(4) + b"\xff\xd8\xff\xd9"))
    lastrect = lambda fmt=0: (struct.pack(">BxH", 0, 0xffff) +
                              rect(0, 0, 1, 1, 0, b"\x00" * (fmts[fmt][0] // 8)) +
                              rect(0, 0, 0, 0, -224))

    seed(t, "all_kinds_32", opts() + handshake() + fbu() + bell + checked() + lastrect() + compressed)
    seed(t, "checked_16", opts(1, own=True) + checked(1) + bell)
    seed(t, "checked_8", opts(2, own=True, asked=ALL & ~0x400) + checked(2) + lastrect(2))
    seed(t, "cut_text_15", opts(3, cut=True, own=True) + cut(b"Caf\xe9 03\t12\r\n") + bell +
         checked(3))
    z = provide_stream("コピー ok".encode())
    seed(t, "cut_text_utf8_extended", bytes([0x80 | 4 | 0x20]) + struct.pack("<H", ALL) +
         cut("日本語 ok".encode()) + struct.pack(">Bxxxi", 3, -(4 + len(z))) +
         b"\x10\x00\x00\x01" + z + bell)
    seed(t, "odd_size", opts(0, size=1) + handshake(0, 1, b"") +
         fbu(rect(0, 0, 13, 7, 5, b"\x02" + b"\x01\x02\x03\x04"), rect(12, 6, 1, 1, 0, b"\x00" * 4)))
    seed(t, "wide_session", opts(0, size=2, own=True) +
         fbu(rect(0, 0, 2100, 3, 7, b"\x80\x10\x20\x30"),
             rect(52, 0, 2048, 1, 7, b"\xe0\x02" + compact(2048 * 3) + b"\x01" * (2048 * 3))))
    seed(t, "refused_zlib", opts(0, size=3, own=True, nozlib=True) + bell +
         fbu(rect(0, 0, 1, 1, 6, struct.pack(">I", 5) + b"\x78\x9c\x03\x00\x00")))


# ---- JSON bodies ------------------------------------------------------------

def login():
    t = "fuzz_login"
    seed(t, "plain", js({"user": "yamada", "password": "correct horse battery"}))
    seed(t, "sizes", js({"user": "yamada", "password": "pw", "width": 1920, "height": 1080,
                         "new_session": True}))
    seed(t, "japanese", js({"user": "tanaka", "password": "日本語のパスワード"}))
    seed(t, "bad_name", js({"user": "山田", "password": "x"}))
    seed(t, "escapes", '{"user":"a\\u0041","password":"p\\n\\t\\"\\\\","width":640}')
    seed(t, "not_json", '{"user":"yamada","password":')


def limits():
    t = "fuzz_limits"
    # byte 0: buffer sizes (bit 7: other starting limits), byte 1: the limit given the text
    seed(t, "patch", b"\x01\x04" + js({"max_fps": 5, "max_sessions": 2}).encode())
    seed(t, "all", b"\x87\x00" + js({"max_sessions": 10, "max_sessions_per_user": 2,
                                      "idle_timeout_s": 900, "max_session_s": 28800,
                                      "reconnect_grace_s": 60, "max_fps": 30,
                                      "max_kbps": 20000, "login_max_failures": 5,
                                      "login_lockout_s": 300, "login_rate_per_s": 5,
                                      "login_burst": 10}).encode())
    seed(t, "text", b"\x05\x02" + b"600")
    seed(t, "out_of_range", b"\x02\x05" + js({"max_fps": -1}).encode())
    seed(t, "unknown", b"\x03\x01" + js({"max_fpss": 5}).encode())


def admin():
    t = "fuzz_admin"
    seed(t, "user_password_path", "/api/v1/users/yamada/password")
    seed(t, "session_path", "/api/v1/sessions/0123456789abcdef")
    seed(t, "basic", "Basic eWFtYWRhOmNvcnJlY3QgaG9yc2U=")
    seed(t, "credentials", "yamada:correct horse")
    seed(t, "new_user", js({"name": "tanaka", "password": "日本語パス", "admin": False}))
    seed(t, "password", js({"password": "new secret"}))
    seed(t, "admin_flag", js({"admin": True}))


def viewer_config():
    t = "fuzz_viewer_config"
    seed(t, "full", "[viewer]\nserver = wss://pixelgate.example.lg.jp:8443\n"
                    "ca_file = /etc/pixelgate/ca.pem\nuser = yamada\nlanguage = ja\n")
    seed(t, "comments", "# 設定\n; comment\n[viewer]\nserver=wss://[2001:db8::1]:8443/\n")
    seed(t, "ipv4", "server = wss://192.0.2.10\nlanguage = auto\n")
    seed(t, "bad", "[other]\nserver = http://x:99999\npassword = secret\n")
    seed(t, "url", "wss://pixelgate.example.jp:443/")


# ---- audit log lines (the target's key is i * 7 + 3) -------------------------

def audit_chain():
    t = "fuzz_audit_chain"
    key = bytes(i * 7 + 3 for i in range(32))
    dump = lambda o: json.dumps(o, sort_keys=True, separators=(",", ":")).encode()

    def rec(fields, seq, prev):
        r = dict(fields, ts="2026-11-26T03:04:05.678Z", seq=seq, prev=prev)
        r["mac"] = hmac.new(key, dump(r), hashlib.sha256).hexdigest()
        return r

    r1 = rec({"event": "login_ok", "user": "yamada", "client": "192.0.2.1", "session": ""}, 1, "")
    r2 = rec({"event": "navigate", "user": "yamada", "client": "192.0.2.1",
              "session": "0123456789abcdef", "url": "https://www.example.jp/",
              "title": "例", "target": "T1"}, 2, r1["mac"])
    nav = rec({"event": "navigate", "user": "yamada", "client": "192.0.2.1", "session": "s1",
               "url": "https://www.example.jp/", "tab": 1, "ok": True}, 1, "")
    # byte 0: bit 0 complete line, bit 1 small why, bit 2 after a good seq-1, bit 3 other key
    seed(t, "line", b"\x01" + dump(nav))
    seed(t, "file", b"\x11" + dump(r1) + b"\n" + dump(r2) + b"\n")
    seed(t, "second", b"\x05" + dump(r2))
    seed(t, "truncated", b"\x00" + dump(r1)[:40])
    seed(t, "wrong_key", b"\x09" + dump(r1))
    bad = dict(r1, mac="0" * 64)
    seed(t, "bad_mac", b"\x03" + dump(bad))


# ---- PROXY protocol v2 ----------------------------------------------------------

def proxy_v2():
    t = "fuzz_proxy_v2"
    sig = b"\r\n\r\n\x00\r\nQUIT\n"
    v4 = sig + b"\x21\x11" + struct.pack(">H", 12) + bytes([192, 0, 2, 10, 10, 0, 0, 1]) + \
        struct.pack(">HH", 5000, 8443)
    v6 = sig + b"\x21\x21" + struct.pack(">H", 36) + bytes.fromhex("20010db8" + "0" * 23 + "1") + \
        bytes.fromhex("20010db8" + "0" * 23 + "2") + struct.pack(">HH", 5000, 8443)
    local = sig + b"\x20\x00" + struct.pack(">H", 0)
    tlv = sig + b"\x21\x11" + struct.pack(">H", 12 + 7) + bytes([192, 0, 2, 10, 10, 0, 0, 1]) + \
        struct.pack(">HH", 5000, 8443) + b"\x04" + struct.pack(">H", 4) + b"\x00\x00\x00\x00"
    # byte 0: bit 0 the trusted-list parser, bits 1..3 the why buffer's size
    seed(t, "v4", b"\x00" + v4 + b"GET / HTTP/1.1\r\n")
    seed(t, "v6", b"\x08" + v6)
    seed(t, "local", b"\x02" + local)
    seed(t, "tlv", b"\x04" + tlv)
    seed(t, "short", b"\x06" + v4[:20])
    seed(t, "trusted", b"\x01" + b"10.0.0.0/8, 192.0.2.1,2001:db8::/32")


# ---- the new targets ------------------------------------------------------------

def cdp():
    t = "fuzz_cdp"
    m = lambda o: js(o).encode() + b"\0"
    answers = m({"id": 1, "result": {}}) + m({"id": 2, "result": {}})
    info = lambda title, url, ctx="CTX1", tid="T1": {
        "targetId": tid, "type": "page", "title": title, "url": url, "attached": True,
        "browserContextId": ctx}
    created = m({"method": "Target.targetCreated",
                 "params": {"targetInfo": info("", "about:blank")}})
    placeholder = m({"method": "Target.targetInfoChanged",
                     "params": {"targetInfo": info("www.example.jp/", "https://www.example.jp/")}})
    titled = m({"method": "Target.targetInfoChanged",
                "params": {"targetInfo": info("例のページ", "https://www.example.jp/")}})
    download = m({"method": "Browser.downloadWillBegin",
                  "params": {"frameId": "F1", "guid": "g1", "url": "https://www.example.jp/a.zip",
                             "suggestedFilename": "a.zip"}})
    # byte 0: bit 0 opening commands sent, bits 1..2 the pieces, bit 3 title waits end
    seed(t, "ready", b"\x01" + answers)
    seed(t, "navigate", b"\x03" + answers + created + placeholder + titled)
    seed(t, "download", b"\x05" + answers + download)
    seed(t, "refused", b"\x01" + m({"id": 1, "error": {
        "code": -32000, "message": "Browser context management is not supported."}}))
    seed(t, "context", b"\x07" + answers + m({
        "method": "Target.attachedToTarget",
        "params": {"sessionId": "S1", "targetInfo": info("x", "https://a.example/", "CTX2", "T2"),
                   "waitingForDebugger": False}}))
    seed(t, "title_query", b"\x09" + answers + placeholder + m({
        "id": 3, "result": {"targetInfo": info("例のページ", "https://www.example.jp/")}}))
    # a title just short of what one IPC message holds (a few more bytes: too long)
    long_title = "長" * 2690
    seed(t, "long_title", b"\x07" + answers + m({
        "method": "Target.targetInfoChanged",
        "params": {"targetInfo": info(long_title, "https://www.example.jp/")}}))
    seed(t, "long_title_query", b"\x09" + answers + placeholder + m({
        "id": 3, "result": {"targetInfo": info(long_title, "https://www.example.jp/")}}))
    seed(t, "split_message", b"\x02" + b'{"method":"Target.targetCreated","params":'
         b'{"targetInfo":{"type":"page","url":"https://b.example/","targetId":"T3"}}}\0{"id":')


def ipc():
    t = "fuzz_ipc"
    READY, ENDED, EVENT, SETTINGS = 4, 5, 6, 1

    def pk(type_, payload=b"", fd=False, hdrlen=None):
        if isinstance(payload, str):
            payload = payload.encode()
        d = struct.pack("=II", type_, len(payload) if hdrlen is None else hdrlen) + payload
        return struct.pack(">H", len(d) | (0x8000 if fd else 0)) + d

    nav = js({"event": "navigate", "url": "https://www.example.jp/", "title": "例のページ",
              "target": "T1"})
    dl = js({"event": "download_blocked", "url": "https://www.example.jp/a.zip",
             "filename": "a.zip"})
    sc = js({"event": "shortcut_blocked", "keys": "Ctrl+Shift+N"})
    lim = js({"event": "limit_exceeded", "limit": "memory", "detail": "RssAnon 2100 MiB"})
    # byte 0: bit 0 a viewer, bit 1 stopped first, bit 2 reaped first, bit 3 framing only
    seed(t, "life", b"\x01" + pk(READY) + pk(EVENT, nav) + pk(EVENT, dl) + pk(EVENT, sc) +
         pk(ENDED, "the browser exited"))
    seed(t, "detached", b"\x04" + pk(READY) + pk(EVENT, lim) +
         pk(EVENT, js({"event": "unknown_thing"})))
    seed(t, "ended_japanese", b"\x01" + pk(READY) +
         pk(ENDED, "ブラウザが予期せず終了しました。管理者に連絡してください。セッションは終了します。"))
    seed(t, "long_title", b"\x01" + pk(READY) + pk(EVENT, js({
        "event": "navigate", "url": "https://www.example.jp/", "title": "長" * 700,
        "target": "T1"})))
    seed(t, "descriptor", b"\x01" + pk(READY) + pk(EVENT, nav, fd=True) + pk(EVENT, nav))
    seed(t, "wrong_type", b"\x05" + pk(READY) + pk(SETTINGS, "{}") + pk(EVENT, nav))
    seed(t, "bad_length", b"\x01" + pk(EVENT, nav, hdrlen=9999) + pk(EVENT, nav))
    seed(t, "stopped", b"\x03" + pk(READY) + pk(ENDED, "x") + pk(EVENT, nav))
    seed(t, "framing", b"\x08" + pk(READY) + pk(EVENT, nav, fd=True) +
         pk(SETTINGS, "{}", hdrlen=3) + struct.pack(">H", 3) + b"abc" + pk(7, "x") +
         pk(ENDED, "x" * 8192))


def http():
    t = "fuzz_http"
    POST, UPG, CL, ALL, P7, OK, CLOSE, LATER = 1, 2, 4, 0x18, 0x08, 0x20, 0x40, 0x80

    def req(flags, uri, cl="", up="", proto="", args="", body=""):
        return bytes([flags]) + b"\0".join(x.encode() for x in (uri, cl, up, proto, args, body)) \
            + b"\0"

    def body(pw, user="yamada", **extra):
        return js(dict({"user": user, "password": pw}, **extra))

    b = body("correct horse battery", width=1280, height=800)
    upgrade = req(UPG, "/rfb", up="websocket", proto="binary", args="ticket=@0")
    # byte 0: bit 0 keep-alive, 1 audit down, 2 queue full, 3 draining, 4 full, 5 strict, 6 fail open
    seed(t, "login_upgrade", b"\x01" + req(POST | CL | ALL | OK, "/api/v1/login", str(len(b)),
                                            body=b) + upgrade + upgrade)
    seed(t, "wrong_password", b"\x00" + req(POST | CL | ALL, "/api/v1/login", "50",
                                             body=body("not the password")))
    seed(t, "locked_user", b"\x01" + req(POST | CL | P7 | OK, "/api/v1/login", "50",
                                          body=body("correct horse battery", "suzuki")))
    seed(t, "routes", b"\x01" + req(0, "/api/v1/login") + req(POST, "/api/v1/login") +
         req(0, "/rfb") + req(0, "/index.html") + req(POST | CL, "/api/v1/login", "0"))
    seed(t, "upgrade_refused", b"\x01" + req(POST | CL | ALL | OK, "/api/v1/login", "60", body=b) +
         req(UPG, "/", up="websocket", proto="binary", args="ticket=@0") +
         req(UPG, "/rfb", up="websocket", proto="chat", args="ticket=@0") +
         req(UPG, "/rfb", up="websocket", proto="binary") +
         req(UPG, "/rfb", up="h2c", proto="binary", args="ticket=@0") +
         req(UPG | LATER, "/rfb", up="websocket", proto="binary", args="x=1&ticket=@0"))
    seed(t, "body_in_bytes", b"\x00" + req(POST | CL | OK, "/api/v1/login", "60",
                                            body=body("correct horse battery", new_session=True)))
    seed(t, "close_in_check", b"\x01" + req(POST | CL | ALL | OK | CLOSE, "/api/v1/login", "60",
                                             body=b) +
         req(POST | CL | ALL | OK, "/api/v1/login", "60", body=b))
    seed(t, "lockout", b"\x21" + b"".join(req(POST | CL | ALL, "/api/v1/login", "60",
                                              body=body("guess number %d" % i)) for i in range(4)))
    seed(t, "audit_down", b"\x03" + req(POST | CL | ALL | OK, "/api/v1/login", "60", body=b))
    seed(t, "fail_open", b"\x43" + req(POST | CL | ALL | OK, "/api/v1/login", "60", body=b))
    seed(t, "too_big", b"\x00" + req(POST | CL | ALL, "/api/v1/login", "5000", body="x" * 5000))
    seed(t, "busy_draining_full", b"\x1d" + req(POST | CL | ALL | OK, "/api/v1/login", "60",
                                                 body=b))


if __name__ == "__main__":
    for make in (rfb_filter, clip_text, record, rfb_stream, login, limits, admin, viewer_config, audit_chain,
                 proxy_v2, cdp, ipc, http):
        make()
