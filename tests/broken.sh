#!/bin/bash
# broken.sh: the tests can fail: lbvm built with a broken IDT gate or a broken GDT descriptor fails them, where the
# normal build passes the same checks.
# usage: tests/broken.sh BUILD_DIR
#   after make check-broken's builds: BUILD_DIR/lbvm, BUILD_DIR/broken-idt/lbvm (make BROKEN=idt: the guest kernel's
#   page-fault gate not present), BUILD_DIR/broken-gdt/lbvm (make BROKEN=gdt: the VMM's user code descriptor not
#   present), BUILD_DIR/e2e, and test_cpustate from both BUILD_DIR/tests and BUILD_DIR/broken-gdt/tests.
#   Ring 0: tests/vm/tcg-kvm.sh -- tests/broken.sh build
# Each line says what had to fail and how it did; the last is "broken: N passed, N failed, N skipped".
set -u
B=$(realpath "$1")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
HERE=$(dirname "$(realpath "$0")")
LBVM=$B/lbvm
. "$HERE/lib.sh"
kvm_note

# The end-to-end checks run with each lbvm: a few that fail fast when traps or user segments are wrong (they take
# page faults in the program, deliver SIGSEGV, kill on out of memory). Not "signals", which is flaky on its own.
export E2E_ONLY='^(hello|segfault: .*|bad pointers: .*|memory past --mem: .*|poll and select on pipes)$'
e2e_subset() { "$HERE/e2e/run.sh" "$1" "$B/e2e" >"$2" 2>&1; }

# --- the unit test sees the broken GDT (the IDT is the guest's: no unit test computes it) ---
if out=$("$B/tests/test_cpustate" 2>&1); then
	ok "test_cpustate passes with the normal build"
else
	bad "test_cpustate fails with the normal build" "$(grep -E '^\[ +(ERROR|LINE|FAILED) ' <<<"$out" | head -6)"
fi
if out=$("$B/broken-gdt/tests/test_cpustate" 2>&1); then
	bad "test_cpustate passes with BROKEN=gdt"
elif grep -q '^\[  FAILED  \] test_gdt$' <<<"$out"; then
	ok "test_cpustate fails with BROKEN=gdt: $(grep -E '^\[  FAILED  \] test_' <<<"$out" | sort -u | sed 's/.*\] //' | tr '\n' ' ')($(grep -m1 -A1 '^\[  ERROR' <<<"$out" | sed 's/^\[[ A-Z]*\] --- //' | tr '\n' ' '))"
else
	bad "test_cpustate fails with BROKEN=gdt, but not in test_gdt" "$(grep -E '^\[ +(ERROR|LINE|FAILED) ' <<<"$out" | head -6)"
fi

# --- the end-to-end subset: passes with the normal lbvm, fails with each broken one ---
if [ "$KVM" != yes ]; then
	skip "the end-to-end checks with lbvm built BROKEN=idt and BROKEN=gdt" "${KVM_WHY:-$KVM_SKIP_WHY}"
	summary broken
	exit
fi
mode=$("$LBVM" run --verbose "$B/e2e/hello" 2>&1 >/dev/null | sed -n 's/^lbvm: CPU mode: \([a-z0-9]*\).*/\1/p')
echo "# CPU mode: ${mode:-unknown}; the checks: $E2E_ONLY"
if e2e_subset "$LBVM" "$T/normal.log"; then
	ok "the end-to-end subset passes with the normal lbvm ($(grep -c '^ok - ' "$T/normal.log") checks)"
else
	bad "the end-to-end subset fails with the normal lbvm: the failures below prove nothing" "$(grep -A4 '^not ok - ' "$T/normal.log")"
fi
for what in idt gdt; do
	X=$B/broken-$what/lbvm
	case $what in
	idt) why="the guest kernel's page-fault gate not present" ;;
	gdt) why="the user code descriptor not present" ;;
	esac
	if [ ! -x "$X" ]; then
		bad "BROKEN=$what: $X is missing (make check-broken builds it)"
		continue
	fi
	SECONDS=0
	if e2e_subset "$X" "$T/$what.log"; then
		if [ "$what" = gdt ] && [ "$mode" = pvm ]; then
			# kvm-pvm enters user mode with its own fixed CS 0x33 and SS 0x2b, never the guest's descriptors
			skip "BROKEN=gdt ($why): the end-to-end checks pass under pvm" "kvm-pvm does not read the GDT's user descriptors; test_cpustate and ring 0 catch it"
		else
			bad "BROKEN=$what ($why): the end-to-end subset still passes"
		fi
		continue
	fi
	n=$(grep -c '^not ok - ' "$T/$what.log")
	ok "BROKEN=$what ($why): $n of $(grep -cE '^(not )?ok - ' "$T/$what.log") checks run fail (${SECONDS}s)"
	grep -A3 '^not ok - ' "$T/$what.log" | grep -E '^not ok - |lbvm: |^    status ' | sed 's/^/#   /'
done
summary broken
