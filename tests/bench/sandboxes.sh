# sandboxes.sh: how each sandbox runs a workload (native, bwrap, crun, runsc, QEMU microvm, lbvm), and
# whether it can run here at all. Sourced by run.sh (needs B, T, IMG, LBVM, RUNNER and lib.sh).
# Every sandbox runs the same static programs and busybox from the same tree $T (the bench image's
# tree): bwrap binds it as /, crun and runsc get it as their OCI bundle's rootfs, QEMU gets a copy
# in its initramfs, lbvm runs the image packed from it.

SANDBOXES="native bwrap crun runsc qemu lbvm"
declare -A SB_LABEL=(
	[native]="native"
	[bwrap]="bwrap --unshare-all"
	[crun]="crun (OCI bundle)"
	[runsc]="gVisor runsc (OCI bundle)"
	[qemu]="QEMU -M microvm + KVM"
	[lbvm]="lbvm"
)
declare -A SB_REASON=()   # why a sandbox cannot run here; empty when it can
declare -A SB_NOTE=()     # how it ran: version, flags, what was worked around

BWRAP=${BWRAP:-bwrap}
CRUN=${CRUN:-crun}
RUNSC=${RUNSC:-runsc}
QEMU=${QEMU:-qemu-system-x86_64}

# wl_argv WL ROOT: W = the workload's command, with the tree mounted at ROOT ("" inside a sandbox)
wl_argv() {
	local r=$2
	case $1 in
	hello) W=("$r/bin/hello") ;;
	pipe) W=("$r/bin/busybox" sh -c 'echo a | wc -c') ;;
	getpid) W=("$r/bin/getpid" 1000000) ;;
	read) W=("$r/bin/readfile" "$r/data/big") ;;
	loop) W=("$r/bin/busybox" sh -c "for i in \$(seq 1000); do $r/bin/true; done") ;;
	futex) W=("$r/bin/futex" "$ROUNDS") ;;
	epoll) W=("$r/bin/epoll" "$ROUNDS") ;;
	esac
}

# json_str S: S as a JSON string
json_str() {
	printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"
}

