#!/bin/bash
# tcg-kvm.sh: run one command where /dev/kvm is real AMD-V with nested paging: Debian's kernel under QEMU's
# emulator (TCG, -cpu max), kvm_amd loaded inside, this machine's root shared read-only over 9p.
#
# usage: tests/vm/tcg-kvm.sh [--timeout S] [--mem MiB] [--env K=V]... -- CMD [ARGS...]
#   CMD runs as root in the caller's working directory, with PATH (the caller's), HOME=/root and the
#   --env's; stdin is /dev/null. Inside, / is the host's root under a tmpfs overlay: writes stay in the VM.
#   /tmp, /run and /dev/shm inside are fresh tmpfs, except /tmp when the working directory is under the host's /tmp
#   (a checkout there, say) or TCG_HOSTTMP=1: then the host's /tmp is kept, under the overlay like the rest, so that
#   files given by path are reached at the same paths inside.
#   CMD's stdout and stderr come out on ours as it writes them (files in a shared directory, followed).
# exit: CMD's status; 97 = the VM did not boot or could not set up (the console log on stderr);
#       98 = --timeout (default 1200 s) passed.
# env:  TCG_LOG (keep the console log there), KVER (guest kernel version, default the newest with modules),
#       TCG_TSC_KHZ (the host's TSC rate, when /proc/cpuinfo cannot tell it).
# The ELF vmlinux (PVH boot, ~3 s faster than the bzImage) is extracted once into $XDG_CACHE_HOME/lbvm.
# Needs (scripts/install-deps, make deps): qemu-system-x86 linux-image-amd64 busybox-static cpio kmod xz-utils python3 binutils.
# It creates nothing on the host outside a temp dir and the cache above: /dev/kvm is the guest's own (devtmpfs).
set -uo pipefail
die() { echo "tcg-kvm: $*" >&2; exit 97; }
TIMEOUT=1200 MEM=2048 ENVS=()
while [ $# -gt 0 ]; do
	case $1 in
	--timeout) TIMEOUT=${2:?}; shift 2;;
	--mem) MEM=${2:?}; shift 2;;
	--env) case ${2:?} in *=*) ENVS+=("$2");; *) die "--env $2: want K=V";; esac; shift 2;;
	--) shift; break;;
	*) die "unknown option $1 (the command goes after --)";;
	esac
done
[ $# -ge 1 ] || die "no command (usage: tcg-kvm.sh [options] -- CMD [ARGS...])"
for t in qemu-system-x86_64 cpio modprobe xz python3 readelf; do command -v $t >/dev/null || die "needs $t (scripts/install-deps)"; done
BB=/bin/busybox
# It runs as the initramfs's only program, with no ld.so: it must be static (no program interpreter).
phdrs=$(LC_ALL=C readelf -lW $BB 2>/dev/null)
case $phdrs in *LOAD*) case $phdrs in *INTERP*) ;; *) phdrs=static;; esac;; esac
[ "$phdrs" = static ] || die "$BB is not a static program (apt-get install busybox-static)"

# The guest kernel: the newest Debian kernel whose modules are installed (not necessarily the host's own).
if [ -z "${KVER:-}" ]; then
	for k in $(ls /lib/modules | sort -rV); do
		[ -r /boot/vmlinuz-$k ] && { KVER=$k; break; }
	done
fi
[ -n "${KVER:-}" ] && [ -r /boot/vmlinuz-$KVER ] || die "no kernel in /boot with modules in /lib/modules (apt-get install linux-image-amd64)"
CACHE=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/lbvm
VMLINUX=$CACHE/vmlinux-$KVER
if [ ! -s "$VMLINUX" ]; then
	mkdir -p "$CACHE" || die "cannot create $CACHE"
	# Debian's bzImage carries the ELF vmlinux XZ-compressed; the ELF has the PVH note QEMU boots directly.
	python3 - /boot/vmlinuz-$KVER "$VMLINUX.$$" <<-'PY' && mv "$VMLINUX.$$" "$VMLINUX" || { rm -f "$VMLINUX.$$"; die "cannot extract vmlinux"; }
	import lzma, sys
	d = open(sys.argv[1], 'rb').read()
	i = d.find(b'\xfd7zXZ\x00')
	if i < 0:
	    sys.exit("no XZ payload in the bzImage")
	out = lzma.LZMADecompressor().decompress(d[i:])
	if out[:4] != b'\x7fELF':
	    sys.exit("the payload is not an ELF file")
	open(sys.argv[2], 'wb').write(out)
	PY
