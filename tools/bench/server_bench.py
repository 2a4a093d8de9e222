#!/usr/bin/env python3
"""Side-by-side NTP server benchmark: stratad, chronyd and a bare UDP echo.

Run it inside a private network namespace (it refuses otherwise), e.g.
    tests/integration/in_netns.sh python3 tools/bench/server_bench.py --build build/release

For each responder it starts the server on loopback, measures its idle RSS,
then drives it with tools/ntpload at each offered rate and closed-loop
(saturation), and prints two Markdown tables. The first: responses/s, loss,
response-time percentiles, server CPU time per response and its ratio to the
echo's (and to the echo with NTP metadata, `echo-ntp`) at the same rate, as
the median of the ratios within each repetition, and RSS under load. The
second: the served time, as the clock offset a client computes from each
response (p1, p50, p99; server and load share one clock, so the truth is 0
and the spread is the error a client sees) and the time between the
response's receive and transmit timestamps. Servers run with clock control
off (-x) and are stopped by PID. The server runs on one core and the load on
another (--server-cpu, --load-cpu), so that neither takes the other's. With
--repeat N every repetition runs every responder at every rate,
interleaved, and the tables show the medians. --delays D1,D2 adds stratad
with `serverbatchdelay` D1, D2 … (responders stratad-dD1 …).

--server-share F caps the server at the fraction F of its core (a CPU
bandwidth cgroup: F × 2 ms of CPU time in every 2 ms, F at least 0.5), so
that the server, not the load, is what runs out: its rate at < 1 % loss then
measures what the server can answer, where on a machine of two cores the
load's own core gives out first.
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

PORT = 12123


def in_private_netns():
    # In the namespace made by in_netns.sh only `lo` exists.
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    return [line.split(":")[1].strip() for line in out.splitlines()] == ["lo"]


def wait_bound(port, proc, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        out = subprocess.run(["ss", "-Hlun", f"sport = :{port}"], capture_output=True, text=True).stdout
        if out.strip():
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def responders(build, workdir, threads, baseline, delays):
    stratad = os.path.join(build, "daemon/stratad")

    def conf(name, daemon, extra=""):
        path = os.path.join(workdir, name + ".conf")
        with open(path, "w") as f:
            f.write(f"local stratum 1\nallow all\nport {PORT}\ncmdport 0\npidfile {workdir}/{daemon}.pid\n{extra}")
        return path

    strata_conf = conf("strata", "stratad")
    out = {
        "echo": [os.path.join(build, "tools/udp_echo"), "--port", str(PORT)],
        "echo-ntp": [os.path.join(build, "tools/udp_echo"), "--port", str(PORT), "--ntp-metadata"],
        "chronyd": ["chronyd", "-x", "-d", "-u", "root", "-f", conf("chrony", "chronyd")],
        "stratad": [stratad, "-x", "-d", "-f", strata_conf],
        # stratad answering every wakeup at once, as chronyd and the echo do
        "stratad-nodelay": [stratad, "-x", "-d", "-f", conf("strata-nodelay", "stratad", "serverbatchdelay 0\n")],
    }
    if baseline:
        # Another build's stratad (e.g. main before a change), side by side
        # with this one's in the same run.
        out["stratad-baseline"] = [os.path.join(baseline, "daemon/stratad"), "-x", "-d", "-f", strata_conf]
    for d in delays:
        out[f"stratad-d{d}"] = [stratad, "-x", "-d", "-f", conf(f"strata-d{d}", "stratad", f"serverbatchdelay {d}\n")]
    for n in threads:
        out[f"stratad-{n}t"] = [stratad, "-x", "-d", "-f", conf(f"strata{n}", "stratad", f"serverthreads {n}\n")]
    return out


class CpuCap:
    """A CPU bandwidth cgroup (v2 cpu.max, or v1 cpu.cfs_quota_us) that lets
    its processes run `share` of every PERIOD_US on one core."""
    PERIOD_US = 2000

    def __init__(self, share):
        quota = int(share * self.PERIOD_US)
        if quota < 1000 or share > 1:
            sys.exit("server_bench: --server-share must lie between 0.5 and 1 (a quota of 1 ms or more)")
        name = f"strata-bench-{os.getpid()}"
        if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
            self.dir = os.path.join("/sys/fs/cgroup", name)
            os.mkdir(self.dir)
            self._write("cpu.max", f"{quota} {self.PERIOD_US}")
        else:
            self.dir = os.path.join("/sys/fs/cgroup/cpu", name)
            os.mkdir(self.dir)
            self._write("cpu.cfs_period_us", str(self.PERIOD_US))
            self._write("cpu.cfs_quota_us", str(quota))

    def _write(self, name, value):
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(value)

    def add(self, pid):
        self._write("cgroup.procs", str(pid))

    def remove(self):
        os.rmdir(self.dir)


def pinned(cpu):
    """A preexec_fn that puts the child on `cpu` (None: anywhere)."""
    if cpu is None or cpu < 0:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


def load(build, rate, duration, pid, clients, batch, tick, cpu, unwoken):
    cmd = [os.path.join(build, "tools/ntpload"), "--port", str(PORT), "--duration", str(duration),
           "--clients", str(clients), "--batch", str(batch), "--server-pid", str(pid), "--json"]
    if rate > 0:
        cmd += ["--rate", str(rate)]
        if tick > 0:
            cmd += ["--tick", str(tick)] + (["--unwoken"] if unwoken else [])
    else:
        cmd += ["--window", "4096"]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True,
                                     preexec_fn=pinned(cpu)).stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build/release")
    ap.add_argument("--rates", default="50000,100000,200000,300000,400000,0",
                    help="offered rates; 0 = closed loop (saturation)")
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--clients", type=int, default=16384, help="source addresses of the load")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--responders", default="echo,chronyd,stratad",
                    help="of echo, echo-ntp, chronyd, stratad, stratad-nodelay (serverbatchdelay 0)")
    ap.add_argument("--tick", type=float, default=0,
                    help="ntpload --tick: send what is due every TICK microseconds, whatever the responses do")
    ap.add_argument("--unwoken", action="store_true",
                    help="ntpload --unwoken (with --tick): responses read at ticks, never waking the tool")
    ap.add_argument("--baseline", help="another build directory: its stratad runs too, as stratad-baseline")
    ap.add_argument("--threads", default="", help="also run stratad with these serverthreads, e.g. 2")
    ap.add_argument("--delays", default="",
                    help="also run stratad with these serverbatchdelay values (µs), e.g. 0,100,300")
    ap.add_argument("--server-cpu", type=int, default=0, help="the core the server runs on (-1: any)")
    ap.add_argument("--load-cpu", type=int, default=1, help="the core the load runs on (-1: any)")
    ap.add_argument("--server-share", type=float, default=0,
                    help="cap the server at this fraction of its core (0.5 to 1; 0: no cap)")
    ap.add_argument("--repeat", type=int, default=1, help="repetitions; the table shows medians")
    ap.add_argument("--json", help="write raw results here")
    args = ap.parse_args()
    if not in_private_netns():
        sys.exit("server_bench: run me inside tests/integration/in_netns.sh (a private network namespace)")

    rates = [int(r) for r in args.rates.split(",")]
    threads = [int(t) for t in args.threads.split(",") if t]
    delays = [int(d) for d in args.delays.split(",") if d]
    names = args.responders.split(",") + (["stratad-baseline"] if args.baseline else []) + \
        [f"stratad-d{d}" for d in delays] + [f"stratad-{n}t" for n in threads]
    workdir = tempfile.mkdtemp(prefix="strata-bench-")
    cmds = responders(args.build, workdir, threads, args.baseline, delays)
    # Every repetition runs every responder at every rate, interleaved, so that
    # the machine's slow minutes hit all of them alike; the table shows the
    # median of the repetitions.
    reps = {name: {"idle": [], "runs": {}} for name in names}
    cap = CpuCap(args.server_share) if args.server_share else None
    try:
        run_all(args, names, cmds, rates, reps, cap)
    finally:
        if cap:
            cap.remove()
    report(args, names, rates, reps, workdir)


def run_all(args, names, cmds, rates, reps, cap):
    for rep in range(args.repeat):
        for name in names:
            proc = subprocess.Popen(cmds[name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    preexec_fn=pinned(args.server_cpu))
            try:
                if cap:
                    cap.add(proc.pid)
                wait_bound(PORT, proc)
                time.sleep(1.0)
                reps[name]["idle"].append(rss_kib(proc.pid))
                for rate in rates:
                    r = load(args.build, rate, args.duration, proc.pid, args.clients, args.batch, args.tick,
                             args.load_cpu, args.unwoken)
                    reps[name]["runs"].setdefault(rate, []).append(r)
                    off = r["offset_us"]
                    print(f"[{rep + 1}/{args.repeat}] {name:12} offered {rate or 'max':>7}: "
                          f"{r['responses_per_s']:9.0f}/s loss {r['loss_percent']:6.3f}% "
                          f"cpu {r['server_cpu_us_per_response']:.3f} us/resp "
                          f"offset {off['p1']:+.1f}/{off['p50']:+.1f}/{off['p99']:+.1f} us", file=sys.stderr)
            finally:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def report(args, names, rates, reps, workdir):
    results = {}
    for name in names:
        rows = []
        for rate in rates:
            runs = reps[name]["runs"][rate]
            row = dict(runs[0])
            for r in runs:
                r["sent_per_s"] = r["sent"] / r["duration_s"] if r["duration_s"] > 0 else 0
            for key in ("sent_per_s", "responses_per_s", "loss_percent", "server_cpu_us_per_response",
                        "server_rss_kib"):
                row[key] = statistics.median(r[key] for r in runs)
            row["latency_us"] = {q: statistics.median(r["latency_us"][q] for r in runs) for q in ("p50", "p99")}
            row["offset_us"] = {q: statistics.median(r["offset_us"][q] for r in runs) for q in ("p1", "p50", "p99")}
            row["offset_us"]["count"] = min(r["offset_us"]["count"] for r in runs)
            row["server_time_us"] = {q: statistics.median(r["server_time_us"][q] for r in runs) for q in ("p50", "p99")}
            row["all"] = runs
            rows.append(row)
        results[name] = {"idle_rss_kib": statistics.median(reps[name]["idle"]), "runs": rows}
    shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)

    def ratio(res, base_name, i):
        # Median over repetitions of the ratio within each repetition: both
        # responders ran minutes apart at most, under the same machine load.
        base = results.get(base_name)
        if not base:
            return "–"
        pairs = zip(res["runs"][i]["all"], base["runs"][i]["all"])
        ratios = [a["server_cpu_us_per_response"] / b["server_cpu_us_per_response"]
                  for a, b in pairs if b["server_cpu_us_per_response"] > 0]
        return f"{statistics.median(ratios):.2f}" if ratios else "–"

    bases = [b for b in ("echo", "echo-ntp") if b in results]
    # sent/s below the offered rate: the load tool could not keep up.
    print("| responder | offered/s | sent/s | responses/s | loss % | p50 µs | p99 µs | CPU µs/response | "
          + " | ".join(f"× {b}" for b in bases) + " | RSS KiB (idle → load) |")
    print("|---|---|---|---|---|---|---|---|" + "---|" * len(bases) + "---|")
    for name, res in results.items():
        for i, r in enumerate(res["runs"]):
            offered = f"{r['offered_rate']:.0f}" if r["offered_rate"] else "max"
            ratios = " | ".join(ratio(res, b, i) for b in bases)
            print(f"| {name} | {offered} | {r['sent_per_s']:.0f} | {r['responses_per_s']:.0f} | {r['loss_percent']:.3f} | "
                  f"{r['latency_us']['p50']:.0f} | {r['latency_us']['p99']:.0f} | "
                  f"{r['server_cpu_us_per_response']:.3f} | {ratios} | "
                  f"{res['idle_rss_kib']:.0f} → {r['server_rss_kib']:.0f} |")

    # The served time: only responders that send timestamps (not the echoes).
    print()
    print("| responder | offered/s | loss % | offset p1 µs | p50 µs | p99 µs | server time p50 µs | p99 µs |")
    print("|---|---|---|---|---|---|---|---|")
    for name, res in results.items():
        for r in res["runs"]:
            if r["offset_us"]["count"] == 0:
                continue
            offered = f"{r['offered_rate']:.0f}" if r["offered_rate"] else "max"
            o, t = r["offset_us"], r["server_time_us"]
            print(f"| {name} | {offered} | {r['loss_percent']:.3f} | {o['p1']:+.1f} | {o['p50']:+.1f} | "
                  f"{o['p99']:+.1f} | {t['p50']:.0f} | {t['p99']:.0f} |")

if __name__ == "__main__":
    main()
