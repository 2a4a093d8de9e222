#!/usr/bin/env python3
"""Compares stratad's discipline with chronyd's in clknetsim, side by side.

    tests/clknetsim/compare_chronyd.py [-c CHRONYD] [-s SEEDS] [-k DIR] [--cache DIR]
        [-j JOBS] [-v] CLKNETSIM_DIR STRATAD [SCENARIO...]

CLKNETSIM_DIR: a build of clknetsim (https://github.com/mlichvar/clknetsim,
with `clknetsim` and `clknetsim.so` made; not part of strata). STRATAD: the
stratad binary to measure. -c: the chronyd to compare with (default
/usr/sbin/chronyd; the figures in docs/benchmarks.md are chronyd 4.3's).
-s: seeds, e.g. 1-5 (default) or 1,3,7. SCENARIO: names from the list below
(default: all of them). -k DIR: keep each run's directory (configuration
files, each node's log, clknetsim's offset log and statistics) under DIR.
--cache DIR: remember each run's figures by the SHA-256 of the daemon
binary, the scenario's definition and the seed, and reuse them (chronyd's
runs then cost nothing while stratad changes). -j: runs at a time (default
1; each run is a clknetsim server and two or three processes). -v: one
line per run as well.

For each scenario and seed, the client node runs chronyd and then stratad
with the same chrony.conf, the same clknetsim configuration and the same
seed (CLKNETSIM_RANDOM_SEED). clknetsim draws its random numbers in the
order of its configuration's expressions (one draw of each per simulated
second, one of each delay per packet), so both daemons meet the same
oscillator, the same reference-clock noise and, packet for packet, the same
network: what differs is only what the daemon does with it. The server
(node 1, where there is one) is always chronyd with `local stratum 1`.

Figures, for the client node: RMS and maximum of |offset| (clknetsim's own
statistics: the clock's true error, sampled once a simulated second, from
the scenario's statistics start to its end), and the time from which
|offset| stays below 1 ms to the end of the run ("sync", seconds from the
start; from clknetsim's offset log). The table shows the medians over the
seeds and the ratio stratad/chronyd of the medians.

Every run happens inside tests/integration/in_netns.sh (a user, network, IPC
and PID namespace): the daemons steer clknetsim's simulated clocks (stratad
runs without -x, as chronyd does; clknetsim answers their adjtimex and
clock_adjtime), and even a call that escaped the simulator could reach
neither this machine's clock nor its network. Processes are stopped by PID.

Scenarios (the clknetsim configuration and chrony.conf of each are written
out in SCENARIOS below):

  lan      A LAN, polled every second: a chronyd server (local stratum 1);
           client `server 192.168.123.1 minpoll 0 maxpoll 0`; delays as
           chrony's test/simulation defaults (100 µs base plus exponential
           jitter of 100 µs mean each way), wander 1e-9 s/s/√s, frequency
           error 100 ppm, 0.1 s initial offset. 3,000 s, statistics from
           300 s.
  shm      A gpsd-style SHM refclock with 100 µs noise (normal, σ), a sample
           each second (clknetsim's node refclock through `refclock SHM 0`,
           default options: poll 4, 64-sample median filter); no NTP server.
           Same oscillator. 10,000 s, statistics from 1,000 s.
  phc      A PHC with 100 ns noise (normal, σ, on each reading of the
           simulated /dev/ptp0, which clknetsim reads with the cross-
           timestamp ioctl) through `refclock PHC /dev/ptp0` (default
           options: poll 4, dpoll 0); no NTP server. Same oscillator.
           10,000 s, statistics from 1,000 s.
  startup  Start-up 0.5 s off: the LAN of `lan`, client `server
           192.168.123.1 iburst` (minpoll 6, maxpoll 10) and `makestep 1 3`
           (0.5 s is below the threshold: it is slewed, not stepped), the
           clock 0.5 s ahead (clknetsim's node offset 0.5). 2,000 s,
           statistics from the start (the start-up is the point); its "sync"
           column is the figure to watch.
  startup-behind
           The same with the clock 0.5 s behind (node offset -0.5): slewed
           forward, the clock's seconds are shorter, and the iburst's last
           sample still finds the slew under way.

And four of chrony's own test/simulation cases (001, 102, 006, 007), the
client polling as chronyd's defaults have it (minpoll 6, maxpoll 10),
10,000 s, statistics from 210 s (chrony's max_sync_time) unless said:

  defaults The LAN of `lan`, `server 192.168.123.1`.
  iburst   `server 192.168.123.1 iburst` and `makestep 0.01 1`
           (statistics from 6 s).
  jitter   100 ms of exponential jitter each way, 1 s initial offset.
  wander   Wander 1e-7 s/s/√s.

And two with three chronyd servers (nodes 1-3, the client node 4), as the
simulator's (tools/sim) scenarios of that name, defaults polling, 10,000 s,
statistics from 210 s:

  three       Three servers on the LAN of `lan`.
  falseticker The same, the third server's clock 1 s off.
"""
import argparse
import concurrent.futures
import dataclasses
import hashlib
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.realpath(__file__))
ROOT = os.path.realpath(os.path.join(HERE, "..", ".."))
SYNC_LIMIT_S = 1e-3


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    # clknetsim's configuration. Node 1 is the server where there is one;
    # the client is the last node.
    clknetsim_conf: str
    client_conf: str
    server_conf: str | None = None
    limit_s: int = 10000
    stats_from_s: int = 0
    env: tuple = ()
    servers: int = 1  # server nodes (1..servers) where server_conf is set

    @property
    def nodes(self):
        return 1 if self.server_conf is None else self.servers + 1

    def definition(self):
        return json.dumps(dataclasses.asdict(self), sort_keys=True)


