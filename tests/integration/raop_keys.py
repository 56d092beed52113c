# SPDX-License-Identifier: GPL-2.0-only
"""Drive `txpace send --profile raop` (or airplay2) on a terminal the way a person would: once the
receiver has played a few seconds, press space (pause), wait for [paused] (the FLUSH is done),
press the right arrow (seek +10 s) and space again (resume).

usage: raop_keys.py NETNS TXPACE SOURCE RECEIVER_OUTPUT REPORT [PROFILE DEST [SEND OPTIONS...]]
NETNS is a network namespace's name, or nsenter:PID to run in that process's namespaces."""
import os
import pty
import select
import subprocess
import sys
import time

ns, txpace, src, out, report = sys.argv[1:6]
profile, dest = sys.argv[6:8] if len(sys.argv) > 7 else ("raop", "127.0.0.1")
extra = sys.argv[8:]
prefix = (["nsenter", "-F", "-t", ns[8:], "-m", "-n"] if ns.startswith("nsenter:")
          else ["ip", "netns", "exec", ns])
master, slave = pty.openpty()
proc = subprocess.Popen(prefix + [txpace, "send", "--profile", profile, *extra,
                                  "--report", report, dest, src],
                        stdin=slave, stdout=slave, stderr=slave, close_fds=True)
os.close(slave)
seen = b""


def wait_for(pattern, seconds):
    """Read the terminal until PATTERN shows (the status line redraws every 250 ms)."""
    global seen
    end = time.time() + seconds
    while time.time() < end:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                seen += os.read(master, 4096)
            except OSError:
                return False
        if pattern in seen:
            return True
    return False


def fail(why):
    proc.kill()
    sys.exit(f"{why}; terminal said: {seen[-300:]!r}")


if not wait_for(b"keys:", 15):
    fail("no key help")
end = time.time() + 20
while os.path.getsize(out) < 44100 * 4 * 4 and time.time() < end:
    wait_for(b"\0", 0.05)          # keep reading the terminal while the receiver plays
os.write(master, b" ")
if not wait_for(b"[paused]", 10):
    fail("never paused")
os.write(master, b"\x1b[C")
os.write(master, b" ")
try:
    rc = proc.wait(timeout=90)
except subprocess.TimeoutExpired:
    fail("did not finish after resume")
sys.exit(rc)
