#!/bin/bash
# check.sh: make check's tests, in every CPU mode this machine can give, then a summary line per mode and one over all.
# usage: tests/check.sh LBVM BUILD_DIR UNIT_TEST...   (BUILD_DIR holds e2e/ and vm/cpuprobe, built by make check)
#
# The parts, in order; one failing does not stop the others:
#   unit tests                      no VM
#   e2e suite, bench smoke test     natively, in the mode lbvm picks here: pvm where /dev/kvm is kvm-pvm, ring0 where
#                                   it is VT-x/AMD-V; with no /dev/kvm character device, each check that boots a VM
#                                   is skipped by name (tests/lib.sh; LBVM_KVM_DEV=/nonexistent simulates that)
#   ring-0 suite (tests/vm/ring0-suite.sh: mode, cpuprobe, the whole e2e suite)
#                                   inside ONE boot of QEMU's emulator with kvm_amd (tests/vm/tcg-kvm.sh), on every
#                                   machine: it needs no KVM on the host. A boot failure or a timeout is a failed check
#                                   (TCG_SUITE_TIMEOUT: seconds for the whole boot, 1800 by default; it takes ~2 min).
# Each check's line carries its mode ("ok - pvm (native): hello", "not ok - ring0 (emulated): hello"), and so does each
# part's own summary line. At the end, for .ci/run:
#   mode MODE (native|emulated): N passed, N failed, N skipped     one line per mode that ran
#   check: N passed, N failed, N skipped                           over all parts, unit tests included
# The skipped checks are listed before them, and kept in BUILD_DIR/check-skipped.txt.
set -u
LBVM=$(realpath "$1")
B=$(realpath "$2")
shift 2
HERE=$(dirname "$(realpath "$0")")
L=$(mktemp)
trap 'rm -f "$L"' EXIT
pass=0 fail=0 skip=0
MODES=()
now() { cut -d' ' -f1 /proc/uptime; }   # a monotonic clock: these machines' wall clock can jump
secs() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }'; }
t_all=$(now)

# tagged TAG: put TAG after "ok - ", "not ok - ", "skip - ", and before each part's summary line
tagged() {
	if [ -z "$1" ]; then cat; return; fi
	local t=${1//[\\\/&]/_}
	sed -u -E -e "s/^(ok|not ok|skip) - /\1 - $t: /" -e "s/^([a-z0-9 ]+: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped)$/$t: \1/"
}

# part NAME LABEL TAG CMD...: run one part, its output tagged, shown and kept; add up its summary line
# ("LABEL: N passed, N failed, N skipped") into the totals and the current mode's (mp, mf, ms). A part that ends
# without one (it crashed, the emulator did not boot, a timeout) counts what it printed, and fails once more.
part() {
	local name=$1 label=$2 tag=$3 st line p f s
	shift 3
	"$@" 2>&1 | tagged "$tag" | tee "$L"
	st=${PIPESTATUS[0]}
	line=$(awk -v pre="${tag:+$tag: }$label: " 'index($0, pre) == 1 &&
		substr($0, length(pre) + 1) ~ /^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$/' "$L" | tail -n 1)
	if [ -n "$line" ]; then
		read -r p f s <<<"$(echo "${line##*"$label: "}" | tr -cs '0-9' ' ')"
		if [ "$st" != 0 ] && [ "$f" = 0 ]; then
			echo "not ok - ${tag:+$tag: }$name exited $st with no failed check"
			f=1
		fi
	else
		p=$(grep -c '^ok - ' "$L") f=$(grep -c '^not ok - ' "$L") s=$(grep -c '^skip - ' "$L")
		case $st in
		97) echo "not ok - ${tag:+$tag: }$name: QEMU's emulator did not boot or set up (tcg-kvm.sh exit 97); the console's end:" ;;
		98) echo "not ok - ${tag:+$tag: }$name: timed out (tcg-kvm.sh exit 98); the console's end:" ;;
		*) echo "not ok - ${tag:+$tag: }$name printed no summary line (exit status $st)" ;;
		esac
		case $st in 97 | 98) sed -n '/^tcg-kvm: /,$p' "$L" | tail -n 25 | sed 's/^/    /' ;; esac
		f=$((f + 1))
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	mp=$((mp + p)) mf=$((mf + f)) ms=$((ms + s))
	grep '^skip - ' "$L" >>"$B/check-skipped.txt"
}

mkdir -p "$B"
: >"$B/check-skipped.txt"

echo "== unit tests (no VM) =="
mp=0 mf=0 ms=0
part "the unit tests" unit "" "$HERE/run-unit.sh" "$@"

# The native mode: what lbvm picks on this machine's KVM (the probe is the test scripts', tests/lib.sh).
KVM_DEV=${LBVM_KVM_DEV:-/dev/kvm}
if [ -c "$KVM_DEV" ]; then
	native=$("$LBVM" run --verbose "$B/e2e/hello" 2>&1 >/dev/null | sed -n 's/^lbvm: CPU mode: \([a-z0-9]*\).*/\1/p')
	case $native in
	pvm) why="this machine's /dev/kvm is kvm-pvm" ;;
	ring0) why="this machine's /dev/kvm is VT-x/AMD-V" ;;
	*) native=unknown why="lbvm could not say which CPU mode this machine's /dev/kvm gives: the checks below say why" ;;
	esac
else
	native="no KVM" why="no $KVM_DEV character device here: the checks that boot a VM are skipped, each by name"
fi
tag="$native (native)"
echo "== $tag: the end-to-end suite and the bench smoke test, natively ($why) =="
mp=0 mf=0 ms=0 t=$(now)
part "the end-to-end tests" e2e "$tag" "$HERE/e2e/run.sh" "$LBVM" "$B/e2e"
part "the bench smoke test" "bench smoke" "$tag" "$HERE/bench/smoke.sh" "$LBVM" "$B/bench-smoke"
MODES+=("mode $tag: $mp passed, $mf failed, $ms skipped")
echo "# $tag: $(secs "$t") s"

# The ring-0 mode under QEMU's emulator with kvm_amd: one boot runs the whole suite. The build outputs are reached at
# the same paths inside (the host's / is shared read-only); /tmp inside is fresh.
tag="ring0 (emulated)"
echo "== $tag: the ring-0 suite inside one boot of QEMU's emulator with kvm_amd (tests/vm/tcg-kvm.sh) =="
mp=0 mf=0 ms=0 t=$(now)
part "the ring-0 suite under the emulator" "ring0 suite" "$tag" \
	"$HERE/vm/tcg-kvm.sh" --timeout "${TCG_SUITE_TIMEOUT:-1800}" -- \
	"$HERE/vm/ring0-suite.sh" "$LBVM" "$B/e2e" "$B/vm/cpuprobe"
MODES+=("mode $tag: $mp passed, $mf failed, $ms skipped")
echo "# $tag: $(secs "$t") s, one boot"

if [ "$skip" -gt 0 ]; then
	echo "check: the $skip skipped checks (also in $B/check-skipped.txt):"
	sed 's/^skip - /    /' "$B/check-skipped.txt"
fi
echo "# check: $(secs "$t_all") s in all"
printf '%s\n' "${MODES[@]}"
echo "check: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