# The oscillator of every client: chrony's test/simulation defaults (100 ppm
# frequency error, a random walk of 1e-9 s/s/√s).
CLIENT_FREQ = "(+ 1e-4 (sum (* 1e-9 (normal))))"
# chrony's test/simulation default delay, each way: 100 µs plus an
# exponential jitter of 100 µs mean.
LAN_DELAY = "(+ 1e-4 (* 1e-4 (exponential)))"
SERVER_CONF = """local stratum 1
allow 192.168.123.0/24
"""

def three_servers(name, title, extra=""):
    """Three chronyd servers (nodes 1-3) on the LAN of `lan`, the client
    node 4 polling them as chronyd's defaults have it; `extra` goes first in
    clknetsim's configuration (a server's offset, say)."""
    links = "".join(f"node{n}_delay4 = {LAN_DELAY}\nnode4_delay{n} = {LAN_DELAY}\n" for n in (1, 2, 3))
    return Scenario(
        name=name,
        title=title,
        clknetsim_conf=f"{extra}node4_freq = {CLIENT_FREQ}\nnode4_offset = 0.1\n{links}",
        server_conf=SERVER_CONF,
        servers=3,
        client_conf="".join(f"server 192.168.123.{n}\n" for n in (1, 2, 3)),
        limit_s=10000,
        stats_from_s=210,
    )


