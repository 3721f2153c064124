#!/bin/bash
# ring0-suite.sh: lbvm's ring-0 mode checked where /dev/kvm is VT-x/AMD-V (run it inside tests/vm/tcg-kvm.sh).
# usage: tests/vm/ring0-suite.sh LBVM E2E_BUILD_DIR CPUPROBE
#   the mode lbvm picks, the CPU protections a program must not get past (tests/vm/progs/cpuprobe.c),
#   then the whole end-to-end suite. Exit 0 only if everything passes. From the top of the tree:
#     make all build/vm/cpuprobe && make -k check   # check builds the e2e programs (and runs pvm natively)
#     tests/vm/tcg-kvm.sh -- tests/vm/ring0-suite.sh build/lbvm build/e2e build/vm/cpuprobe
set -u
LBVM=$1 E=$2 PROBE=$3
HERE=$(cd "$(dirname "$0")" && pwd)
fail=0
mode=$("$LBVM" run --verbose "$E/hello" 2>&1 >/dev/null | sed -n 's/^lbvm: CPU mode: \([a-z0-9]*\).*/\1/p')
if [ "$mode" = ring0 ]; then
	echo "ok - lbvm picks the ring0 CPU mode"
else
	echo "not ok - lbvm picks the ring0 CPU mode (it said: ${mode:-nothing})"; fail=1
fi
"$LBVM" run --verbose "$E/hello" 2>&1 >/dev/null | grep -E '^lbvm: (ring0|exits):' | sed 's/^/# hello: /'
if out=$("$LBVM" run "$PROBE" 2>&1) && [ "$out" = "$(cat "$HERE/progs/cpuprobe.expected")" ]; then
	echo "ok - cpuprobe: privileged instructions, kernel memory and bad sigreturns fault in the program, not the VM"
else
	echo "not ok - cpuprobe"; diff <(echo "$out") "$HERE/progs/cpuprobe.expected" | sed 's/^/    /'; fail=1
fi
"$HERE/../e2e/run.sh" "$LBVM" "$E" || fail=1
exit $fail
