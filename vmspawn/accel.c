/* SPDX-License-Identifier: MIT */
/*
 * The KVM probe: a real guest, as small as one that tells can be.  It
 * starts where a Linux kernel runs, in 64-bit long mode with paging, and
 * does what every kernel does early: takes an exception through its own
 * IDT, returns with iretq, takes a software interrupt (int3, which
 * kernels use to patch their own code), and halts.  Each step writes its
 * number to port 0x10:
 *
 *	main (0x6000)		mov al, 1; out 0x10, al
 *				ud2		-> vector 6
 *				int3		-> vector 3
 *				mov al, 4; out 0x10, al
 *				hlt
 *	vector 6 (0x7000)	mov al, 2; out 0x10, al; add qword [rsp], 2; iretq
 *	vector 3 (0x7100)	mov al, 3; out 0x10, al; iretq
 *
 * KVM must come back from KVM_RUN with four KVM_EXIT_IO (out, port 0x10,
 * one byte, 1 to 4), then KVM_EXIT_HLT.  Anything else (an error, an
 * internal-error or shutdown exit, a wrong value, no answer) means guests
 * do not run here.
 *
 * Why not less: on the hosts these tests run on, /dev/kvm is a PVM module
 * on which a real-mode "out; hlt" guest and the first long-mode steps
 * work, yet unmodified kernels fail; the int3 step ends there in
 * KVM_EXIT_INTERNAL_ERROR (emulation failure), as the kernels do.
 *
 * It runs in a child process: a KVM that hangs in KVM_RUN costs the
 * caller the timeout, and a child stuck in the kernel is killed, not
 * waited for.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "accel.h"

/* Guest physical layout, in one 64 KiB slot at 0. */
#define GUEST_SIZE 0x10000
#define PML4 0x1000
#define PDPT 0x2000
#define PD 0x3000
#define GDT 0x4000
#define IDT 0x5000
#define MAIN 0x6000
#define VECTOR6 0x7000
#define VECTOR3 0x7100
#define STACK_TOP 0x9000

#define PROBE_PORT 0x10
#define PROBE_STEPS 4

static const uint8_t main_code[] = {
	0xb0, 0x01, 0xe6, PROBE_PORT, /* mov al, 1; out 0x10, al */
	0x0f, 0x0b,                   /* ud2 */
	0xcc,                         /* int3 */
	0xb0, 0x04, 0xe6, PROBE_PORT, /* mov al, 4; out 0x10, al */
	0xf4,                         /* hlt */
};
static const uint8_t vector6_code[] = {
	0xb0, 0x02, 0xe6, PROBE_PORT,       /* mov al, 2; out 0x10, al */
	0x48, 0x83, 0x04, 0x24, 0x02,       /* add qword [rsp], 2: past the ud2 */
	0x48, 0xcf,                         /* iretq */
};
static const uint8_t vector3_code[] = {
	0xb0, 0x03, 0xe6, PROBE_PORT, /* mov al, 3; out 0x10, al */
	0x48, 0xcf,                   /* iretq */
};

/* What step n (1..4) is the port write of; [5] is the final hlt. */
static const char *const step_names[] = {
	[1] = "the first instructions in 64-bit long mode",
	[2] = "ud2 through the guest's IDT",
	[3] = "iretq, then int3 through the guest's IDT",
	[4] = "iretq from int3",
	[5] = "hlt",
};

/* The step the child got to: the reason names it. */
enum stage {
	STAGE_OPEN = 1,
	STAGE_API_VERSION,
	STAGE_CREATE_VM,
	STAGE_GUEST_MEMORY,
	STAGE_SET_MEMORY,
	STAGE_CREATE_VCPU,
	STAGE_VCPU_MMAP_SIZE,
	STAGE_VCPU_MMAP,
	STAGE_GET_SREGS,
	STAGE_SET_SREGS,
	STAGE_SET_REGS,
	STAGE_RUN,        /* a KVM_RUN failed */
	STAGE_EXIT,       /* a KVM_RUN ended other than expected */
	STAGE_DONE,
};

/* What the child writes to the pipe: TAG_RUNNING when it enters the
 * KVM_RUN loop, then TAG_RESULT and the result (fixed size). */
#define TAG_RUNNING 'R'
#define TAG_RESULT 'S'

