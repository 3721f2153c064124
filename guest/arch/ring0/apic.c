/* apic.c (ring0): the preemption tick from the vCPU's own local APIC timer, which KVM runs without the VMM. */
#include "arch/cpu.h"
#include "hypercall/lbvm_abi.h"
#include "kernel/kernel.h"
#include "apic.h"

#define MSR_APIC_BASE      0x1b
#define MSR_X2APIC_EOI     0x80b
#define MSR_X2APIC_SVR     0x80f
#define MSR_X2APIC_LVTT    0x832
#define MSR_X2APIC_TMICT   0x838
#define MSR_X2APIC_TDCR    0x83e
#define MSR_KVM_PV_EOI_EN  0x4b564d04

#define APIC_BASE_DEFAULT  0xfee00000ull
#define APIC_BASE_BSP      (1ull << 8)
#define APIC_BASE_X2APIC   (1ull << 10)
#define APIC_BASE_ENABLE   (1ull << 11)
#define APIC_SVR_ENABLE    (1u << 8)
#define APIC_LVT_PERIODIC  (1u << 17)
#define APIC_TDCR_DIV1     0xbu
#define CPUID1_ECX_X2APIC  (1u << 21)
#define KVM_FEATURE_PV_EOI (1u << 6)

/*
 * KVM's local APIC timer counts at 1 GHz (APIC_BUS_CYCLE_NS; a VMM could
 * change it with KVM_CAP_X86_APIC_BUS_CYCLES_NS, lbvm does not): with the
 * divider at 1, the initial count is the period in ns.
 */
#define TICK_COUNT (LBVM_TICK_MS * 1000000u)

static enum { APIC_UNSET, APIC_READY } apic_state;
static int tick_wanted, tick_armed, have_pv_eoi;
/* KVM sets bit 0 when it injects an interrupt whose EOI may be a plain write here instead of an exit. */
static volatile uint32_t pv_eoi __attribute__((aligned(4)));

static void wrmsr(uint32_t idx, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(idx), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

/*
 * Once, at the first tick a VM needs (most programs never run two processes
 * at once, and pay nothing): each cpuid and wrmsr here is an exit that KVM
 * serves itself. x2APIC, so every register is an MSR (no MMIO page to map);
 * a periodic timer, so a tick costs KVM one exit (its host timer interrupt)
 * and no re-arm; KVM's PV EOI, so the end of the interrupt is a memory write.
 */
static void apic_setup(void)
{
	uint32_t r[4];
	cpuid(1, r);
	if (!(r[2] & CPUID1_ECX_X2APIC))
		panic("ring0: the vCPU has no x2APIC; lbvm's preemption tick needs KVM's in-kernel local APIC");
	wrmsr(MSR_APIC_BASE, APIC_BASE_DEFAULT | APIC_BASE_BSP | APIC_BASE_ENABLE | APIC_BASE_X2APIC);
	wrmsr(MSR_X2APIC_SVR, APIC_SVR_ENABLE | RING0_SPURIOUS_VECTOR);
	wrmsr(MSR_X2APIC_TDCR, APIC_TDCR_DIV1);
	wrmsr(MSR_X2APIC_LVTT, APIC_LVT_PERIODIC | LBVM_TICK_VECTOR);
	cpuid(0x40000000, r);
	if (r[1] == 0x4b4d564b && r[2] == 0x564b4d56 && r[3] == 0x4d) { /* "KVMKVMKVM" */
		cpuid(0x40000001, r);
		if (r[0] & KVM_FEATURE_PV_EOI) {
			wrmsr(MSR_KVM_PV_EOI_EN, kva_to_pa((const void *)&pv_eoi) | 1);
			have_pv_eoi = 1;
		}
	}
	apic_state = APIC_READY;
}

/*
 * Started when a second process becomes runnable; stopped lazily, by the
 * first tick that finds it unwanted, so that processes handing the CPU to
 * each other through a pipe do not pay two exits a hand-over.
 */
void cpu_tick_want(int on)
{
	tick_wanted = on;
	if (!on || tick_armed)
		return;
	if (apic_state == APIC_UNSET)
		apic_setup();
	wrmsr(MSR_X2APIC_TMICT, TICK_COUNT);
	tick_armed = 1;
}

void cpu_tick_ack(void)
{
	if (apic_state != APIC_READY)
		return;
	/* Only this vCPU and KVM (while the vCPU is stopped) touch the flag: no atomic needed. */
	if (have_pv_eoi && (pv_eoi & 1))
		pv_eoi = 0;
	else
		wrmsr(MSR_X2APIC_EOI, 0);
	if (!tick_wanted && tick_armed) {
		wrmsr(MSR_X2APIC_TMICT, 0);
		tick_armed = 0;
	}
}
