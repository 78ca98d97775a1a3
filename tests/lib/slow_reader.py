#!/usr/bin/env python3
"""A WebSocket reader with a tiny receive window, for backpressure.test.mjs.

Node cannot shrink a socket's receive buffer before it connects; this client
can, so the server's write of a big frame to it falls short half-way.

  slow_reader.py PORT [steady|stall|ping]

Creates a room; a writer posts 50 messages of 8,000 bytes (a snapshot of
about 400 KB); the reader joins with a 4 KiB receive buffer and reads
nothing; the writer, once it has seen the reader join, chats until the
server's metrics count a slow close (at most 4,000 messages). Then the
reader reads all it was sent. Prints one JSON line: the frames it got and
the close code of the last one; exits 1 if a frame is cut off or anything
follows the close frame.

With `steady` the writer sends only 10 messages of 1,500 bytes while the
snapshot is still on its way, far below the queue's bound, and the reader
then reads everything: the snapshot's unsent rest is not backlog, so the
server must not close it (exit 1 if it did).

With `stall` the reader has a 64 KiB receive buffer and no snapshot to
speak of: it reads 50 messages of 8,000 bytes as they come, one at a time,
then stops; the writer goes on chatting (each message once its ok and its
event are in) and reads the metrics after each message, until they count a
slow close (at most 1,000 messages). Then the reader reads what it was
sent. Prints one JSON line: the messages after the stop (`chats`), the bytes
of their frames (`after_stop`: what the server took on for the reader before
it gave up), the bytes the reader then got (`held`: its own and the
server's kernel buffers, lws's unsent write, the close frame) and the close
code; exits 1 if a frame is cut off or no close frame came.

With `ping` the reader sends a ping as soon as its join is applied, while
the snapshot's write to it is stuck part-way, and nobody chats; then it
reads until the pong. Prints one JSON line: the frames' opcodes and sizes,
whether the pong carried the ping's payload, and the bytes cut off; exits 1
unless the snapshot came whole and the pong after it (a pong written inside
the snapshot's frame breaks the stream: the snapshot's length then swallows
it, and what follows is no frame).
"""
import base64
import json
import os
import socket
import struct
import sys
import urllib.request

PORT = int(sys.argv[1])
STEADY = sys.argv[2:] == ['steady']
STALL = sys.argv[2:] == ['stall']
PING = sys.argv[2:] == ['ping']
BASE = 'http://127.0.0.1:%d' % PORT


def mp(o):
    """MessagePack of the dicts, strings and small ints the requests use."""
    if isinstance(o, dict):
        b = bytes([0x80 | len(o)])
        for k, v in o.items():
            b += mp(k) + mp(v)
        return b
    if isinstance(o, int):
        return b'\xce' + struct.pack('>I', o)
    s = o.encode()
    if len(s) < 32:
        return bytes([0xa0 | len(s)]) + s
    if len(s) < 256:
        return bytes([0xd9, len(s)]) + s
    return b'\xda' + struct.pack('>H', len(s)) + s


def connect(rcvbuf=None, maxseg=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if maxseg:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, maxseg)
    s.settimeout(20)
    s.connect(('127.0.0.1', PORT))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(('GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n'
               'Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n'
               'Sec-WebSocket-Protocol: potluck.v1\r\n\r\n' % key).encode())
    head = b''
    while b'\r\n\r\n' not in head:
        head += s.recv(1)
    if b' 101 ' not in head.split(b'\r\n')[0]:
        sys.exit('no upgrade: %r' % head)
    return s


