#!/bin/sh
# A near no-op executor for benchmarks: bumps work/x.txt by one and writes the report and proposal
# the artifact gate wants, with shell builtins only (one sh process, no node start-up).
x=0; [ -f work/x.txt ] && read -r x < work/x.txt
x=$((x + 1))
echo "$x" > work/x.txt
d="$LOOP_STATION_SESSION_DIR"
cat > "$d/executor_report.md" <<REPORT
agent: $LOOP_STATION_AGENT
session: $LOOP_STATION_SESSION
status: DONE
axis: x

## What Ran
noop executor
## Changed Values
x: $((x - 1)) -> $x
## Results
x = $x
## Evidence
work/x.txt
## Failures Or Surprises
none
## Executor Interpretation
x changed by 1
REPORT
cat > "$d/executor_proposal.md" <<PROPOSAL
agent: $LOOP_STATION_AGENT
session: $LOOP_STATION_SESSION
proposed_next_session: next
proposed_axis: x

## Summary
x = $x
## Proposed Next Action
continue
PROPOSAL
