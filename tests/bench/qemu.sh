# qemu.sh: the QEMU microvm peer: Debian's kernel (downloaded, not installed), an initramfs with the
# bench tree and vminit as /init, and QEMU's fastest published microvm settings. Sourced by run.sh.
# On a host whose KVM cannot run a stock kernel (kvm-pvm), the cells say why, and the cold start is
# also measured under TCG as a note.

QBOOT=${QBOOT:-/usr/share/qemu/qboot.rom}
QEMU_DIR=$B/qemu

# qemu_kernel: $QEMU_DIR/vmlinuz, extracted from the linux-image package that Debian's
# linux-image-amd64 points at (apt-get download; nothing is installed into /boot)
qemu_kernel() {
	[ -s "$QEMU_DIR/vmlinuz" ] && return 0
	local pkg deb
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ { print $2; exit }')
	[ -n "$pkg" ] || { QEMU_ERR="no linux-image-amd64 in apt's lists (run apt-get update)"; return 1; }
	rm -f "$QEMU_DIR"/linux-image-*.deb
	(cd "$QEMU_DIR" && apt-get download "$pkg") >"$QEMU_DIR/download.log" 2>&1
	deb=$(ls "$QEMU_DIR"/linux-image-*.deb 2>/dev/null | head -n 1)
	[ -n "$deb" ] || { QEMU_ERR="apt-get download $pkg failed (see $QEMU_DIR/download.log)"; return 1; }
	rm -rf "$QEMU_DIR/pkg"
	mkdir -p "$QEMU_DIR/pkg"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$QEMU_DIR/pkg" --wildcards './boot/vmlinuz-*' 2>>"$QEMU_DIR/download.log"
	local k
	k=$(ls "$QEMU_DIR"/pkg/boot/vmlinuz-* 2>/dev/null | head -n 1)
	[ -n "$k" ] || { QEMU_ERR="$deb has no /boot/vmlinuz-*"; return 1; }
	cp "$k" "$QEMU_DIR/vmlinuz.tmp" && mv "$QEMU_DIR/vmlinuz.tmp" "$QEMU_DIR/vmlinuz"
	basename "$deb" .deb >"$QEMU_DIR/kernel-package"
	rm -rf "$QEMU_DIR/pkg" "$deb"
}

