# lib.sh: what the test scripts share: results (ok, bad, skip), the one gate for checks that boot a VM, and the summary.
# Sourced (bash) by tests/e2e/*.sh and tests/bench/smoke.sh after they set LBVM (the lbvm binary) and T (a temp dir they
# remove); PFX, if set, prefixes every check's name.
#
# Every check that boots a VM goes through vm_check NAME first. With a usable /dev/kvm the check runs; without a
# /dev/kvm character device it is printed as "skip - NAME (no /dev/kvm on this machine)" and counted as skipped, never
# as passed; with one that cannot be opened it fails, saying what to do. Checks that need no VM do not ask.
#
# LBVM_KVM_DEV (tests only; lbvm itself has no such setting) names the device the probe looks at, so that a machine
# without KVM can be simulated here: LBVM_KVM_DEV=/nonexistent make check. The probe creates and changes nothing under
# /dev: a file test and a read-only open, which never creates (unlike <>, which opens with O_CREAT).

pass=0 fail=0 skip=0
PFX=${PFX:-}
KVM_DEV=${LBVM_KVM_DEV:-/dev/kvm}
KVM_SKIP_WHY="no /dev/kvm on this machine"
KVM_WHY=""
if [ ! -c "$KVM_DEV" ]; then
	KVM=absent
	if [ -e "$KVM_DEV" ]; then
		KVM_WHY="$KVM_DEV is a $(stat -L -c %F "$KVM_DEV"), not a character device (left by an old test script that opened"
		KVM_WHY="$KVM_WHY it for writing as root?): remove it"
	fi
elif ! kvm_err=$( (exec 9<"$KVM_DEV") 2>&1) || [ ! -r "$KVM_DEV" ] || [ ! -w "$KVM_DEV" ]; then
	KVM=unusable
	case $kvm_err in
	"" | *"Permission denied"*) kvm_fix="run the tests as root, or join group kvm (sudo usermod -aG kvm \$USER, then log in again)" ;;
	*) kvm_fix="is the KVM module loaded? load kvm_intel or kvm_amd, or use a kvm-pvm host" ;;
	esac
	KVM_WHY="$KVM_DEV is there but cannot be opened for reading and writing${kvm_err:+ (${kvm_err##*: })}: $kvm_fix"
else
	KVM=yes
fi

# Without KVM, "$LBVM" run is refused rather than started (the other subcommands run): no check can boot a VM by
# mistake, and a check whose lbvm run was refused reports a skip (ok and bad look). Checks that need no VM but do
# call lbvm run (errors given before /dev/kvm is opened) use "$LBVM_BIN", the binary itself.
LBVM_BIN=$LBVM
if [ "$KVM" = absent ]; then
	LBVM=$T/lbvm-without-kvm
	cat >"$LBVM" <<-EOF
		#!/bin/sh
		# lbvm with no KVM (tests/lib.sh): run is refused, everything else is the real lbvm.
		if [ "\${1:-}" = run ]; then
			echo "lbvm run not started: $KVM_SKIP_WHY" >&2
			: >"$T/lbvm-refused"
			exit 125
		fi
		exec "$LBVM_BIN" "\$@"
	EOF
	chmod +x "$LBVM"
fi
lbvm_refused() { [ -e "$T/lbvm-refused" ] && rm -f "$T/lbvm-refused"; }

# kvm_note: a line for the top of a script's output when its VM checks will not run
kvm_note() {
	case $KVM in
	absent) echo "# $KVM_SKIP_WHY${KVM_WHY:+ ($KVM_WHY)}: the checks that boot a VM are skipped, each by name" ;;
	unusable) echo "# $KVM_WHY: the checks that boot a VM fail" ;;
	esac
}

ok() {
	if lbvm_refused; then skip "$1" "$KVM_SKIP_WHY"; return; fi
	pass=$((pass + 1)); echo "ok - $PFX$1"
}
bad() {
	if lbvm_refused; then skip "$1" "$KVM_SKIP_WHY"; return; fi
	fail=$((fail + 1)); echo "not ok - $PFX$1"
	shift
	for m in "$@"; do echo "    $m"; done
}
# skip NAME WHY: the check did not run; it counts as skipped, never as passed
skip() { skip=$((skip + 1)); echo "skip - $PFX$1 ($2)"; }

# vm_check NAME: true when a check that boots a VM can run; otherwise NAME is recorded (skipped, or failed if
# /dev/kvm is there but unusable) and it is false. With E2E_ONLY (an extended regex; tests/broken.sh sets it) the
# checks whose names do not match it are left out: false, and neither printed nor counted.
vm_check() {
	if [ -n "${E2E_ONLY:-}" ] && ! [[ $1 =~ $E2E_ONLY ]]; then
		return 1
	fi
	case $KVM in
	yes) return 0 ;;
	absent) skip "$1" "$KVM_SKIP_WHY" ;;
	*) bad "$1" "$KVM_WHY" ;;
	esac
	return 1
}

# check NAME STATUS EXPECTED_STDOUT -- CMD...: a VM check of exact stdout and exit status
check() {
	vm_check "$1" || return 0
	local name=$1 want_st=$2 want_out=$3
	shift 4
	timeout 60 "$@" >"$T/lib.out" 2>"$T/lib.err" </dev/null
	local st=$?
	printf '%s' "$want_out" >"$T/lib.want"
	if [ "$st" = "$want_st" ] && cmp -s "$T/lib.want" "$T/lib.out"; then
		ok "$name"
	else
		bad "$name" "status $st (want $want_st)" "stdout diff (want / got):" \
			"$(diff "$T/lib.want" "$T/lib.out" | head -20)" "stderr: $(head -c 600 "$T/lib.err")"
	fi
}

# check_err NAME STATUS PATTERN -- CMD...: a VM check of the exit status, and stderr matching an extended regex
check_err() {
	vm_check "$1" || return 0
	host_check_err "$@"
}

# host_check_err NAME STATUS PATTERN -- CMD...: the same for a command that boots no VM (run with "$LBVM_BIN")
host_check_err() {
	local name=$1 want_st=$2 pat=$3
	shift 4
	timeout 60 "$@" >"$T/lib.out" 2>"$T/lib.err" </dev/null
	local st=$?
	if [ "$st" = "$want_st" ] && grep -Eq -- "$pat" "$T/lib.err"; then
		ok "$name"
	else
		bad "$name" "status $st (want $want_st), stderr should match /$pat/:" "$(head -c 600 "$T/lib.err")"
	fi
}

# tally LOG: the result lines of a script run inside this one, shown and added to the counts
tally() {
	grep -E '^(ok|not ok|skip) - |^    ' "$1"
	pass=$((pass + $(grep -c '^ok - ' "$1")))
	fail=$((fail + $(grep -c '^not ok - ' "$1")))
	skip=$((skip + $(grep -c '^skip - ' "$1")))
}

# summary LABEL: the line make check and CI read; false when a check failed
summary() {
	echo "$1: $pass passed, $fail failed, $skip skipped"
	[ "$fail" -eq 0 ]
}
