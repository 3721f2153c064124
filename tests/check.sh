#!/bin/bash
# check.sh: make check's tests in order (unit, end-to-end, bench smoke), then one summary line over all of them.
# usage: tests/check.sh LBVM BUILD_DIR UNIT_TEST...
# Each part prints "PART: N passed, N failed, N skipped"; the last line here adds them up, in the same form
# (.ci/run reads it). A part that fails does not stop the others. The skipped checks are listed before it,
# and kept in BUILD_DIR/check-skipped.txt.
set -u
LBVM=$1
B=$2
shift 2
HERE=$(dirname "$(realpath "$0")")
L=$(mktemp)
trap 'rm -f "$L"' EXIT
pass=0 fail=0 skip=0

# part NAME LABEL CMD...: run one part, its output shown and kept; add up its summary line
part() {
	local name=$1 label=$2
	shift 2
	"$@" 2>&1 | tee "$L"
	local st=${PIPESTATUS[0]} line
	line=$(grep -E "^$label: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$" "$L" | tail -n 1)
	if [ -z "$line" ]; then
		echo "not ok - $name printed no summary line (exit status $st)"
		fail=$((fail + 1))
	else
		local p f s
		read -r p f s <<<"$(echo "${line#"$label: "}" | tr -cs '0-9' ' ')"
		pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
		if [ "$st" != 0 ] && [ "$f" = 0 ]; then
			echo "not ok - $name exited $st with no failed check"
			fail=$((fail + 1))
		fi
	fi
	grep '^skip - ' "$L" >>"$B/check-skipped.txt"
}

mkdir -p "$B"
: >"$B/check-skipped.txt"
part "the unit tests" unit "$HERE/run-unit.sh" "$@"
part "the end-to-end tests" e2e "$HERE/e2e/run.sh" "$LBVM" "$B/e2e"
part "the bench smoke test" "bench smoke" "$HERE/bench/smoke.sh" "$LBVM" "$B/bench-smoke"

if [ "$skip" -gt 0 ]; then
	echo "check: the $skip skipped checks (also in $B/check-skipped.txt):"
	sed 's/^skip - /    /' "$B/check-skipped.txt"
fi
echo "check: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