def send(s, obj, opcode=2):
    p, m = mp(obj) if opcode == 2 else obj, os.urandom(4)
    n = bytes([0x80 | len(p)]) if len(p) < 126 else bytes([0x80 | 126]) + struct.pack('>H', len(p))
    masked = int.from_bytes(p, 'little') ^ int.from_bytes((m * (len(p) // 4 + 1))[:len(p)], 'little')
    s.sendall(bytes([0x80 | opcode]) + n + m + masked.to_bytes(len(p), 'little'))


def frames(data):
    """(opcode, payload, end offset) of each whole frame, and the bytes left over."""
    out, pos = [], 0
    while pos + 2 <= len(data):
        b0, n, h = data[pos], data[pos + 1] & 0x7f, 2
        if n == 126:
            n, h = struct.unpack('>H', data[pos + 2:pos + 4])[0], 4
        elif n == 127:
            n, h = struct.unpack('>Q', data[pos + 2:pos + 10])[0], 10
        if pos + h + n > len(data):
            break
        out.append((b0 & 15, data[pos + h:pos + h + n], pos + h + n))
        pos += h + n
    return out, data[pos:]


def read_until(s, data, done):
    """Reads s onto data until done(frames(data)) holds, the peer closes,
    or 10 s pass without a byte."""
    s.settimeout(10)
    while not done(frames(data)):
        try:
            d = s.recv(1 << 20)
        except socket.timeout:
            break
        if not d:
            break
        data += d
    return data


def ending(data):
    """The frames in data, the bytes after the last whole one, and the last
    frame's opcode and close code (None unless it is a close frame)."""
    got, rest = frames(data)
    op, payload, _ = got[-1] if got else (None, b'', 0)
    code = struct.unpack('>H', payload[:2])[0] if op == 8 and len(payload) >= 2 else None
    return got, rest, op, code


class Reader:
    """Reads a connection's frames until one matches, keeping what follows."""

    def __init__(self, s):
        self.s, self.buf = s, b''

    def until(self, pred):
        while True:
            got, _ = frames(self.buf)
            for op, p, end in got:
                if pred(op, p):
                    self.buf = self.buf[end:]
                    return
            if got:
                self.buf = self.buf[got[-1][2]:]
            d = self.s.recv(1 << 20)
            if not d:
                sys.exit('writer: connection closed')
            self.buf += d


def slow_closes():
    m = urllib.request.urlopen(BASE + '/metrics', timeout=10).read().decode()
    for line in m.splitlines():
        if line.startswith('potluck_slow_closes_total '):
            return int(line.split()[1])
    return 0


WARM = 50  # stall: messages the reader reads before it stops


def stall(room):
    """The `stall` mode (see the top of this file)."""
    w = connect()
    wr = Reader(w)
    send(w, {'t': 'join', 'id': 1, 'room': room, 'name': 'Writer'})
    wr.until(lambda op, p: b'\xa1t\xa2ok' in p[:8])
    r = connect(rcvbuf=65536)
    rr = Reader(r)
    send(r, {'t': 'join', 'id': 1, 'room': room, 'name': 'Reader'})
    rr.until(lambda op, p: b'\xa1t\xa2ok' in p[:8])
    sizes = []  # of the chat frames the writer gets: every member gets the same

    def chat(i):
        """Posts message i; returns once the writer has its ok and its event."""
        send(w, {'t': 'chat', 'id': 2 + i, 'text': '%d %s' % (i, '\U0001F9C6' * 1990)})
        ok = []

        def pred(op, p):
            if b'\xa4chat' in p[:16]:
                sizes.append(len(p) + 4)  # a 2-byte length: 126 to 65,535 bytes
            elif b'\xa1t\xa5error' in p[:16]:
                sys.exit('chat %d: %r' % (i, p[:200]))
            elif b'\xa1t\xa2ok' in p[:8]:
                ok.append(p)
            return ok and len(sizes) == i + 1
        wr.until(pred)

    for i in range(WARM):  # the reader keeps up
        chat(i)
        rr.until(lambda op, p: b'\xa4chat' in p[:16])
    before = slow_closes()  # the reader has read everything and stops
    n = WARM
    while n < WARM + 1000 and slow_closes() == before:
        chat(n)
        n += 1
    # then it reads what it was sent, up to the close frame
    data = read_until(r, rr.buf, lambda fr: fr[0] and fr[0][-1][0] == 8)
    got, rest, op, code = ending(data)
    print(json.dumps({'chats': n - WARM, 'after_stop': sum(sizes[WARM:]), 'held': len(data),
                      'slow_closes': slow_closes() - before, 'close': code, 'cut_off': len(rest)}))
    sys.exit(0 if not rest and op == 8 else 1)


req = urllib.request.Request(BASE + '/api/rooms', data=b'{"title":"slow reader"}',
                             headers={'Content-Type': 'application/json'})
room = json.load(urllib.request.urlopen(req, timeout=10))['room_id']
if STALL:
    stall(room)
w = connect()
wr = Reader(w)
send(w, {'t': 'join', 'id': 1, 'room': room, 'name': 'Writer'})
for i in range(50):
    send(w, {'t': 'chat', 'id': 2 + i, 'text': '%d %s' % (i, '\U0001F9C6' * 1990)})
# the reply to the 50th message: {t: "ok", id: 51, ...} (51 is a fixint)
wr.until(lambda op, p: b'\xa1t\xa2ok' in p[:8] and b'\xa2id\x33' in p)

r = connect(rcvbuf=4096, maxseg=536)
send(r, {'t': 'join', 'id': 1, 'room': room, 'name': 'Reader'})
wr.until(lambda op, p: b'\xa6joined' in p[:16])  # the reader's join is applied

if PING:  # the snapshot's write is stuck part-way: a ping now
    send(r, b'potluck-ping', opcode=9)
    data = read_until(r, b'', lambda fr: any(op == 10 for op, _, _ in fr[0]) or len(fr[1]) > 1 << 20)
    got, rest = frames(data)
    ops = [op for op, _, _ in got]
    pong = [p for op, p, _ in got if op == 10]
    print(json.dumps({'frames': [[op, len(p)] for op, p, _ in got][:6], 'pong': pong == [b'potluck-ping'],
                      'cut_off': len(rest)}))
    whole = ops[:1] == [2] and len(got[0][1]) > 300000
    sys.exit(0 if whole and pong == [b'potluck-ping'] and not rest else 1)

before = slow_closes()
sent = 0
while sent < (10 if STEADY else 4000) and (STEADY or slow_closes() == before):
    for _ in range(10 if STEADY else 100):
        sent += 1
        send(w, {'t': 'chat', 'id': 100 + sent, 'text': 'x' * 1500})
    w.setblocking(False)
    try:
        while w.recv(1 << 20):
            pass
    except BlockingIOError:
        pass
    w.setblocking(True)
    w.settimeout(20)

data = read_until(r, b'', lambda fr: STEADY and sum(1 for _, p, _ in fr[0] if b'\xa4chat' in p[:16]) == sent)
got, rest, op, code = ending(data)
print(json.dumps({'sent': sent, 'chats': sum(1 for _, p, _ in got if b'\xa4chat' in p[:16]), 'slow_closes': slow_closes() - before, 'bytes': len(data),
                  'frames': len(got), 'sizes': [len(p) for _, p, _ in got][:4], 'cut_off': len(rest),
                  'close': code}))
if STEADY:
    chats = sum(1 for _, p, _ in got if b'\xa4chat' in p[:16])
    sys.exit(0 if not rest and chats == sent and slow_closes() == before else 1)
sys.exit(0 if not rest and op == 8 else 1)
