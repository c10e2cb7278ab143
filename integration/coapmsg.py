"""Just enough of CoAP (RFC 7252) to build raw datagrams, including malformed ones, and
read the answer: an independent encoder, not libcoap."""

import random
import socket
import struct

CON, NON, ACK, RST = 0, 1, 2, 3
GET, POST, PUT, DELETE = 1, 2, 3, 4

OPT_URI_PATH, OPT_CONTENT_FORMAT, OPT_PROXY_URI = 11, 12, 35
OPT_TY, OPT_RVI, OPT_FR, OPT_RQI, OPT_RSC = 267, 271, 279, 283, 307


def _ext(v):
    if v < 13:
        return v, b""
    if v < 269:
        return 13, bytes([v - 13])
    return 14, struct.pack("!H", v - 269)


def uint_bytes(v):
    return v.to_bytes((v.bit_length() + 7) // 8, "big") if v else b""


def encode(code, options=(), payload=b"", mtype=CON, mid=None, token=None):
    """options: (number, bytes) pairs, any order (sorted stably here)."""
    mid = random.randrange(0x10000) if mid is None else mid
    token = random.randbytes(4) if token is None else token
    out = bytearray([0x40 | (mtype << 4) | len(token), code]) + struct.pack("!H", mid) + token
    last = 0
    for num, val in sorted(options, key=lambda o: o[0]):
        d, dext = _ext(num - last)
        l, lext = _ext(len(val))
        out += bytes([(d << 4) | l]) + dext + lext + val
        last = num
    if payload:
        out += b"\xff" + payload
    return bytes(out)


class Message:
    def __init__(self, mtype, code, mid, token, options, payload):
        self.mtype, self.code, self.mid, self.token = mtype, code, mid, token
        self.options, self.payload = options, payload

    @property
    def code_str(self):
        return "%d.%02d" % (self.code >> 5, self.code & 31)

    def opt(self, num):
        for n, v in self.options:
            if n == num:
                return v
        return None

    @property
    def rsc(self):
        v = self.opt(OPT_RSC)
        return None if v is None else int.from_bytes(v, "big")


def decode(data):
    if len(data) < 4 or data[0] >> 6 != 1:
        raise ValueError("not CoAP")
    tkl = data[0] & 15
    mtype, code, mid = (data[0] >> 4) & 3, data[1], struct.unpack("!H", data[2:4])[0]
    token, i, num, options = data[4:4 + tkl], 4 + tkl, 0, []
    while i < len(data) and data[i] != 0xFF:
        d, l = data[i] >> 4, data[i] & 15
        i += 1
        vals = []
        for x in (d, l):
            if x == 13:
                x, i = data[i] + 13, i + 1
            elif x == 14:
                x, i = struct.unpack("!H", data[i:i + 2])[0] + 269, i + 2
            vals.append(x)
        num += vals[0]
        options.append((num, data[i:i + vals[1]]))
        i += vals[1]
    payload = data[i + 1:] if i < len(data) else b""
    return Message(mtype, code, mid, token, options, payload)


def exchange(port, datagram, timeout=3.0, host="127.0.0.1"):
    """Sends one datagram, returns the first decoded answer or None on timeout. After an
    empty ACK (RFC 7252 5.2.2 separate response: tep-cse parks a request while its
    access decision is on its way) the answer is the response that follows, which is
    acknowledged when it is CON."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(datagram, (host, port))
        try:
            data, addr = s.recvfrom(65535)
            m = decode(data)
            if m.mtype == ACK and m.code == 0:
                data, addr = s.recvfrom(65535)
                m = decode(data)
                if m.mtype == CON:
                    s.sendto(encode(0, mtype=ACK, mid=m.mid, token=b""), addr)
        except socket.timeout:
            return None
    return m


def onem2m_request(code, path, frm, body=None, ty=None, rqi="it-1", extra=()):
    """A oneM2M request over CoAP (TS-0008): Uri-Path segments, From, RQI, RVI 3."""
    opts = [(OPT_URI_PATH, seg.encode()) for seg in path.strip("/").split("/")]
    opts += [(OPT_FR, frm.encode()), (OPT_RQI, rqi.encode()), (OPT_RVI, b"3")]
    if ty is not None:
        opts.append((OPT_TY, uint_bytes(ty)))
    if body is not None:
        opts.append((OPT_CONTENT_FORMAT, uint_bytes(50)))
    return encode(code, opts + list(extra), body or b"")
