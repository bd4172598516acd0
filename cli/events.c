// SPDX-License-Identifier: GPL-2.0-only
/* memgate events [--follow] [--json]: memgate's ring buffer, as it comes. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "mg_shared.h"
#include "cli.h"

static volatile sig_atomic_t stop_following;

static void on_signal(int sig)
{
	stop_following = 1;
}

struct event_ctx {
	bool json;
	int names; /* memgate_names: cgroup id -> container, for the container's id */
};

static int print_event(void *ctx, void *data, size_t size)
{
	const struct mg_event *e = data;
	const struct event_ctx *ec = ctx;
	struct mg_container_key key = {};
	char id[ID_TEXT], comm[COMM_TEXT];
	bool oom;

	if (size < sizeof(*e))
		return 0;
	oom = e->d.kind == MG_KIND_OOM_KILL;
	bpf_map_lookup_elem(ec->names, &e->cgroup_id, &key);
	key.id[sizeof(key.id) - 1] = '\0';
	if (ec->json) {
		json_object *o;

		if (oom) {
			o = oom_kill_json(&e->d);
			json_object_object_add(o, "kind", json_object_new_string(kind_name(e->d.kind)));
		} else {
			o = denial_json(&e->d);
		}
		json_object_object_add(o, "cgroup_id", u64(e->cgroup_id));
		json_object_object_add(o, "container", key.id[0] ? json_object_new_string(key.id) : NULL);
		json_object_object_add(o, "decision", json_object_new_string(oom ? "killed" : e->audited ? "audited" : "denied"));
		put_json(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	} else if (oom) {
		printf("oom-kill container=%s cgroup=%" PRIu64 " pid=%u comm=%s\n",
		       key.id[0] ? id_text(key.id, false, id) : "-", (uint64_t)e->cgroup_id, e->d.pid,
		       comm_text(e->d.comm, comm));
	} else {
		printf("%s %s cgroup=%" PRIu64 " pid=%u comm=%s requested=%" PRIu64 " measured=%" PRIu64 " limit=%" PRIu64 "\n",
		       e->audited ? "audited" : "denied", kind_name(e->d.kind), (uint64_t)e->cgroup_id, e->d.pid,
		       comm_text(e->d.comm, comm), (uint64_t)e->d.requested, (uint64_t)e->d.measured, (uint64_t)e->d.limit);
	}
	fflush(stdout);
	return 0;
}

/* Sleep up to ms, or less when a signal stops following. */
static void nap(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Read memgate's ring buffer once, or until memgate unloads when following. */
static int read_events(bool follow, struct event_ctx *ec, struct mg_error *err)
{
	struct mg_shared s __attribute__((cleanup(mg_shared_close))) = MG_SHARED_INIT;
	struct ring_buffer *rb;
	int ret;

	ret = mg_shared_open(&s, false, err);
	if (ret < 0)
		return ret;
	ec->names = s.names;
	rb = ring_buffer__new(s.events, print_event, ec, NULL);
	if (!rb)
		return mg_fail_errno(err, errno, "cannot read %s/maps/events", MG_PIN_DIR);
	if (!follow) {
		ring_buffer__consume(rb);
	} else {
		while (!stop_following && mg_shared_exists()) {
			ret = ring_buffer__poll(rb, 200);
			if (ret < 0 && ret != -EINTR)
				break;
		}
	}
	ring_buffer__free(rb);
	return 0;
}

int cmd_events(int argc, char **argv, struct mg_error *err)
{
	static const char *const known[] = { "--follow", "--json", NULL };
	struct event_ctx ec = { .json = has_flag(argc, argv, "--json") };
	bool follow = has_flag(argc, argv, "--follow"), said = false;
	int ret;

	ret = check_flags(argc, argv, known, err);
	if (ret < 0)
		return ret;
	if (!follow)
		return read_events(false, &ec, err);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* A service from boot: wait for memgate to load, and again after it unloads. */
	while (!stop_following) {
		if (!mg_shared_exists()) {
			if (!said)
				fprintf(stderr, "memgate events: waiting for memgate to load (the first "
						"container under policy)\n");
			said = true;
			nap(500);
			continue;
		}
		said = false;
		ret = read_events(true, &ec, err);
		/* Caught mid-load or mid-unload, or another layout's tree: say it, wait, retry. */
		if (ret < 0) {
			fprintf(stderr, "memgate events: %s; retrying\n", err->msg);
			nap(1000);
		}
		*err = (struct mg_error){};
	}
	return 0;
}