struct probe_result {
	int32_t stage;
	int32_t error;        /* errno of the failed call */
	uint32_t steps;       /* port writes seen, in order */
	uint32_t exit_reason; /* kvm_run.exit_reason of the unexpected exit */
	uint32_t detail[4];   /* api version; io fields; suberror */
	uint64_t rip;         /* where the guest stopped, when known */
};

static const char *exit_name(uint32_t reason)
{
	switch (reason) {
	case KVM_EXIT_UNKNOWN: return "KVM_EXIT_UNKNOWN";
	case KVM_EXIT_EXCEPTION: return "KVM_EXIT_EXCEPTION";
	case KVM_EXIT_IO: return "KVM_EXIT_IO";
	case KVM_EXIT_HYPERCALL: return "KVM_EXIT_HYPERCALL";
	case KVM_EXIT_DEBUG: return "KVM_EXIT_DEBUG";
	case KVM_EXIT_HLT: return "KVM_EXIT_HLT";
	case KVM_EXIT_MMIO: return "KVM_EXIT_MMIO";
	case KVM_EXIT_SHUTDOWN: return "KVM_EXIT_SHUTDOWN";
	case KVM_EXIT_FAIL_ENTRY: return "KVM_EXIT_FAIL_ENTRY";
	case KVM_EXIT_INTR: return "KVM_EXIT_INTR";
	case KVM_EXIT_INTERNAL_ERROR: return "KVM_EXIT_INTERNAL_ERROR";
	default: return "an unexpected exit";
	}
}

static void flat_segment(struct kvm_segment *s, uint16_t selector, uint8_t type, bool code64)
{
	memset(s, 0, sizeof(*s));
	s->limit = 0xffffffff;
	s->selector = selector;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->l = code64;
	s->db = !code64;
}

static void set_gate(uint8_t *idt, unsigned vector, uint64_t handler)
{
	uint8_t *e = idt + 16 * vector;

	memset(e, 0, 16);
	e[0] = (uint8_t)handler;
	e[1] = (uint8_t)(handler >> 8);
	e[2] = 0x08; /* the code selector */
	e[5] = 0x8e; /* present, DPL 0, 64-bit interrupt gate */
	e[6] = (uint8_t)(handler >> 16);
	e[7] = (uint8_t)(handler >> 24);
}

/* Guest memory: identity-mapped by one 2 MiB page, a GDT, an IDT whose
 * every exception vector has a handler (an unexpected one still ends in
 * the vector 6 handler's port write, and so in a wrong step). */
static void build_guest(uint8_t *m)
{
	uint64_t *pml4 = (uint64_t *)(m + PML4), *pdpt = (uint64_t *)(m + PDPT);
	uint64_t *pd = (uint64_t *)(m + PD), *gdt = (uint64_t *)(m + GDT);

	pml4[0] = PDPT | 0x3; /* present, writable */
	pdpt[0] = PD | 0x3;
	pd[0] = 0x83;         /* present, writable, 2 MiB page at 0 */
	gdt[0] = 0;
	gdt[1] = UINT64_C(0x00af9a000000ffff); /* 0x08: 64-bit code */
	gdt[2] = UINT64_C(0x00cf92000000ffff); /* 0x10: data */
	for (unsigned v = 0; v < 32; v++)
		set_gate(m + IDT, v, v == 3 ? VECTOR3 : VECTOR6);
	memcpy(m + MAIN, main_code, sizeof(main_code));
	memcpy(m + VECTOR6, vector6_code, sizeof(vector6_code));
	memcpy(m + VECTOR3, vector3_code, sizeof(vector3_code));
}

static void long_mode(struct kvm_sregs *sregs)
{
	flat_segment(&sregs->cs, 0x08, 11, true);
	flat_segment(&sregs->ds, 0x10, 3, false);
	sregs->es = sregs->fs = sregs->gs = sregs->ss = sregs->ds;
	/* Entry checks want a busy 64-bit TSS in long mode. */
	memset(&sregs->tr, 0, sizeof(sregs->tr));
	sregs->tr.selector = 0x18;
	sregs->tr.limit = 0x67;
	sregs->tr.type = 11;
	sregs->tr.present = 1;
	sregs->gdt.base = GDT;
	sregs->gdt.limit = 3 * 8 - 1;
	sregs->idt.base = IDT;
	sregs->idt.limit = 32 * 16 - 1;
	sregs->cr3 = PML4;
	sregs->cr4 = 0x20;             /* PAE */
	sregs->cr0 = 0x80050033;       /* PG, AM, WP, NE, ET, MP, PE */
	sregs->efer = 0x500;           /* LMA, LME */
}

