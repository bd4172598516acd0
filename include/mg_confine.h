/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The hook's seccomp self-confinement.  The hook runs as root on every
 * container start and parses input that whoever creates a pod controls; it
 * never needs to exec, open a socket or touch another process's memory, so
 * once confined a bug in it can not be turned into any of those.
 */
#ifndef MG_CONFINE_H
#define MG_CONFINE_H

#include "mg_error.h"

/*
 * From now on, in this process and its children: execve, execveat, new
 * sockets (socket, socketpair, connect, bind, listen, accept, sendto with an
 * address, sendmsg), ptrace, process_vm_readv/writev, pidfd_getfd and
 * io_uring_setup fail with EPERM.  A socket opened before (syslog's) keeps
 * working.  Sets no_new_privs.
 */
int mg_confine(struct mg_error *err);

#endif
