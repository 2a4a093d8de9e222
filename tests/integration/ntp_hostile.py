#!/usr/bin/env python3
"""Sends 10,000 random and mutated packets to an NTP server and checks that
it survives, never answers with more bytes than it was sent, and answers only
requests a server may answer: client mode 3 (with mode 4), NTPv1 mode 0 from
a port other than 123 (with mode 4), symmetric active mode 1 (with passive
mode 2, as chronyd does), each in the request's version 1-4.

    ntp_hostile.py PORT SERVER_PID [COUNT] [SEED]

Run inside tests/integration/in_netns.sh against a server on 127.0.0.1.
"""
import os
import random
import select
import socket
import struct
import sys
import time


def valid_request(rng):
    ver = rng.choice([1, 2, 3, 4, 4, 4])
    pkt = bytearray(48)
    pkt[0] = (0 << 6) | (ver << 3) | 3
    pkt[2] = rng.randrange(0, 18)
    pkt[3] = 0xe9
    return pkt


def extension_field(rng):
    length = rng.choice([16, 20, 28, 64, rng.randrange(0, 200)])
    body = bytes(rng.randrange(256) for _ in range(max(0, length - 4)))
    return struct.pack(">HH", rng.randrange(0x10000), length) + body


def mutate(rng, pkt):
    pkt = bytearray(pkt)
    for _ in range(rng.randrange(1, 4)):
        op = rng.randrange(9)
        if op == 0 and pkt:                     # flip bits
            for _ in range(rng.randrange(1, 8)):
                i = rng.randrange(len(pkt))
                pkt[i] ^= 1 << rng.randrange(8)
        elif op == 1 and pkt:                   # another mode/version/leap
            pkt[0] = rng.randrange(256)
        elif op == 2:                           # truncate
            pkt = pkt[:rng.randrange(len(pkt) + 1)]
        elif op == 3:                           # extension fields
            for _ in range(rng.randrange(1, 4)):
                pkt += extension_field(rng)
        elif op == 4:                           # a MAC of a typical size
            pkt += bytes(rng.randrange(256) for _ in range(rng.choice([4, 20, 24, 36, 68])))
        elif op == 5:                           # garbage tail
            pkt += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
        elif op == 6 and len(pkt) >= 48:       # extreme header values
            pkt[1] = rng.choice([0, 1, 15, 16, 255])
            pkt[2] = rng.choice([0, 17, 127, 128, 255])
            pkt[3] = rng.choice([0, 0x80, 0xff, 0x20])
        elif op == 7:                           # huge
            pkt += bytes(rng.randrange(256) for _ in range(rng.randrange(500, 1400)))
        else:                                   # timestamps of every kind
            if len(pkt) >= 48:
                for off in (16, 24, 32):
                    pkt[off:off + 8] = rng.choice([b"\0" * 8, b"\xff" * 8, rng.randbytes(8)])
    return pkt


def main():
    port, server_pid = int(sys.argv[1]), int(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 20261125
    rng = random.Random(seed)
    print(f"ntp_hostile: {count} packets, seed {seed}")

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    src_port = sock.getsockname()[1]
    target = ("127.0.0.1", port)

    sent = {}   # tag -> request bytes
    answers = 0
    errors = []

    def drain(timeout):
        nonlocal answers
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([sock], [], [], left)[0]:
                return
            while True:
                try:
                    reply, _ = sock.recvfrom(4096)
                except BlockingIOError:
                    break
                answers += 1
                check(reply)

    def check(reply):
        if len(reply) < 48:
            errors.append(f"reply of {len(reply)} bytes")
            return
        req = sent.get(bytes(reply[24:32]))
        if req is None:
            errors.append("reply whose origin timestamp matches no request")
            return
        if len(reply) > len(req):
            errors.append(f"{len(reply)}-byte reply to a {len(req)}-byte request")
        ver, mode = (req[0] >> 3) & 7, req[0] & 7
        rver, rmode = (reply[0] >> 3) & 7, reply[0] & 7
        ok_modes = {3: 4, 1: 2}
        if ver == 1 and mode == 0 and src_port != 123:
            ok_modes[0] = 4
        if not 1 <= ver <= 4 or mode not in ok_modes:
            errors.append(f"answered a version {ver} mode {mode} request")
        elif rmode != ok_modes[mode] or rver != ver:
            errors.append(f"version {ver} mode {mode} request answered as version {rver} mode {rmode}")

    for i in range(count):
        if rng.random() < 0.3:
            pkt = bytearray(rng.randbytes(rng.randrange(0, 1200)))
        else:
            pkt = mutate(rng, valid_request(rng))
        if len(pkt) >= 48:
            tag = struct.pack(">Q", (1 << 63) | i)  # unique transmit timestamp
            pkt[40:48] = tag
            sent[tag] = bytes(pkt)
        try:
            sock.sendto(pkt, target)
        except OSError as e:
            errors.append(f"send: {e}")
        if i % 200 == 199:
            drain(0.02)
            if not os.path.exists(f"/proc/{server_pid}"):
                errors.append(f"server died after {i + 1} packets")
                break
    drain(1.0)

    alive = os.path.exists(f"/proc/{server_pid}")
    # A valid request is still answered.
    probe = valid_request(rng)
    probe[0] = (4 << 3) | 3
    probe[40:48] = b"\x7fPROBE!!"
    sent[bytes(probe[40:48])] = bytes(probe)
    before = answers
    sock.sendto(probe, target)
    drain(2.0)
    print(f"ntp_hostile: {answers} answers, {len(errors)} problems, server alive: {alive}")
    for e in errors[:20]:
        print("  " + e)
    if errors or not alive or answers == before:
        if answers == before:
            print("  the server did not answer a valid request afterwards")
        sys.exit(1)
    print("ntp_hostile: ok")


if __name__ == "__main__":
    main()
