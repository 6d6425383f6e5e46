#!/bin/sh
# A near no-op managed reviewer: writes a supported review to LOOP_STATION_OUTPUT.
mkdir -p "$(dirname "$LOOP_STATION_OUTPUT")"
cat > "$LOOP_STATION_OUTPUT" <<REVIEW
agent: $LOOP_STATION_AGENT
model: scripted
instruction_profile: bench
role: REVIEWER
session: $LOOP_STATION_SESSION
status: DONE
verdict: supported
recommendation: promote
blocked_reason: none

## Evidence Checked
metrics.json
## Verdict
supported
## Recommended Next Action
continue
REVIEW