fi

# microvm has no PIT, HPET or PM timer to calibrate the TSC with: the guest is told the host's rate
# (under TCG the guest's TSC runs at it).
TSC_KHZ=${TCG_TSC_KHZ:-}
if [ -z "$TSC_KHZ" ] && [ ! -e /sys/devices/system/cpu/cpu0/cpufreq ] && grep -qw -m1 constant_tsc /proc/cpuinfo; then
	TSC_KHZ=$(awk -F: '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)
fi
[ -n "$TSC_KHZ" ] || die "cannot tell the host's TSC rate; set TCG_TSC_KHZ"

W=$(mktemp -d "${TMPDIR:-/tmp}/tcg-kvm.XXXXXX") || die "mktemp failed"
QPID= TPIDS=
cleanup() { [ -n "$QPID" ] && kill "$QPID" 2>/dev/null; [ -n "$TPIDS" ] && kill $TPIDS 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
LOG=${TCG_LOG:-$W/console.log}
R=$W/root
mkdir -p "$R"/{bin,dev,proc,sys,newroot,lower,upper,lib/modules} "$W/out" || die "cannot write $W"
cp $BB "$R/bin/busybox"

# Modules, decompressed, in load order: virtio transport, 9p, overlay, then irqbypass, kvm, ccp, kvm_amd.
: > "$R/modules"
while read -r _ f; do
	b=$(basename "$f"); b=${b%.xz}; b=${b%.zst}
	[ -e "$R/lib/modules/$b" ] && continue
	case $f in
	*.ko.xz) xz -dc "$f" > "$R/lib/modules/$b";;
	*.ko.zst) zstd -dqc "$f" > "$R/lib/modules/$b";;
	*) cp "$f" "$R/lib/modules/$b";;
	esac || die "cannot copy module $f"
	echo "$b" >> "$R/modules"
done < <(modprobe -S "$KVER" --show-depends -a virtio_mmio 9pnet_virtio 9p overlay kvm_amd 2>/dev/null | grep '^insmod ')
grep -q '^kvm-amd' "$R/modules" || die "kvm_amd for $KVER not found under /lib/modules"