/* In the child: only system calls from here on (the parent may have
 * threads).  Never returns. */
static void run_probe(const char *device, int out)
{
	struct probe_result res = { 0 };
	struct kvm_userspace_memory_region region;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_run *run;
	uint8_t *memory;
	int kvm, vm, vcpu, mmap_size, api;

#define STEP(s, ok) do { res.stage = (s); if (!(ok)) { res.error = errno; goto done; } } while (0)

	STEP(STAGE_OPEN, (kvm = open(device, O_RDWR | O_CLOEXEC)) >= 0);
	STEP(STAGE_API_VERSION, (api = ioctl(kvm, KVM_GET_API_VERSION, 0)) >= 0);
	res.detail[0] = (uint32_t)api;
	if (api != KVM_API_VERSION)
		goto done;
	STEP(STAGE_CREATE_VM, (vm = ioctl(kvm, KVM_CREATE_VM, 0)) >= 0);
	memory = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	STEP(STAGE_GUEST_MEMORY, memory != MAP_FAILED);
	build_guest(memory);
	region = (struct kvm_userspace_memory_region){
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = GUEST_SIZE,
		.userspace_addr = (uint64_t)(uintptr_t)memory,
	};
	STEP(STAGE_SET_MEMORY, ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) == 0);
	STEP(STAGE_CREATE_VCPU, (vcpu = ioctl(vm, KVM_CREATE_VCPU, 0)) >= 0);
	STEP(STAGE_VCPU_MMAP_SIZE, (mmap_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0)) > 0);
	run = mmap(NULL, (size_t)mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	STEP(STAGE_VCPU_MMAP, run != MAP_FAILED);
	STEP(STAGE_GET_SREGS, ioctl(vcpu, KVM_GET_SREGS, &sregs) == 0);
	long_mode(&sregs);
	STEP(STAGE_SET_SREGS, ioctl(vcpu, KVM_SET_SREGS, &sregs) == 0);
	memset(&regs, 0, sizeof(regs));
	regs.rip = MAIN;
	regs.rsp = STACK_TOP;
	regs.rflags = 0x2; /* bit 1 is always set; interrupts off */
	STEP(STAGE_SET_REGS, ioctl(vcpu, KVM_SET_REGS, &regs) == 0);

	/* Tells the parent that a hang from here on is KVM_RUN's. */
	if (write(out, &(char){ TAG_RUNNING }, 1) != 1)
		_exit(2);
	for (;;) {
		STEP(STAGE_RUN, ioctl(vcpu, KVM_RUN, 0) == 0);
		res.stage = STAGE_EXIT;
		res.exit_reason = run->exit_reason;
		if (run->exit_reason == KVM_EXIT_IO) {
			uint8_t value = run->io.size == 1 ? ((uint8_t *)run)[run->io.data_offset] : 0;

			if (run->io.direction != KVM_EXIT_IO_OUT || run->io.port != PROBE_PORT ||
			    run->io.size != 1 || run->io.count != 1 || value != res.steps + 1) {
				res.detail[0] = run->io.direction;
				res.detail[1] = run->io.port;
				res.detail[2] = value;
				break;
			}
			res.steps++;
			continue;
		}
		if (run->exit_reason == KVM_EXIT_HLT && res.steps == PROBE_STEPS)
			res.stage = STAGE_DONE;
		else if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
			res.detail[0] = run->internal.suberror;
		else if (run->exit_reason == KVM_EXIT_FAIL_ENTRY)
			res.detail[0] = (uint32_t)run->fail_entry.hardware_entry_failure_reason;
		break;
	}
	if (res.stage != STAGE_DONE && ioctl(vcpu, KVM_GET_REGS, &regs) == 0)
		res.rip = regs.rip;
#undef STEP
done:
	if (write(out, &(char){ TAG_RESULT }, 1) != 1 ||
	    write(out, &res, sizeof(res)) != (ssize_t)sizeof(res))
		_exit(2);
	_exit(0);
}

