#!/usr/bin/env python3
"""An external reviewer as a user would write one (skills/loop-station/references/external-reviewer.md):
for each session it polls for SUPERVISOR-READY (written after the executor's DONE), creates RUNNING,
"reviews" for a moment, writes its review file, then creates DONE. Each flag is created exclusively
(O_CREAT | O_EXCL), written and fsynced. After each DONE it prints one JSON line to stdout:
{"session": n, "doneMs": <epoch ms once the DONE flag was created, written and synced>}.

usage: external-reviewer.py ROOT TOKEN SESSIONS REVIEW_MS
"""
import json
import os
import sys
import time
from datetime import datetime, timezone

root, token, sessions, review_ms = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])


def label(n):
    return f"{n:03d}"


def flags_dir(n):
    return os.path.join(root, "loop_station", "flags", f"session_{label(n)}")


def now_iso():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def create_flag(n, status, artifact=None):
    lines = [
        f"timestamp: {now_iso()}",
        f"producer: {token}",
        "role: REVIEWER",
        f"session: {label(n)}",
        f"status: {status}",
    ]
    if artifact:
        lines.append(f"artifact: {artifact}")
    lines.append(f"next: {'LOOP_STATION' if status == 'DONE' else '-'}")
    path = os.path.join(flags_dir(n), f"{token}-SESSION{label(n)}-REVIEWER-{status}.flag")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, ("\n".join(lines) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def write_review(n):
    rel = f"loop_station/reviews/session_{label(n)}/{token}-SESSION{label(n)}-REVIEWER-DONE.md"
    os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
    sections = [
        "Evidence Checked", "Audit Methods Used", "Visual Image Check", "Metric/Log Analysis",
        "Historical Trend / Log Digest For Executor", "Scientific/Literature Challenge", "Code/Config Audit",
        "Verdict", "Promote/Keep/Retire", "Risks Or Confounds", "Recommended Next Action",
    ]
    body = [
        "# Review", "", f"agent: {token}", "model: bench", "instruction_profile: loop-station/reviewer",
        "role: REVIEWER", f"session: {label(n)}", "status: DONE", "verdict: supported",
        "recommendation: promote", "blocked_reason: none", "",
    ]
    for s in sections:
        body += [f"## {s}", "n/a", ""]
    with open(os.path.join(root, rel), "w", encoding="utf-8") as f:
        f.write("\n".join(body))
        f.flush()
        os.fsync(f.fileno())
    return rel


for n in range(1, sessions + 1):
    ready = os.path.join(flags_dir(n), f"LOOP_STATION-SESSION{label(n)}-SUPERVISOR-READY.flag")
    deadline = time.monotonic() + 300
    while not os.path.exists(ready):
        if time.monotonic() > deadline:
            sys.exit(f"{ready} did not appear within 300 s")
        time.sleep(0.005)
    create_flag(n, "RUNNING")
    time.sleep(review_ms / 1000)
    review = write_review(n)
    create_flag(n, "DONE", review)
    print(json.dumps({"session": n, "doneMs": time.time() * 1000}), flush=True)