SCENARIOS = [
    Scenario(
        name="lan",
        title="LAN, polled every second",
        clknetsim_conf=f"""node2_freq = {CLIENT_FREQ}
node2_offset = 0.1
node1_delay2 = {LAN_DELAY}
node2_delay1 = {LAN_DELAY}
""",
        server_conf=SERVER_CONF,
        client_conf="server 192.168.123.1 minpoll 0 maxpoll 0\n",
        limit_s=3000,
        stats_from_s=300,
    ),
    Scenario(
        name="shm",
        title="SHM refclock, 100 µs noise",
        clknetsim_conf=f"""node1_freq = {CLIENT_FREQ}
node1_offset = 0.1
node1_refclock = (* 1e-4 (normal))
""",
        client_conf="refclock SHM 0\n",
        limit_s=10000,
        stats_from_s=1000,
    ),
    Scenario(
        name="phc",
        title="PHC, 100 ns noise",
        clknetsim_conf=f"""node1_freq = {CLIENT_FREQ}
node1_offset = 0.1
node1_refclock = (* 1e-7 (normal))
""",
        client_conf="refclock PHC /dev/ptp0\n",
        limit_s=10000,
        stats_from_s=1000,
    ),
    Scenario(
        name="startup",
        title="start-up 0.5 s off, iburst, makestep 1 3",
        clknetsim_conf=f"""node2_freq = {CLIENT_FREQ}
node2_offset = 0.5
node1_delay2 = {LAN_DELAY}
node2_delay1 = {LAN_DELAY}
""",
        server_conf=SERVER_CONF,
        client_conf="server 192.168.123.1 iburst\nmakestep 1 3\n",
        limit_s=2000,
        stats_from_s=0,
    ),
    Scenario(
        name="startup-behind",
        title="the same, 0.5 s behind",
        clknetsim_conf=f"""node2_freq = {CLIENT_FREQ}
node2_offset = -0.5
node1_delay2 = {LAN_DELAY}
node2_delay1 = {LAN_DELAY}
""",
        server_conf=SERVER_CONF,
        client_conf="server 192.168.123.1 iburst\nmakestep 1 3\n",
        limit_s=2000,
        stats_from_s=0,
    ),
    Scenario(
        name="defaults",
        title="chrony's defaults, minpoll 6",
        clknetsim_conf=f"""node2_freq = {CLIENT_FREQ}
node2_offset = 0.1
node1_delay2 = {LAN_DELAY}
node2_delay1 = {LAN_DELAY}
""",
        server_conf=SERVER_CONF,
        client_conf="server 192.168.123.1\n",
        limit_s=10000,
        stats_from_s=210,
    ),
    Scenario(
        name="iburst",
        title="iburst, makestep 0.01 1",
        clknetsim_conf=f"""node2_freq = {CLIENT_FREQ}
node2_offset = 0.1
node1_delay2 = {LAN_DELAY}
node2_delay1 = {LAN_DELAY}
""",
        server_conf=SERVER_CONF,
        client_conf="server 192.168.123.1 iburst\nmakestep 0.01 1\n",
        limit_s=10000,
        stats_from_s=6,
    ),
    Scenario(
        name="jitter",
        title="100 ms jitter, 1 s off",
        clknetsim_conf=f"""node2_freq = {CLIENT_FREQ}
node2_offset = 1.0
node1_delay2 = (+ 1e-4 (* 1e-1 (exponential)))
node2_delay1 = (+ 1e-4 (* 1e-1 (exponential)))
""",
        server_conf=SERVER_CONF,
        client_conf="server 192.168.123.1\n",
        limit_s=10000,
        stats_from_s=210,
    ),
    Scenario(
        name="wander",
        title="wander 1e-7",
        clknetsim_conf=f"""node2_freq = (+ 1e-4 (sum (* 1e-7 (normal))))
node2_offset = 0.1
node1_delay2 = {LAN_DELAY}
node2_delay1 = {LAN_DELAY}
""",
        server_conf=SERVER_CONF,
        client_conf="server 192.168.123.1\n",
        limit_s=10000,
        stats_from_s=210,
    ),
    three_servers("three", "three servers, minpoll 6"),
    three_servers("falseticker", "three servers, one 1 s off", "node3_offset = 1.0\n"),
]


def parse_seeds(text):
    seeds = []
    for part in text.split(","):
        if "-" in part:
            a, b = part.split("-", 1)
            seeds.extend(range(int(a), int(b) + 1))
        else:
            seeds.append(int(part))
    if not seeds or any(s < 1 for s in seeds):
        raise argparse.ArgumentTypeError(f"bad seed list {text!r}")
    return seeds


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def daemon_command(kind, binary, conf):
    if kind == "chronyd":
        # -u root: chronyd's privilege drop fails in the user namespace.
        return [binary, "-d", "-u", "root", "-f", conf]
    return [binary, "-d", "-f", conf]


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def node_stats(text, node):
    """clknetsim's statistics of one node: {name: value}."""
    out, current = {}, None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("----") and "Node" in line:
            current = int(line.split("Node")[1].split()[0])
            continue
        if current == node and ":" in line:
            name, value = line.split(":", 1)
            try:
                out[name.strip()] = float(value)
            except ValueError:
                pass
    return out


def sync_time(offsets):
    """Seconds from the start from which |offset| stays below the limit; None
    if it does not by the end."""
    last_bad = -1
    for i, o in enumerate(offsets):
        if abs(o) >= SYNC_LIMIT_S:
            last_bad = i
    if last_bad == len(offsets) - 1:
        return None
    # Line i of the offset log is the clock after i + 1 simulated seconds.
    return last_bad + 1