HOSTTMP=${TCG_HOSTTMP:-0}
case $PWD/ in
/tmp/*) HOSTTMP=1;;
/run/* | /dev/* | /proc/* | /sys/*) die "the working directory $PWD cannot be reached inside (a fresh file system there)";;
esac

# The command, quoted for the guest's shell.
q() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }
{
	printf 'CWD=%s HOSTTMP=%s\n' "$(q "$PWD")" "$HOSTTMP"
	printf 'set --'
	for a in "PATH=$PATH" "HOME=/root" "${ENVS[@]}" "$@"; do printf ' %s' "$(q "$a")"; done
	echo
} > "$R/spec"

cat > "$R/init" <<'EOF'
#!/bin/busybox sh
# /init: modules, the host's root (9p, read-only) under a tmpfs overlay, /dev/kvm, the command, power off.
B=/bin/busybox
$B mount -t devtmpfs dev /dev
exec </dev/null >/dev/console 2>&1
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
$B ip link set lo up   # the host-side servers of the network tests listen on 127.0.0.1 and ::1
. /spec
up() { $B cut -d' ' -f1 /proc/uptime; }
fail() { echo "TCG_SETUP_FAILED: $*"; $B reboot -f; }
echo "TCG_T init $(up)"
for m in $($B cat /modules); do $B insmod /lib/modules/$m || fail "insmod $m"; done
[ -c /dev/kvm ] || fail "no /dev/kvm after loading kvm_amd"
echo "TCG_T modules $(up) npt=$($B cat /sys/module/kvm_amd/parameters/npt)"
O=trans=virtio,version=9p2000.L,msize=512000
$B mount -t 9p -o ro,$O,cache=loose host /lower || fail "mount the host's root"
$B mount -t tmpfs -o mode=0755,size=75% upper /upper && $B mkdir /upper/u /upper/w || fail "tmpfs for the overlay"
N=/newroot
$B mount -t overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w,index=off,metacopy=off,redirect_dir=off,xino=off \
	root $N || fail "mount the overlay"
$B mount --bind /dev $N/dev && $B mount --bind /proc $N/proc && $B mount --bind /sys $N/sys || fail "bind mounts"
if [ "$HOSTTMP" != 1 ]; then $B mount -t tmpfs -o mode=1777,size=75% tmp $N/tmp || fail "tmpfs /tmp"; fi
$B mount -t tmpfs -o mode=0755 run $N/run || fail "tmpfs /run"
$B mkdir -p $N/dev/shm $N/dev/pts $N/run/tcg-out && $B mount -t tmpfs -o mode=1777 shm $N/dev/shm || fail "/dev/shm"
$B mount -t devpts -o gid=5,mode=0620,ptmxmode=0666 devpts $N/dev/pts && $B ln -sfn pts/ptmx $N/dev/ptmx || fail "devpts"
$B mount -t 9p -o $O,cache=none out $N/run/tcg-out || fail "mount the output directory"
$B ln -sfn /proc/self/fd $N/dev/fd
$B chmod 0666 /dev/kvm
echo "TCG_T cmd $(up)"
$B chroot $N /bin/sh -c 'cd "$1" || exit 97; shift; exec /usr/bin/env -i "$@" >/run/tcg-out/stdout 2>/run/tcg-out/stderr' sh "$CWD" "$@"
rc=$?
echo "TCG_T cmd_exit $(up) rc=$rc"
echo $rc > $N/run/tcg-out/status
$B umount $N/run/tcg-out
$B sync
$B reboot -f
EOF
chmod +x "$R/init"
(cd "$R" && find . | cpio -o -H newc -R 0:0 --quiet) > "$W/initrd" || die "cpio failed"

: > "$LOG"
timeout -k 5 "$TIMEOUT" qemu-system-x86_64 -accel tcg -cpu max -M microvm,rtc=on -m "$MEM" -smp 1 \
	-nodefaults -no-user-config -nographic -no-reboot -monitor none -serial "file:$LOG" \
	-kernel "$VMLINUX" -initrd "$W/initrd" \
	-append "console=ttyS0 quiet panic=-1 rdinit=/init tsc_early_khz=$TSC_KHZ tsc=reliable pci=off" \
	-fsdev local,id=host,path=/,security_model=passthrough,readonly=on,multidevs=remap \
	-device virtio-9p-device,fsdev=host,mount_tag=host \
	-fsdev "local,id=out,path=$W/out,security_model=passthrough" \
	-device virtio-9p-device,fsdev=out,mount_tag=out \
	</dev/null >>"$LOG" 2>&1 &
QPID=$!
# The guest writes CMD's output straight into these files (9p, no cache): follow them until qemu is gone.
: > "$W/out/stdout"; : > "$W/out/stderr"
tail -n +1 -s 0.2 --pid=$QPID -f "$W/out/stdout" & TPIDS=$!
tail -n +1 -s 0.2 --pid=$QPID -f "$W/out/stderr" >&2 & TPIDS="$TPIDS $!"
wait $QPID
QRC=$?
QPID=
wait $TPIDS
TPIDS=
RC=$(cat "$W/out/status" 2>/dev/null)
if [[ $RC =~ ^[0-9]+$ ]]; then
	exit "$RC"
fi
if [ "$QRC" = 124 ] || [ "$QRC" = 137 ]; then
	echo "tcg-kvm: timed out after $TIMEOUT s; console log:" >&2
	RC=98
else
	why=$(sed -n 's/^TCG_SETUP_FAILED: //p' "$LOG" | head -n 1)
	echo "tcg-kvm: the VM failed: ${why:-no exit status from it (qemu exit $QRC)}; console log:" >&2
	RC=97
fi
tail -n 40 "$LOG" | tr -d '\r' >&2
exit "$RC"
