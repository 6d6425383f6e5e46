#!/bin/sh
# A near no-op evaluator: the workspace value is the metric.
x=0; [ -f work/x.txt ] && read -r x < work/x.txt
echo "{\"score\": $x, \"guard\": 1}"