def stop(procs):
    for p in procs:
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 5
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def run_one(args, scenario, seed, kind, binary):
    """Runs one daemon on one scenario and seed; returns its figures."""
    work = tempfile.mkdtemp(prefix=f"strata-cmp-{scenario.name}-{seed}-{kind}-", dir=args.tmp)
    try:
        write(os.path.join(work, "conf"), scenario.clknetsim_conf)
        env = dict(os.environ)
        env.update({
            "LD_PRELOAD": os.path.join(args.clknetsim, "clknetsim.so"),
            "CLKNETSIM_RANDOM_SEED": str(seed),
            "CLKNETSIM_SOCKET": os.path.join(work, "clknetsim.sock"),
        })
        env.update(dict(scenario.env))
        procs = []
        logs = []
        client_node = scenario.nodes
        for node in range(1, client_node if scenario.server_conf is not None else 1):
            name = "server" if node == 1 else f"server{node}"
            conf = os.path.join(work, f"{name}.conf")
            write(conf, scenario.server_conf + f"pidfile {work}/{name}.pid\ncmdport 0\n")
            log = open(os.path.join(work, f"{name}.log"), "w")
            logs.append(log)
            procs.append(subprocess.Popen(daemon_command("chronyd", args.chronyd, conf), cwd=work,
                                          env=dict(env, CLKNETSIM_NODE=str(node)), stdout=log,
                                          stderr=subprocess.STDOUT))
        conf = os.path.join(work, "client.conf")
        write(conf, scenario.client_conf + f"pidfile {work}/client.pid\ncmdport 0\n")
        log = open(os.path.join(work, "client.log"), "w")
        logs.append(log)
        procs.append(subprocess.Popen(daemon_command(kind, binary, conf), cwd=work,
                                      env=dict(env, CLKNETSIM_NODE=str(client_node)), stdout=log,
                                      stderr=subprocess.STDOUT))
        sim_env = {k: v for k, v in env.items() if k != "LD_PRELOAD"}
        with open(os.path.join(work, "stats"), "w") as out:
            sim = subprocess.Popen([os.path.join(args.clknetsim, "clknetsim"), "-s", env["CLKNETSIM_SOCKET"],
                                    "-o", "log.offset", "-r", str(scenario.stats_from_s), "-l",
                                    str(scenario.limit_s), "conf", str(scenario.nodes)],
                                   cwd=work, env=sim_env, stdout=out, stderr=subprocess.STDOUT)
            try:
                sim.wait(timeout=args.timeout)
            except subprocess.TimeoutExpired:
                stop([sim] + procs)
                raise RuntimeError(f"{scenario.name} seed {seed} {kind}: no result in {args.timeout} s")
        # The clients exit when the simulation ends.
        stop(procs)
        for log in logs:
            log.close()
        with open(os.path.join(work, "stats")) as f:
            stats = node_stats(f.read(), client_node)
        if "RMS offset" not in stats:
            raise RuntimeError(f"{scenario.name} seed {seed} {kind}: no statistics (see {work})")
        offsets = []
        with open(os.path.join(work, "log.offset")) as f:
            for line in f:
                fields = line.split()
                if len(fields) >= client_node:
                    offsets.append(float(fields[client_node - 1]))
        return {"rms": stats["RMS offset"], "max": stats["Maximum absolute offset"],
                "sync": sync_time(offsets)}
    finally:
        if args.keep:
            dest = os.path.join(args.keep, f"{scenario.name}-{seed}-{kind}")
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(work, dest, ignore=shutil.ignore_patterns("clknetsim.sock"))
        shutil.rmtree(work, ignore_errors=True)


def cached_run(args, scenario, seed, kind, binary, digest):
    key = hashlib.sha256(f"{digest}\n{scenario.definition()}\n{seed}".encode()).hexdigest()
    path = os.path.join(args.cache, key + ".json") if args.cache else None
    if path and os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    result = run_one(args, scenario, seed, kind, binary)
    if path:
        write(path + ".tmp", json.dumps(result))
        os.replace(path + ".tmp", path)
    return result


def fmt_s(value):
    if value is None:
        return "-"
    if value == 0:
        return "0"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if abs(value) >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value:.3g} s"