# oci_bundle WL ARGS...: $B/oci/WL/config.json, the tree as read-only rootfs, the namespaces
# `crun spec` would give (pid, network, ipc, uts, mount), /proc and a small /dev.
oci_bundle() {
	local wl=$1 a args=""
	shift
	for a in "$@"; do args="$args${args:+, }$(json_str "$a")"; done
	mkdir -p "$B/oci/$wl"
	cat >"$B/oci/$wl/config.json" <<EOF
{
	"ociVersion": "1.0.2",
	"process": {
		"terminal": false,
		"user": { "uid": 0, "gid": 0 },
		"args": [$args],
		"env": ["PATH=/bin:/sbin:/usr/bin:/usr/sbin"],
		"cwd": "/",
		"noNewPrivileges": true
	},
	"root": { "path": $(json_str "$T"), "readonly": true },
	"hostname": "bench",
	"mounts": [
		{ "destination": "/proc", "type": "proc", "source": "proc" },
		{ "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755", "size=1m"] }
	],
	"linux": {
		"namespaces": [ { "type": "pid" }, { "type": "network" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" } ]
	}
}
EOF
}

# probe SB: run the hello workload once under SB; 0 if it printed hello. PROBE_ERR: why not.
probe() {
	local sb=$1 out=$B/cells/probe-$1
	sb_argv "$sb" hello
	rm -f "$out.out"
	"${PREFIX[@]}" "$RUNNER" -n 1 -t "${PROBE_TIMEOUT:-20}" -x "${EXPECT:-0}" -o "$out.out" -- "${ARGV[@]}" >"$out.runs" 2>"$out.err"
	local st
	st=$(awk '{ print $3 }' "$out.runs")
	if [ "$st" = "${EXPECT:-0}" ] && grep -q hello "$out.out"; then
		return 0
	fi
	local t=${PROBE_TIMEOUT:-20} last
	if [ "$st" = timeout ]; then
		# what the sandbox printed last tells how far it got (for QEMU: the firmware's last line)
		last=$(tr -d '\r' <"$out.out" | grep -v '^[[:space:]]*$' | tail -n 1 | cut -c1-80)
		PROBE_ERR="no result in ${t}s, ${last:+its last output was '$last'}${last:-nothing printed}"
	else
		# the first line that says error, else the last line of stderr
		last=$(grep -i -m 1 -e error -e fatal "$out.err" | sed 's/^[^ :]*: //')
		[ -n "$last" ] || last=$(grep -v '^[[:space:]]*$' "$out.err" | tail -n 1)
		PROBE_ERR="exit status ${st:-unknown}${last:+: $last}"
	fi
	return 1
}

# sb_prepare SB: find out whether SB runs here; sets SB_REASON[SB] when it does not
sb_prepare() {
	local sb=$1
	if [ -n "${PEERS:-}" ] && ! [[ " $PEERS " == *" $sb "* ]]; then
		SB_REASON[$sb]="not run: left out by PEERS=\"$PEERS\""
		return
	fi
	case $sb in
	native) SB_NOTE[native]="the programs run straight from the tree; busybox finds its applets there (PATH=\$T/bin)" ;;
	bwrap)
		command -v "$BWRAP" >/dev/null || { SB_REASON[bwrap]="not installed (apt-get install bubblewrap)"; return; }
		SB_NOTE[bwrap]="$("$BWRAP" --version 2>&1 | head -n 1): \`bwrap --unshare-all --ro-bind TREE / --proc /proc --dev /dev PROG\`"
		probe bwrap || SB_REASON[bwrap]="cannot run here: $PROBE_ERR"
		;;
	crun)
		command -v "$CRUN" >/dev/null || { SB_REASON[crun]="not installed (apt-get install crun)"; return; }
		local v
		v=$("$CRUN" --version 2>&1 | head -n 1)
		mkdir -p "$B/crun-state"
		CRUN_PREFIX=()
		SB_NOTE[crun]="$v: \`crun run --bundle\`, the tree as read-only rootfs, pid/net/ipc/uts/mount namespaces, cgroups as crun sets them up"
		if ! probe crun; then
			# crun refuses the hybrid cgroup v1/v2 layout; inside a mount namespace without the v2
			# hierarchy it takes the v1 controllers. The unshare is outside the timed command.
			if grep -q 'hybrid' "$B/cells/probe-crun.err" && [ -d /sys/fs/cgroup/unified ]; then
				CRUN_PREFIX=(unshare -m sh -c 'umount /sys/fs/cgroup/unified && exec "$@"' sh)
				if probe crun; then
					SB_NOTE[crun]="${SB_NOTE[crun]}; this host's cgroups are in hybrid v1/v2 mode, which crun refuses, so it runs inside \`unshare -m\` with /sys/fs/cgroup/unified unmounted (outside the timing)"
				else
					SB_REASON[crun]="cannot run here: $PROBE_ERR"
				fi
			else
				SB_REASON[crun]="cannot run here: $PROBE_ERR"
			fi
		fi
		;;
	runsc)
		command -v "$RUNSC" >/dev/null || { SB_REASON[runsc]="not installed (apt-get install runsc)"; return; }
		local v kvm_err=""
		v=$("$RUNSC" --version 2>&1 | head -n 1)
		mkdir -p "$B/runsc-state"
		# The fastest platform first; ptrace works wherever runsc does.
		for RUNSC_PLATFORM in kvm ptrace; do
			if PROBE_TIMEOUT=15 probe runsc; then break; fi
			"$RUNSC" --root "$B/runsc-state" delete --force lbvm-bench-hello >/dev/null 2>&1
			[ "$RUNSC_PLATFORM" = kvm ] && kvm_err=$PROBE_ERR
			[ "$RUNSC_PLATFORM" = ptrace ] && { SB_REASON[runsc]="cannot run here: ptrace platform: $PROBE_ERR; kvm platform: $kvm_err"; return; }
		done
		SB_LABEL[runsc]="gVisor runsc (OCI bundle, $RUNSC_PLATFORM)"
		SB_NOTE[runsc]="$v: \`runsc --network=none --ignore-cgroups --platform=$RUNSC_PLATFORM run --bundle\`, the same bundles as crun"
		[ -n "$kvm_err" ] && SB_NOTE[runsc]="${SB_NOTE[runsc]}; the kvm platform does not run here (hello: $kvm_err)"
		;;
	qemu) qemu_prepare ;;
	lbvm)
		# LBVM_KVM_DEV: the tests' stand-in for a machine without KVM (tests/lib.sh). Nothing is opened for
		# writing, so nothing can be created under /dev.
		local dev=${LBVM_KVM_DEV:-/dev/kvm}
		if [ ! -c "$dev" ]; then
			SB_REASON[lbvm]="cannot run here: no /dev/kvm on this machine (load kvm_intel or kvm_amd, or use a kvm-pvm host)"
			return
		fi
		if ! (exec 8<"$dev") 2>/dev/null || [ ! -r "$dev" ] || [ ! -w "$dev" ]; then
			SB_REASON[lbvm]="cannot run here: /dev/kvm cannot be opened (run as root, or as a user in group kvm)"
			return
		fi
		SB_NOTE[lbvm]="$(git -C "$(dirname "$0")" describe --always --dirty 2>/dev/null || echo "build"): \`lbvm run PROG\` for the static programs, \`lbvm run bench.img ...\` (the tree packed as an EROFS image) for busybox and the file read"
		probe lbvm || SB_REASON[lbvm]="cannot run here: $PROBE_ERR"
		;;
	esac
}

