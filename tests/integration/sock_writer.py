#!/usr/bin/env python3
"""Sends chronyd's SOCK refclock samples as gpsd does (struct sock_sample:
timeval, double offset, int pulse, int leap, int pad, int magic) to a Unix
datagram socket once a second, for a GPS whose time is exact: the sample
is the system time and an offset of 0 ± 1 ms. Usage: sock_writer.py PATH"""
import random
import socket
import struct
import sys
import time

MAGIC = 0x534F434B


def main():
    path = sys.argv[1]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    while True:
        now = time.time()
        sec = int(now)
        usec = int((now - sec) * 1e6)
        offset = random.gauss(0.0, 1e-3)
        sample = struct.pack("=qqdiiii", sec, usec, offset, 0, 0, 0, MAGIC)
        try:
            s.sendto(sample, path)
        except OSError:
            pass  # the daemon is not there (yet, or any more): retry, as gpsd does
        time.sleep(1)


if __name__ == "__main__":
    main()