def median(values):
    """The median; None (never reached) counts as larger than any figure."""
    if any(v is None for v in values):
        ordered = sorted(values, key=lambda v: (v is None, v or 0))
        mid = ordered[len(ordered) // 2]
        if len(ordered) % 2 == 0:
            low = ordered[len(ordered) // 2 - 1]
            return None if mid is None or low is None else (low + mid) / 2
        return mid
    return statistics.median(values)


def ratio(a, b):
    if a is None or b is None:
        return "-"
    if b == 0:
        return "-" if a == 0 else "inf"
    return f"{a / b:.2f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clknetsim", help="a clknetsim build directory")
    parser.add_argument("stratad", help="the stratad binary")
    parser.add_argument("scenarios", nargs="*", help="scenario names (default: all)")
    parser.add_argument("-c", "--chronyd", default="/usr/sbin/chronyd")
    parser.add_argument("-s", "--seeds", type=parse_seeds, default=parse_seeds("1-5"))
    parser.add_argument("-k", "--keep", help="keep each run's directory under KEEP")
    parser.add_argument("--cache", help="reuse the figures of identical runs from this directory")
    parser.add_argument("-j", "--jobs", type=int, default=1)
    parser.add_argument("-t", "--timeout", type=float, default=1800, help="wall seconds a run may take")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--only", choices=["chronyd", "stratad"], help="run one of the daemons only")
    args = parser.parse_args()

    args.clknetsim = os.path.realpath(args.clknetsim)
    args.stratad = os.path.realpath(args.stratad)
    args.chronyd = os.path.realpath(args.chronyd)
    for path, what in ((os.path.join(args.clknetsim, "clknetsim"), "clknetsim"),
                       (args.stratad, "stratad"), (args.chronyd, "chronyd")):
        if not os.access(path, os.X_OK):
            sys.exit(f"no {what} at {path}")
    if not os.path.exists(os.path.join(args.clknetsim, "clknetsim.so")):
        sys.exit(f"no clknetsim.so in {args.clknetsim} (run make there)")
    by_name = {s.name: s for s in SCENARIOS}
    unknown = [n for n in args.scenarios if n not in by_name]
    if unknown:
        sys.exit(f"unknown scenario {', '.join(unknown)}; known: {', '.join(by_name)}")
    chosen = [by_name[n] for n in args.scenarios] if args.scenarios else SCENARIOS
    for d in (args.keep, args.cache):
        if d:
            os.makedirs(d, exist_ok=True)
    args.keep = os.path.realpath(args.keep) if args.keep else None
    args.cache = os.path.realpath(args.cache) if args.cache else None

    if os.environ.get("STRATA_COMPARE_INNER") != "1":
        # Everything runs inside a private namespace (with its own IPC, for
        # the SHM refclock), as tests/clknetsim/run_chrony_suite.sh does.
        env = dict(os.environ, STRATA_COMPARE_INNER="1", STRATA_NETNS_IPC="1")
        os.execve(os.path.join(ROOT, "tests/integration/in_netns.sh"),
                  [os.path.join(ROOT, "tests/integration/in_netns.sh"), sys.executable,
                   os.path.realpath(__file__)] + sys.argv[1:], env)

    args.tmp = tempfile.mkdtemp(prefix="strata-compare-")
    daemons = [("chronyd", args.chronyd), ("stratad", args.stratad)]
    if args.only:
        daemons = [d for d in daemons if d[0] == args.only]
    digests = {kind: sha256_of(binary) for kind, binary in daemons}
    jobs = [(s, seed, kind, binary) for s in chosen for seed in args.seeds for kind, binary in daemons]
    results = {}
    failed = False
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {pool.submit(cached_run, args, s, seed, kind, binary, digests[kind]): (s.name, seed, kind)
                   for s, seed, kind, binary in jobs}
        for future in concurrent.futures.as_completed(futures):
            key = futures[future]
            try:
                results[key] = future.result()
            except Exception as e:  # one failed run is reported, the others go on
                print(f"error: {e}", file=sys.stderr)
                failed = True
                continue
            if args.verbose:
                r = results[key]
                print(f"{key[0]:14} seed {key[1]:3} {key[2]:8} RMS {fmt_s(r['rms']):>9}  max "
                      f"{fmt_s(r['max']):>9}  sync {r['sync'] if r['sync'] is not None else '-'} s",
                      flush=True)
    shutil.rmtree(args.tmp, ignore_errors=True)

    seeds = args.seeds
    seed_text = f"{seeds[0]}-{seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1)) else \
        ",".join(map(str, seeds))
    print(f"\nMedians over seeds {seed_text}; ratio = stratad / chronyd (below 1: stratad better).")
    print(f"chronyd: {args.chronyd}\nstratad: {args.stratad}\n")
    print("| scenario | chronyd RMS | stratad RMS | ratio | chronyd max | stratad max | ratio "
          "| chronyd sync (s) | stratad sync (s) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for s in chosen:
        row = {}
        for kind, _ in daemons:
            runs = [results.get((s.name, seed, kind)) for seed in seeds]
            if any(r is None for r in runs):
                row[kind] = None
                continue
            row[kind] = {f: median([r[f] for r in runs]) for f in ("rms", "max", "sync")}
        c, t = row.get("chronyd"), row.get("stratad")

        def cell(r, field, time=False):
            if r is None:
                return "n/a"
            v = r[field]
            if time:
                return "never" if v is None else f"{v:g}"
            return fmt_s(v)

        print(f"| {s.name} ({s.title}) | {cell(c, 'rms')} | {cell(t, 'rms')} | "
              f"{ratio(t and t['rms'], c and c['rms'])} | {cell(c, 'max')} | {cell(t, 'max')} | "
              f"{ratio(t and t['max'], c and c['max'])} | {cell(c, 'sync', True)} | {cell(t, 'sync', True)} |")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
