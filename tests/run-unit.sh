#!/bin/sh
# run-unit.sh: run each cmocka unit test binary, each under a time limit, and print one summary line.
# usage: tests/run-unit.sh TEST...   (UNIT_TIMEOUT: seconds per binary, 300 by default)
# A binary that hangs is killed and fails by name; it never stalls make check.
limit=${UNIT_TIMEOUT:-300}
pass=0 fail=0
for t in "$@"; do
	timeout -k 5 "$limit" "$t"
	st=$?
	name=$(basename "$t")
	if [ "$st" -eq 0 ]; then
		pass=$((pass + 1)); echo "ok - unit: $name"
	elif [ "$st" -eq 124 ]; then
		fail=$((fail + 1)); echo "not ok - unit: $name timed out after ${limit}s"
	elif [ "$st" -eq 137 ]; then
		fail=$((fail + 1)); echo "not ok - unit: $name killed (SIGKILL): timed out after ${limit}s and ignored SIGTERM, or out of memory"
	else
		fail=$((fail + 1)); echo "not ok - unit: $name exited $st"
	fi
done
echo "unit: $pass passed, $fail failed, 0 skipped"
[ "$fail" -eq 0 ]
