#!/bin/sh
# kvm-exits.sh: every KVM exit of one command (those KVM handles itself too), counted by reason through the
# kvm_exit tracepoint. Run it where /dev/kvm is real VT-x/AMD-V, e.g. inside tcg-kvm.sh:
#   tests/vm/tcg-kvm.sh -- tests/vm/kvm-exits.sh build/lbvm run build/e2e/hello
# lbvm --verbose counts only the exits that reach the VMM; under TCG, counts mean something and timings do not.
# The command's own output is discarded. Needs root and tracefs.
T=/sys/kernel/tracing
[ -e $T/events/kvm/kvm_exit/enable ] || mount -t tracefs nodev $T 2>/dev/null
[ -e $T/events/kvm/kvm_exit/enable ] || { echo "kvm-exits: no kvm_exit tracepoint (is kvm loaded, is tracefs there?)" >&2; exit 2; }
echo 16384 > $T/buffer_size_kb
echo > $T/trace
echo 1 > $T/events/kvm/kvm_exit/enable
"$@" > /dev/null 2>&1
st=$?
echo 0 > $T/events/kvm/kvm_exit/enable
echo "exits: $(grep -c 'kvm_exit:' $T/trace) (command status $st)"
grep -o 'reason [A-Za-z_0-9]*' $T/trace | sort | uniq -c | sort -rn
grep -q LOST $T/trace && echo "kvm-exits: the trace buffer overflowed; the counts are low" >&2
exit $st
