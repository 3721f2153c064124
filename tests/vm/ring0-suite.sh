#!/bin/bash
# ring0-suite.sh: lbvm's ring-0 mode checked where /dev/kvm is VT-x/AMD-V (make check runs it inside tests/vm/tcg-kvm.sh).
# usage: tests/vm/ring0-suite.sh LBVM E2E_BUILD_DIR CPUPROBE
#   the mode lbvm picks, the CPU protections a program must not get past (tests/vm/progs/cpuprobe.c),
#   then the whole end-to-end suite; last a line "ring0 suite: N passed, N failed, N skipped" over all of
#   them (tests/check.sh reads it). Exit 0 only if everything passes. By hand, from the top of the tree:
#     make check    # builds lbvm, build/e2e and build/vm/cpuprobe, and runs this under the emulator
#     tests/vm/tcg-kvm.sh -- tests/vm/ring0-suite.sh build/lbvm build/e2e build/vm/cpuprobe
set -u
LBVM=$1 E=$2 PROBE=$3
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0 skip=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "not ok - $1"; }

mode=$("$LBVM" run --verbose "$E/hello" 2>&1 >/dev/null | sed -n 's/^lbvm: CPU mode: \([a-z0-9]*\).*/\1/p')
if [ "$mode" = ring0 ]; then
	ok "lbvm picks the ring0 CPU mode"
else
	bad "lbvm picks the ring0 CPU mode (it said: ${mode:-nothing})"
fi
"$LBVM" run --verbose "$E/hello" 2>&1 >/dev/null | grep -E '^lbvm: (ring0|exits):' | sed 's/^/# hello: /'
if out=$("$LBVM" run "$PROBE" 2>&1) && [ "$out" = "$(cat "$HERE/progs/cpuprobe.expected")" ]; then
	ok "cpuprobe: privileged instructions, kernel memory and bad sigreturns fault in the program, not the VM"
else
	bad "cpuprobe"; diff <(echo "$out") "$HERE/progs/cpuprobe.expected" | sed 's/^/    /'
fi

"$HERE/../e2e/run.sh" "$LBVM" "$E" 2>&1 | tee "$T/e2e.log"
st=${PIPESTATUS[0]}
line=$(grep -E '^e2e: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$T/e2e.log" | tail -n 1)
if [ -n "$line" ]; then
	read -r p f s <<<"$(echo "${line#e2e: }" | tr -cs '0-9' ' ')"
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	[ "$st" = 0 ] || [ "$f" != 0 ] || bad "the end-to-end suite exited $st with no failed check"
else
	# it stopped early: what it printed counts, and the missing end is a failure
	pass=$((pass + $(grep -c '^ok - ' "$T/e2e.log")))
	fail=$((fail + $(grep -c '^not ok - ' "$T/e2e.log")))
	skip=$((skip + $(grep -c '^skip - ' "$T/e2e.log")))
	bad "the end-to-end suite printed no summary line (exit status $st)"
fi
echo "ring0 suite: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