# sb_argv SB WL: ARGV = the command that runs WL under SB, PREFIX = what wraps the timer, EXPECT = good status
sb_argv() {
	local sb=$1 wl=$2
	PREFIX=() EXPECT=0
	case $sb in
	native)
		wl_argv "$wl" "$T"
		PREFIX=(env "PATH=$T/bin:$T/sbin:$T/usr/bin:$T/usr/sbin")
		ARGV=("${W[@]}")
		;;
	bwrap)
		wl_argv "$wl" ""
		ARGV=("$BWRAP" --unshare-all --ro-bind "$T" / --proc /proc --dev /dev "${W[@]}")
		;;
	crun)
		wl_argv "$wl" ""
		oci_bundle "$wl" "${W[@]}"
		"${CRUN_PREFIX[@]}" "$CRUN" --root "$B/crun-state" delete -f "lbvm-bench-$wl" >/dev/null 2>&1
		PREFIX=("${CRUN_PREFIX[@]}")
		ARGV=("$CRUN" --root "$B/crun-state" run --bundle "$B/oci/$wl" "lbvm-bench-$wl")
		;;
	runsc)
		wl_argv "$wl" ""
		oci_bundle "$wl" "${W[@]}"
		"$RUNSC" --root "$B/runsc-state" delete --force "lbvm-bench-$wl" >/dev/null 2>&1
		ARGV=("$RUNSC" --root "$B/runsc-state" --network=none --ignore-cgroups "--platform=$RUNSC_PLATFORM"
			run --bundle "$B/oci/$wl" "lbvm-bench-$wl")
		;;
	qemu)
		wl_argv "$wl" ""
		qemu_argv kvm "$wl" "${W[@]}"
		EXPECT=1
		;;
	lbvm)
		wl_argv "$wl" ""
		case $wl in
		hello | getpid | futex | epoll) ARGV=("$LBVM" run "$T${W[0]}" "${W[@]:1}") ;;
		read) ARGV=("$LBVM" run --entry "${W[0]}" "$IMG" "${W[@]:1}") ;;
		*) ARGV=("$LBVM" run "$IMG" "${W[@]:1}") ;; # the image's entry is /bin/busybox
		esac
		;;
	esac
}
