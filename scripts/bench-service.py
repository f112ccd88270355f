#!/usr/bin/env python3
"""Service numbers for docs/bench-service.md: start-up and reload time to READY=1, and RSS over
a soak run. Talks the sd_notify protocol itself (a NOTIFY_SOCKET datagram socket in a temp dir),
so it measures what systemd would see. No traffic leaves loopback.

  scripts/bench-service.py startup [--bin target/release/newswatch] [--runs 20]
      The shipped config/newswatch.toml, every source URL rewritten to http://127.0.0.1:1/<name>
      (nothing listens there: connections are refused), run with a temp dir as cwd so
      state_dir = "./state" lands there. Times spawn -> READY=1 (cold: fresh state dir; warm:
      existing database) and SIGHUP -> READY=1, then SIGTERM -> exit.

  scripts/bench-service.py soak [--bin ...] [--minutes 10] [--every 30] [--schedule CRON]
      One source on a loopback feed server, schedule "* * * * * *" (every second), one
      watchlist; samples VmRSS from /proc/PID/status and the CPU time used (utime + stime
      from /proc/PID/stat) every --every seconds.

  scripts/bench-service.py idle [--bin ...] [--minutes 60] [--every 60]
      The soak with schedule "0 0 1 1 *": the source is read once at start, then the daemon
      waits; its CPU and RSS between scans (issue 21).
"""

import argparse
import http.server
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Notify:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.path = path

    def drain(self):
        self.sock.settimeout(None)
        while True:
            self.sock.recv(4096)

    def wait(self, line, timeout=30.0):
        """Returns the monotonic time a datagram containing `line` arrived."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {line} within {timeout}s")
            self.sock.settimeout(left)
            data = self.sock.recv(4096).decode()
            if line in data.splitlines():
                return time.monotonic()


def rewritten_shipped_config(dst):
    text = open(os.path.join(ROOT, "config", "newswatch.toml"), encoding="utf-8").read()
    n = 0

    def sub(m):
        nonlocal n
        n += 1
        return f'url = "http://127.0.0.1:1/source-{n}"'

    text = re.sub(r'^url = "[^"]*"', sub, text, flags=re.M)
    for line in text.splitlines():
        if line.startswith("url ="):
            assert "127.0.0.1:1/" in line, line
    open(dst, "w", encoding="utf-8").write(text)
    return n


def start(binary, cfg, cwd, sock_path, env_extra=None):
    env = dict(os.environ)
    env.pop("JOURNAL_STREAM", None)
    env["NOTIFY_SOCKET"] = sock_path
    env["RUST_LOG"] = "newswatch=warn"
    env.update(env_extra or {})
    return subprocess.Popen(
        [binary, "--config", cfg, "run"],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=15)


def startup(args):
    cold, warm, reload_ = [], [], []
    with tempfile.TemporaryDirectory() as d:
        cfg = os.path.join(d, "newswatch.toml")
        sources = rewritten_shipped_config(cfg)
        print(f"config: shipped config, {sources} sources rewritten to http://127.0.0.1:1/")
        for i in range(args.runs):
            cwd = os.path.join(d, f"run{i}")
            os.mkdir(cwd)
            for kind, series in (("cold", cold), ("warm", warm)):
                sock_path = os.path.join(cwd, f"notify-{kind}.sock")
                n = Notify(sock_path)
                t0 = time.monotonic()
                p = start(args.bin, cfg, cwd, sock_path)
                series.append(n.wait("READY=1") - t0)
                if kind == "warm":
                    t1 = time.monotonic()
                    p.send_signal(signal.SIGHUP)
                    n.wait("RELOADING=1")
                    reload_.append(n.wait("READY=1") - t1)
                rc = stop(p)
                assert rc == 0, f"exit {rc}"
    for name, s in (("start-up, fresh state dir", cold), ("start-up, existing database", warm),
                    ("SIGHUP -> READY=1", reload_)):
        ms = sorted(x * 1000 for x in s)
        print(f"{name:30} n={len(ms)} median {statistics.median(ms):7.1f} ms  "
              f"min {ms[0]:7.1f}  max {ms[-1]:7.1f}")


RSS_FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>loop</title><link>http://127.0.0.1/</link><description>d</description>
{items}
</channel></rss>"""


class FeedHandler(http.server.BaseHTTPRequestHandler):
    body = RSS_FEED.format(items="\n".join(
        f"<item><title>Story {i}: Niger and Agadez, day {i}</title>"
        f"<link>http://127.0.0.1/story/{i}</link>"
        f"<description>{'Sahel news in some words. ' * 20}</description></item>"
        for i in range(20))).encode()
    hits = 0

    def do_GET(self):
        FeedHandler.hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *a):
        pass


def soak(args):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FeedHandler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    port = srv.server_address[1]
    with tempfile.TemporaryDirectory() as d:
        cfg = os.path.join(d, "newswatch.toml")
        open(cfg, "w").write(f"""
state_dir = "./state"
timezone = "UTC"
[http]
respect_robots = false
per_host_delay_ms = 0
[mail]
transport = "file"
[[source]]
name = "loop"
url = "http://127.0.0.1:{port}/rss.xml"
schedule = "{args.schedule}"
follow = false
backfill = "all"
[[watchlist]]
name = "niger"
keywords = ["Niger"]
to = ["a@example.org"]
digest = "0 7 * * *"
""")
        sock_path = os.path.join(d, "notify.sock")
        n = Notify(sock_path)
        p = start(args.bin, cfg, d, sock_path)
        n.wait("READY=1")
        # Keep reading, as systemd does: unread datagrams fill the socket queue
        # (net.unix.max_dgram_qlen, 10 by default) and then sd_notify's send blocks.
        threading.Thread(target=n.drain, daemon=True).start()
        samples = []
        end = time.monotonic() + args.minutes * 60
        cpu0 = None
        while True:
            rss = None
            with open(f"/proc/{p.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss = int(line.split()[1])
            cpu = cpu_seconds(p.pid)
            cpu0 = cpu if cpu0 is None else cpu0
            t = args.minutes * 60 - (end - time.monotonic())
            samples.append(rss)
            print(f"t={t:6.0f}s VmRSS={rss} kB CPU={cpu:.2f}s fetches={FeedHandler.hits}",
                  flush=True)
            if time.monotonic() >= end:
                break
            time.sleep(min(args.every, max(0.0, end - time.monotonic())))
        used = cpu_seconds(p.pid) - cpu0
        rc = stop(p)
        srv.shutdown()
        print(f"VmRSS kB: first {samples[0]}  last {samples[-1]}  max {max(samples)}  "
              f"(samples {len(samples)}, fetches {FeedHandler.hits}, exit {rc})")
        span = args.minutes * 60
        print(f"CPU after the first sample: {used:.2f} s in {span:.0f} s = {100 * used / span:.3f} %")


def cpu_seconds(pid):
    """utime + stime of a live process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle(args):
    args.schedule = "0 0 1 1 *"
    soak(args)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["startup", "soak", "idle"])
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "newswatch"))
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--every", type=float, default=30)
    ap.add_argument("--schedule", default="* * * * * *")
    args = ap.parse_args()
    args.bin = os.path.abspath(args.bin)
    {"startup": startup, "soak": soak, "idle": idle}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
