#!/usr/bin/env python3
"""Sends 10,000 random and mutated command requests to stratad's command
port and Unix socket and checks that it survives, never answers with more
bytes than it was sent, answers only with chrony reply packets (type 2)
that echo the request's command and sequence number, and refuses every
modifying command that arrives over UDP (status 2, "Not authorised").
The mutations start from chronyc's own requests (the fuzz corpus).

    control_hostile.py PORT SOCKET SERVER_PID CORPUS_DIR [COUNT] [SEED]

Run inside tests/integration/in_netns.sh against stratad on 127.0.0.1.
"""
import json
import os
import random
import socket
import struct
import sys
import tempfile

# chronyd's commands that may come over UDP (read-only, not revealing).
NETWORK_OK = {0, 14, 15, 33, 34, 35, 41, 44, 51, 65, 10}


def mutate(rng, seed):
    pkt = bytearray(seed)
    for _ in range(rng.randrange(1, 6)):
        choice = rng.randrange(5)
        if choice == 0 and pkt:
            pkt[rng.randrange(len(pkt))] = rng.randrange(256)
        elif choice == 1 and pkt:
            del pkt[rng.randrange(len(pkt)):]
        elif choice == 2:
            pkt += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
        elif choice == 3 and len(pkt) >= 6:
            struct.pack_into(">H", pkt, 4, rng.randrange(0, 80))  # another command
        elif choice == 4 and len(pkt) >= 4:
            pkt[0] = rng.choice([4, 5, 6, 7])  # protocol version
    return bytes(pkt)


def check_reply(request, reply, over_udp):
    assert len(reply) <= len(request), f"reply {len(reply)} > request {len(request)}"
    assert len(reply) >= 28 and reply[1] == 2, f"not a reply: {reply[:4].hex()}"
    req_cmd, = struct.unpack_from(">H", request, 4)
    rep_cmd, = struct.unpack_from(">H", reply, 4)
    status, = struct.unpack_from(">H", reply, 8)
    assert rep_cmd == req_cmd, (req_cmd, rep_cmd)
    assert reply[16:20] == request[8:12], "sequence number not echoed"
    if over_udp and req_cmd not in NETWORK_OK and status == 0:
        raise AssertionError(f"command {req_cmd} succeeded over UDP")
    return status


def main():
    port, sock_path, pid, corpus = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
    count = int(sys.argv[5]) if len(sys.argv) > 5 else 10000
    rng = random.Random(int(sys.argv[6]) if len(sys.argv) > 6 else 1)
    seeds = [open(os.path.join(corpus, f), "rb").read() for f in sorted(os.listdir(corpus))
             if f.startswith("chronyc_")]
    assert seeds, "no chronyc_* seeds in the corpus"
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.settimeout(0.05)
    tmp = tempfile.mkdtemp(dir=os.path.dirname(sock_path))
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    unix.bind(os.path.join(tmp, "client.sock"))
    unix.settimeout(0.05)
    # JSON requests from a socket of their own, whose short queue holds
    # only their answers.
    unix_json = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    unix_json.bind(os.path.join(tmp, "json.sock"))
    answered = 0
    answered_json = 0
    json_sent = 0
    json_seeds = [b'{"version":1,"command":"sources"}', b'{"command":"tracking"}',
                  b'{"command":"clients","max":3}', b'{"command":"ntpdata","address":"127.0.0.1"}',
                  b'{"command":"burst","good":"x"}', b'{"command":"selectdata"}']
    sent = {}  # sequence number → (request, over UDP)

    def drain(sock, over_udp, wait):
        nonlocal answered, answered_json
        sock.settimeout(wait)
        while True:
            try:
                reply = sock.recv(2048)
            except socket.timeout:
                return
            if reply[:1] == b"{":
                # strata's JSON interface answered a datagram that began
                # with '{' (Unix socket only): a JSON object, a report or a
                # status.
                assert not over_udp, f"JSON reply over UDP: {reply[:60]}"
                obj = json.loads(reply)
                assert isinstance(obj, dict) and "report" in obj, reply[:200]
                answered_json += 1
                continue
            assert len(reply) >= 20, f"short reply {reply.hex()}"
            seq = reply[16:20]
            assert seq in sent, f"reply to no request: {reply[:20].hex()}"
            request, via_udp = sent.pop(seq)
            assert via_udp == over_udp
            check_reply(request, reply, over_udp)
            answered += 1

    for i in range(count):
        roll = rng.random()
        is_json = roll < 0.1 and i % 2 == 1
        if is_json:
            # A mutated JSON request (over the Unix socket: i is odd).
            request = mutate(rng, rng.choice(json_seeds))
            if request[:1] != b"{":
                request = b"{" + request
            json_sent += 1
        elif roll < 0.2:
            request = bytearray(rng.randrange(256) for _ in range(rng.randrange(0, 600)))
        else:
            request = bytearray(mutate(rng, rng.choice(seeds)))
        # A sequence number of its own, so that its answer is known.
        if len(request) >= 12 and not is_json:
            request = bytearray(request)
            struct.pack_into(">I", request, 8, i)
        request = bytes(request)
        over_udp = i % 2 == 0
        if not is_json and len(request) >= 6 and struct.unpack_from(">H", request, 4)[0] == 62:
            over_udp = True  # a SHUTDOWN that stayed valid would end the test, not the fault
        if len(request) >= 12 and not is_json:
            sent[request[8:12]] = (request, over_udp)
        # A Unix datagram socket's queue is short (10): when the daemon (slow
        # under ASan) has not read it yet, sending waits; collect the answers
        # meanwhile and send again.
        for _ in range(100):
            target = udp if over_udp else (unix_json if is_json else unix)
            target.settimeout(0.05)
            try:
                target.sendto(request, ("127.0.0.1", port) if over_udp else sock_path)
                break
            except (socket.timeout, BlockingIOError):
                drain(udp, True, 0.01)
                drain(unix, False, 0.01)
        else:
            raise AssertionError("the daemon stopped reading its command socket")
        if is_json:
            # Each JSON request is answered, with a JSON object.
            unix_json.settimeout(2.0)
            try:
                obj = json.loads(unix_json.recv(65536))
            except socket.timeout:
                raise AssertionError(f"no answer to JSON request {request!r}")
            assert isinstance(obj, dict) and "report" in obj, obj
            answered_json += 1
        if i % 50 == 49:
            drain(udp, True, 0.02)
            drain(unix, False, 0.02)
        if i % 1000 == 0:
            os.kill(pid, 0)  # still alive
    drain(udp, True, 0.5)
    drain(unix, False, 0.5)
    os.kill(pid, 0)
    # A good request still gets its answer.
    good = next(s for s in seeds if struct.unpack_from(">H", s, 4)[0] == 33)
    unix.settimeout(2)
    unix.sendto(good, sock_path)
    reply = unix.recv(2048)
    assert reply[16:20] == good[8:12]
    status = struct.unpack_from(">H", reply, 8)[0]
    assert status == 0, f"tracking after the storm: status {status}"
    print(f"control_hostile: {count} requests ({json_sent} mutated JSON), {answered} chrony replies, "
          f"{answered_json} JSON replies; stratad alive")


if __name__ == "__main__":
    main()