# qemu_initrd NAME WITH_DATA: $QEMU_DIR/NAME.cpio: the tree (with data/ only if WITH_DATA=1) and /init
qemu_initrd() {
	local name=$1 data=$2 root=$QEMU_DIR/$1-root
	[ -s "$QEMU_DIR/$name.cpio" ] && [ "$QEMU_DIR/$name.cpio" -nt "$IMG" ] && return 0
	command -v cpio >/dev/null || { QEMU_ERR="cpio not installed (apt-get install cpio)"; return 1; }
	rm -rf "$root"
	mkdir -p "$root"
	local e
	for e in "$T"/* "$T"/.[!.]*; do
		[ -e "$e" ] || continue
		[ "$(basename "$e")" = data ] && [ "$data" != 1 ] && continue
		cp -a "$e" "$root/"
	done
	cp "$B/vminit" "$root/init"
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$QEMU_DIR/$name.cpio.tmp" &&
		mv "$QEMU_DIR/$name.cpio.tmp" "$QEMU_DIR/$name.cpio" || { QEMU_ERR="cpio could not write $QEMU_DIR/$name.cpio"; return 1; }
	rm -rf "$root"
}

# qemu_argv ACCEL WL ARGS...: ARGV = QEMU booting the kernel with ARGS run by /init. The settings
# are QEMU's fastest documented microvm ones: qboot, no option ROMs, no PIT/PIC/RTC, no devices but
# the serial port and isa-debug-exit (vminit's way out), `quiet`.
qemu_argv() {
	local accel=$1 wl=$2 a cmdline="" initrd=$QEMU_DIR/small.cpio mem=256M extra=""
	shift 2
	for a in "$@"; do
		case $a in *" "*) a="\"$a\"" ;; esac
		cmdline="$cmdline $a"
	done
	[ "$wl" = read ] && initrd=$QEMU_DIR/data.cpio mem=1G
	local cpu=()
	if [ "$accel" = kvm ]; then
		[ -n "${QEMU_CPU:-}" ] && cpu=(-cpu "$QEMU_CPU")
	else
		# Under TCG the kernel's PIT calibration of the TSC fails now and then (and the boot hangs);
		# tell it the host's TSC rate, which TCG's TSC runs at.
		extra="tsc_early_khz=$(awk -F: '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)"
	fi
	ARGV=("$QEMU" -M microvm,x-option-roms=off,pit=off,pic=off,rtc=off,isa-serial=on -accel "$accel" "${cpu[@]}"
		-m "$mem" -smp 1 -nodefaults -no-user-config -display none -no-reboot -serial stdio
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 -bios "$QBOOT"
		-kernel "$QEMU_DIR/vmlinuz" -initrd "$initrd" -append "console=ttyS0 quiet panic=-1 $extra --$cmdline")
}

# qemu_prepare: can QEMU with KVM boot Debian's kernel here? Sets SB_REASON[qemu] when not.
qemu_prepare() {
	command -v "$QEMU" >/dev/null || { SB_REASON[qemu]="not installed (apt-get install qemu-system-x86)"; return; }
	[ -r "$QBOOT" ] || { SB_REASON[qemu]="$QBOOT missing (apt-get install qemu-system-data)"; return; }
	mkdir -p "$QEMU_DIR"
	QEMU_ERR=""
	qemu_kernel && qemu_initrd small 0 || { SB_REASON[qemu]="cannot be set up: $QEMU_ERR"; return; }
	local v kpkg
	v=$("$QEMU" --version | head -n 1)
	kpkg=$(cat "$QEMU_DIR/kernel-package" 2>/dev/null)
	SB_NOTE[qemu]="$v, kernel ${kpkg:-vmlinuz} from Debian (bzImage booted by qboot), the tree plus /init in an uncompressed initramfs; \`-M microvm,x-option-roms=off,pit=off,pic=off,rtc=off,isa-serial=on -nodefaults -no-user-config -device isa-debug-exit -bios qboot.rom -m 256M -smp 1 -append 'console=ttyS0 quiet panic=-1'\`"
	# -cpu host first, as the published fast settings use it; then QEMU's default model.
	local why=""
	for QEMU_CPU in host ""; do
		if probe qemu; then
			[ -n "$why" ] && SB_NOTE[qemu]="${SB_NOTE[qemu]}; -cpu host fails here ($why)"
			qemu_initrd data 1 || SB_REASON[qemu]="cannot be set up: $QEMU_ERR"
			return
		fi
		why="${why:+$why; }-cpu ${QEMU_CPU:-default}: $PROBE_ERR"
	done
	SB_REASON[qemu]="cannot run here: $why"
	if [ -e /sys/module/kvm_pvm ]; then
		SB_REASON[qemu]="${SB_REASON[qemu]}. This host's KVM is kvm-pvm: a guest kernel without PVM support runs emulated and cannot reach user mode"
	fi
}

# qemu_tcg_note: the cold start under TCG, when KVM could not run it; one line for the notes.
qemu_tcg_note() {
	[ -n "${SB_REASON[qemu]}" ] && [ -s "$QEMU_DIR/vmlinuz" ] && [ -s "$QEMU_DIR/small.cpio" ] || return
	[ "${QEMU_TCG:-1}" = 1 ] || return
	local base=$B/cells/hello-qemu-tcg runs=$RUNS
	QEMU_CPU=""
	qemu_argv tcg hello /bin/hello
	"$RUNNER" -n "$runs" -w 1 -t 120 -x 1 -- "${ARGV[@]}" >"$base.runs" 2>"$base.err"
	if [ "$(awk '$3 == 1' "$base.runs" | wc -l)" = "$runs" ]; then
		read -r TCG_MED TCG_MIN TCG_MAX TCG_SD _ <<<"$(awk '{ print $1 }' "$base.runs" | stats)"
		TCG_RSS=$(awk '{ print $2 }' "$base.runs" | stats | awk '{ print $1 }')
	else
		TCG_ERR=$(CELL_TIMEOUT=120 why_failed "$base.err" "$(awk '$3 != 1 { print $3; exit }' "$base.runs")")
	fi
}