static void say(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (!buf || size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

/* The reason for a result; 0 when the probe passed. */
static int explain(const struct probe_result *res, const char *device, char *buf, size_t size)
{
	static const char *const calls[] = {
		[STAGE_API_VERSION] = "KVM_GET_API_VERSION",
		[STAGE_CREATE_VM] = "KVM_CREATE_VM",
		[STAGE_GUEST_MEMORY] = "mmap of guest memory",
		[STAGE_SET_MEMORY] = "KVM_SET_USER_MEMORY_REGION",
		[STAGE_CREATE_VCPU] = "KVM_CREATE_VCPU",
		[STAGE_VCPU_MMAP_SIZE] = "KVM_GET_VCPU_MMAP_SIZE",
		[STAGE_VCPU_MMAP] = "mmap of the vCPU",
		[STAGE_GET_SREGS] = "KVM_GET_SREGS",
		[STAGE_SET_SREGS] = "KVM_SET_SREGS",
		[STAGE_SET_REGS] = "KVM_SET_REGS",
	};
	int err = res->error > 0 ? res->error : EIO;
	uint32_t next = res->steps + 1;
	char what[96];

	if (next > PROBE_STEPS + 1)
		next = PROBE_STEPS + 1;
	switch (res->stage) {
	case STAGE_DONE:
		say(buf, size, "KVM ran the probe guest (long mode, an exception, int3, iretq, hlt)");
		return 0;
	case STAGE_OPEN:
		say(buf, size, "can not open %s: %s", device, strerror(err));
		return -err;
	case STAGE_RUN:
		say(buf, size, "KVM_RUN failed on the probe guest at step %u of %u (%s): %s", next,
		    PROBE_STEPS + 1, step_names[next], strerror(err));
		return -ENODEV;
	case STAGE_EXIT:
		if (res->exit_reason == KVM_EXIT_INTERNAL_ERROR)
			snprintf(what, sizeof(what), "KVM_EXIT_INTERNAL_ERROR (suberror %u%s)",
				 res->detail[0], res->detail[0] == KVM_INTERNAL_ERROR_EMULATION ?
				 ": emulation failure" : "");
		else if (res->exit_reason == KVM_EXIT_FAIL_ENTRY)
			snprintf(what, sizeof(what), "KVM_EXIT_FAIL_ENTRY (hardware reason 0x%x)",
				 res->detail[0]);
		else if (res->exit_reason == KVM_EXIT_IO)
			snprintf(what, sizeof(what), "a port %s of 0x%x at port 0x%x",
				 res->detail[0] == KVM_EXIT_IO_OUT ? "write" : "read",
				 res->detail[2], res->detail[1]);
		else
			snprintf(what, sizeof(what), "%s (%u)", exit_name(res->exit_reason),
				 res->exit_reason);
		say(buf, size, "KVM_RUN did not complete the probe guest: step %u of %u (%s) "
		    "ended in %s at rip 0x%llx", next, PROBE_STEPS + 1, step_names[next], what,
		    (unsigned long long)res->rip);
		return -ENODEV;
	case STAGE_API_VERSION:
		if (res->error == 0) {
			say(buf, size, "%s speaks KVM API version %d, not %d", device,
			    (int)res->detail[0], KVM_API_VERSION);
			return -ENODEV;
		}
		say(buf, size, "KVM_GET_API_VERSION on %s failed: %s (not a KVM device?)", device,
		    strerror(err));
		return -ENODEV;
	default:
		if (res->stage > 0 && (size_t)res->stage < sizeof(calls) / sizeof(calls[0]) &&
		    calls[res->stage]) {
			say(buf, size, "%s failed: %s", calls[res->stage], strerror(err));
			return -err;
		}
		say(buf, size, "the probe stopped at an unknown step %d", (int)res->stage);
		return -EIO;
	}
}

static long elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

/* Reaps child; waits at most about wait_ms.  True if reaped. */
static bool reap(pid_t child, int *status, int wait_ms)
{
	for (int waited = 0;; waited += 10) {
		pid_t r = waitpid(child, status, WNOHANG);

		if (r == child)
			return true;
		if (r < 0 && errno != EINTR)
			return false;
		if (waited >= wait_ms)
			return false;
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	}
}

int vmapp_kvm_probe(const char *device, unsigned timeout_ms, char *ret_reason, size_t size)
{
	struct probe_result res;
	struct timespec start;
	bool running = false, tagged = false, stuck;
	size_t got = 0;
	int fds[2], status = 0, r;
	pid_t parent = getpid(), child;

	say(ret_reason, size, "%s", "");
	if (!device)
		device = VMAPP_KVM_DEVICE;
	/* Cheap and common: no device, or not ours to open.  Said without
	 * a child process. */
	if (access(device, F_OK) < 0) {
		r = -errno;
		say(ret_reason, size, "can not open %s: %s", device, strerror(-r));
		return r;
	}
	if (pipe2(fds, O_CLOEXEC) < 0) {
		r = -errno;
		say(ret_reason, size, "pipe: %s", strerror(-r));
		return r;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	child = fork();
	if (child < 0) {
		r = -errno;
		close(fds[0]);
		close(fds[1]);
		say(ret_reason, size, "fork: %s", strerror(-r));
		return r;
	}
	if (child == 0) {
		close(fds[0]);
		/* Dies with the caller, and never outlives it by much. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		alarm(timeout_ms / 1000 + 2);
		run_probe(device, fds[1]);
	}
	close(fds[1]);

	for (;;) {
		long left = (long)timeout_ms - elapsed_ms(&start);
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		ssize_t n;

		if (left <= 0)
			break;
		r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (!tagged) {
			char tag;

			n = read(fds[0], &tag, 1);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			if (tag == TAG_RUNNING)
				running = true;
			else if (tag == TAG_RESULT)
				tagged = true;
			else
				break;
			continue;
		}
		n = read(fds[0], (char *)&res + got, sizeof(res) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == sizeof(res))
			break;
	}
	close(fds[0]);

	if (got == sizeof(res)) {
		reap(child, &status, 1000);
		return explain(&res, device, ret_reason, size);
	}
	/* No answer: a hang, or the child died before it could say. */
	if (reap(child, &status, 0)) {
		if (WIFSIGNALED(status))
			say(ret_reason, size, "the KVM probe process died of signal %d (%s)",
			    WTERMSIG(status), strsignal(WTERMSIG(status)));
		else
			say(ret_reason, size, "the KVM probe process exited with status %d "
			    "without an answer", WEXITSTATUS(status));
		return -ENODEV;
	}
	kill(child, SIGKILL);
	stuck = !reap(child, &status, 1000);
	if (running)
		say(ret_reason, size, "KVM_RUN did not complete the probe guest within %u ms%s",
		    timeout_ms, stuck ? ", and the probe process is stuck in the kernel" : "");
	else
		say(ret_reason, size, "the KVM probe did not get to KVM_RUN within %u ms%s",
		    timeout_ms, stuck ? ", and the probe process is stuck in the kernel" : "");
	return -ETIMEDOUT;
}

int vmapp_accel_resolve(enum vmapp_accel requested, const char *device, unsigned timeout_ms,
			enum vmapp_accel *ret_accel, char *ret_message, size_t message_size)
{
	char reason[384];
	int r;

	say(ret_message, message_size, "%s", "");
	switch (requested) {
	case VMAPP_ACCEL_TCG:
		*ret_accel = VMAPP_ACCEL_TCG;
		return 0;
	case VMAPP_ACCEL_KVM:
		r = vmapp_kvm_probe(device, timeout_ms, reason, sizeof(reason));
		if (r < 0) {
			say(ret_message, message_size,
			    "accel = kvm, but KVM does not work here: %s "
			    "(set accel = tcg, or auto to fall back to TCG)", reason);
			return -ENODEV;
		}
		*ret_accel = VMAPP_ACCEL_KVM;
		return 0;
	case VMAPP_ACCEL_AUTO:
		r = vmapp_kvm_probe(device, timeout_ms, reason, sizeof(reason));
		if (r < 0) {
			say(ret_message, message_size,
			    "accel = auto: KVM does not work here (%s); using TCG, "
			    "software emulation many times slower", reason);
			*ret_accel = VMAPP_ACCEL_TCG;
			return 0;
		}
		*ret_accel = VMAPP_ACCEL_KVM;
		return 0;
	}
	say(ret_message, message_size, "accel: unknown setting %d", (int)requested);
	return -EINVAL;
}
