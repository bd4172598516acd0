// SPDX-License-Identifier: GPL-2.0-only
/*
 * A QEMU TCG plugin (API version 1) for make bench: counts the guest
 * instructions executed, kernel and BPF included, and writes the count, one
 * decimal line, each time the guest executes the marker xchg %bx,%bx
 * (66 87 db), an instruction no compiler emits.  The difference between two
 * markers is what the guest executed between them.  Deterministic with -smp 1,
 * -accel tcg,thread=single and -icount shift=0 (timer ticks then follow the
 * instruction count, not the host's clock).
 *
 *   qemu-system-x86_64 ... -plugin build/icount.so,out=FILE
 *
 * Debian's QEMU ships no qemu-plugin.h: the few entry points used are
 * declared here, as QEMU's include/qemu/qemu-plugin.h documents them.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
struct qemu_info; /* not read */

enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };

typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op,
					      void *ptr, uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
					    qemu_plugin_vcpu_udata_cb_t cb,
					    enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
void qemu_plugin_outs(const char *string);

EXPORT int qemu_plugin_version = 1;

/*
 * Added at the entry of every translation block, all of its instructions at
 * once: a marker's count includes the rest of its block, the same few
 * instructions at both ends of a measurement.
 */
static uint64_t executed;
static uint64_t markers;
static int out = -1;

static const unsigned char marker[] = {0x66, 0x87, 0xdb};

static void on_marker(unsigned int vcpu_index, void *userdata)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "%" PRIu64 "\n", executed);

	markers++;
	if (write(out, line, n) != n)
		qemu_plugin_outs("icount: cannot write a count\n");
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t n = qemu_plugin_tb_n_insns(tb);

	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &executed, n);
	for (size_t i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);

		if (qemu_plugin_insn_size(insn) == sizeof(marker) &&
		    !memcmp(qemu_plugin_insn_data(insn), marker, sizeof(marker)))
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker,
							       QEMU_PLUGIN_CB_NO_REGS, NULL);
	}
}

static void on_qemu_exit(qemu_plugin_id_t id, void *userdata)
{
	char line[96];

	snprintf(line, sizeof(line), "icount: %" PRIu64 " instructions, %" PRIu64 " markers\n",
		 executed, markers);
	qemu_plugin_outs(line);
	close(out);
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const struct qemu_info *info, int argc,
			       char **argv)
{
	const char *path = NULL;

	for (int i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "out=", 4))
			path = argv[i] + 4;
		else {
			fprintf(stderr, "icount: unknown argument '%s' (expected out=FILE)\n",
				argv[i]);
			return -1;
		}
	}
	if (!path || !*path) {
		fprintf(stderr, "icount: no output file (expected out=FILE)\n");
		return -1;
	}
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		perror(path);
		return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
	qemu_plugin_register_atexit_cb(id, on_qemu_exit, NULL);
	return 0;
}
