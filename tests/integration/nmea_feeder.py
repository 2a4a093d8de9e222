#!/usr/bin/env python3
"""A GPS receiver on a TCP port, for gpsd: serves $GPRMC and $GPGGA for the
current UTC second, once a second, just after the second begins, with valid
checksums. Usage: nmea_feeder.py PORT"""
import socket
import sys
import threading
import time


def sentence(body):
    checksum = 0
    for ch in body.encode():
        checksum ^= ch
    return f"${body}*{checksum:02X}\r\n".encode()


def fix(t):
    tm = time.gmtime(t)
    hms = time.strftime("%H%M%S", tm)
    dmy = time.strftime("%d%m%y", tm)
    return [
        sentence(f"GPRMC,{hms}.00,A,4807.038,N,01131.000,E,0.0,0.0,{dmy},,,A"),
        sentence(f"GPGGA,{hms}.00,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,"),
    ]


def serve(conn):
    try:
        while True:
            now = time.time()
            second = int(now) + 1
            time.sleep(second - now + 0.05)
            for s in fix(second):
                conn.sendall(s)
    except OSError:
        conn.close()


def main():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", int(sys.argv[1])))
    listener.listen(4)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
