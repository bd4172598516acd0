#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""cri: a CRI client for memgate's tests, doing what a kubelet does.

Speaks Kubernetes' CRI (runtime.v1) over a runtime's unix socket with
Debian's python3-grpcio; the messages are test/cri/runtime.proto, compiled by
protoc into runtime_pb2.py beside this script (make puts both in
build/test/cri).  Configs are JSON in the protobuf JSON mapping, as crictl
takes them (pod-config.json, container-config.json), given as a file or
inline ('{...}').  A field the proto lacks is refused, not ignored.

  cri [--socket PATH] [--timeout SECS] COMMAND ...
    version                      the runtime's name and version, as JSON
    pod POD [CONTAINER...]       RunPodSandbox, then CreateContainer and
                                 StartContainer for each container in turn;
                                 prints {"pod": ID, "containers": {NAME: ID}}
                                 as far as it got, and fails at the first error
    runp POD                     RunPodSandbox; prints the pod's id
    create POD_ID CONTAINER POD  CreateContainer; prints the container's id
    start|stop|rm ID             StartContainer, StopContainer (--timeout), RemoveContainer
    stopp|rmp ID                 StopPodSandbox, RemovePodSandbox
    rmp --all                    stop and remove every pod (and so its containers)
    inspect [-v] ID              ContainerStatus, as JSON (-v: verbose, with the OCI spec)
    pods | ps | images           ListPodSandbox, ListContainers, ListImages, as JSON
    exec [--exec-timeout S] ID -- CMD...
                                 ExecSync: CMD's stdout and stderr, and its exit status
    serve DIR                    answer the commands above through the FIFOs
                                 DIR/in and DIR/out, one at a time, until
                                 killed (test/cri/client.bash speaks it): one
                                 process, so Python and grpc load once

The socket is $CRI_SOCKET, else /run/containerd/containerd.sock.  A failed
call prints one line, "cri: METHOD: CODE: DETAILS", and exits 1.
"""
import contextlib
import io
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import grpc  # noqa: E402
from google.protobuf import json_format  # noqa: E402

import runtime_pb2 as pb  # noqa: E402

RUNTIME = "/runtime.v1.RuntimeService/"
IMAGE = "/runtime.v1.ImageService/"

# method -> (service, request, response)
METHODS = {
    "Version": (RUNTIME, pb.VersionRequest, pb.VersionResponse),
    "RunPodSandbox": (RUNTIME, pb.RunPodSandboxRequest, pb.RunPodSandboxResponse),
    "StopPodSandbox": (RUNTIME, pb.StopPodSandboxRequest, pb.StopPodSandboxResponse),
    "RemovePodSandbox": (RUNTIME, pb.RemovePodSandboxRequest, pb.RemovePodSandboxResponse),
    "ListPodSandbox": (RUNTIME, pb.ListPodSandboxRequest, pb.ListPodSandboxResponse),
    "CreateContainer": (RUNTIME, pb.CreateContainerRequest, pb.CreateContainerResponse),
    "StartContainer": (RUNTIME, pb.StartContainerRequest, pb.StartContainerResponse),
    "StopContainer": (RUNTIME, pb.StopContainerRequest, pb.StopContainerResponse),
    "RemoveContainer": (RUNTIME, pb.RemoveContainerRequest, pb.RemoveContainerResponse),
    "ListContainers": (RUNTIME, pb.ListContainersRequest, pb.ListContainersResponse),
    "ContainerStatus": (RUNTIME, pb.ContainerStatusRequest, pb.ContainerStatusResponse),
    "ExecSync": (RUNTIME, pb.ExecSyncRequest, pb.ExecSyncResponse),
    "ListImages": (IMAGE, pb.ListImagesRequest, pb.ListImagesResponse),
}


class Failed(Exception):
    pass


class Client:
    def __init__(self, socket, timeout):
        self.channel = grpc.insecure_channel("unix://" + socket)
        self.timeout = timeout

    def call(self, method, timeout=None, **fields):
        service, req, resp = METHODS[method]
        stub = self.channel.unary_unary(
            service + method,
            request_serializer=req.SerializeToString,
            response_deserializer=resp.FromString,
        )
        try:
            return stub(req(**fields), timeout=timeout or self.timeout)
        except grpc.RpcError as e:
            # One line: a runtime's message may carry a hook's stderr.
            details = " ".join((e.details() or "").split())
            raise Failed("%s: %s: %s" % (method, e.code().name, details))


def load(text, message):
    """A config: a JSON file, or inline JSON when it starts with '{'."""
    if not text.lstrip().startswith("{"):
        try:
            with open(text) as f:
                text = f.read()
        except OSError as e:
            raise Failed("cannot read %s: %s" % (text, e.strerror))
    try:
        return json_format.Parse(text, message())
    except json_format.ParseError as e:
        raise Failed("%s: %s" % (message.DESCRIPTOR.name, " ".join(str(e).split())))


def dump(msg):
    print(json.dumps(json_format.MessageToDict(msg, preserving_proto_field_name=True), indent=1))


def run_pod(c, pod_cfg, ctr_cfgs):
    out = {"pod": None, "containers": {}}
    try:
        out["pod"] = c.call("RunPodSandbox", config=pod_cfg).pod_sandbox_id
        for cfg in ctr_cfgs:
            name = cfg.metadata.name
            cid = c.call("CreateContainer", pod_sandbox_id=out["pod"], config=cfg,
                         sandbox_config=pod_cfg).container_id
            out["containers"][name] = cid
            try:
                c.call("StartContainer", container_id=cid)
            except Failed as e:
                raise Failed("%s (container %s)" % (e, name))
    finally:
        print(json.dumps(out))
    return out


def remove_all_pods(c):
    for p in c.call("ListPodSandbox").items:
        c.call("StopPodSandbox", pod_sandbox_id=p.id)
        c.call("RemovePodSandbox", pod_sandbox_id=p.id)


def usage():
    sys.stderr.write(__doc__.split("\n\n", 3)[2] + "\n")
    return 2


def serve(c, d):
    """Requests are NUL-terminated arguments; the answer is "STATUS\n" and the output."""
    fin, fout = os.path.join(d, "in"), os.path.join(d, "out")
    for p in (fin, fout):
        if os.path.exists(p):
            os.unlink(p)
    os.mkfifo(fin)
    os.mkfifo(fout)  # last: its existence says the client is ready
    while True:
        with open(fin, "rb") as f:
            args = [a.decode("utf-8", "surrogateescape") for a in f.read().split(b"\0")[:-1]]
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            try:
                rc = command(c, args) if args[:1] != ["serve"] else usage()
            except Failed as e:
                sys.stderr.write("cri: %s\n" % e)
                rc = 1
            except Exception as e:  # the server must outlive a bad request
                sys.stderr.write("cri: %s: %s\n" % (type(e).__name__, e))
                rc = 1
        with open(fout, "w") as f:
            f.write("%d\n%s" % (rc, out.getvalue()))


def main(argv):
    socket = os.environ.get("CRI_SOCKET") or "/run/containerd/containerd.sock"
    timeout = 120.0
    while argv and argv[0].startswith("--"):
        if argv[0] in ("--socket", "--timeout") and len(argv) > 1:
            if argv[0] == "--socket":
                socket = argv[1]
            else:
                timeout = float(argv[1])
            argv = argv[2:]
        else:
            return usage()
    c = Client(socket, timeout)
    if argv[:1] == ["serve"] and len(argv) == 2:
        serve(c, argv[1])
        return 0
    return command(c, argv)


def command(c, argv):
    if not argv:
        return usage()
    cmd, args = argv[0], argv[1:]

    if cmd == "version" and not args:
        dump(c.call("Version", version="v1"))
    elif cmd == "pod" and args:
        pod = load(args[0], pb.PodSandboxConfig)
        ctrs = [load(a, pb.ContainerConfig) for a in args[1:]]
        run_pod(c, pod, ctrs)
    elif cmd == "runp" and len(args) == 1:
        print(c.call("RunPodSandbox", config=load(args[0], pb.PodSandboxConfig)).pod_sandbox_id)
    elif cmd == "create" and len(args) == 3:
        print(c.call("CreateContainer", pod_sandbox_id=args[0],
                     config=load(args[1], pb.ContainerConfig),
                     sandbox_config=load(args[2], pb.PodSandboxConfig)).container_id)
    elif cmd == "start" and len(args) == 1:
        c.call("StartContainer", container_id=args[0])
    elif cmd == "stop" and len(args) == 1:
        c.call("StopContainer", container_id=args[0], timeout=10)
    elif cmd == "rm" and len(args) == 1:
        c.call("RemoveContainer", container_id=args[0])
    elif cmd == "stopp" and len(args) == 1:
        c.call("StopPodSandbox", pod_sandbox_id=args[0])
    elif cmd == "rmp" and args == ["--all"]:
        remove_all_pods(c)
    elif cmd == "rmp" and len(args) == 1:
        c.call("RemovePodSandbox", pod_sandbox_id=args[0])
    elif cmd == "inspect" and len(args) in (1, 2) and args[:-1] in ([], ["-v"]):
        dump(c.call("ContainerStatus", container_id=args[-1], verbose=len(args) == 2))
    elif cmd == "pods" and not args:
        dump(c.call("ListPodSandbox"))
    elif cmd == "ps" and not args:
        dump(c.call("ListContainers"))
    elif cmd == "images" and not args:
        dump(c.call("ListImages"))
    elif cmd == "exec":
        exec_timeout = 0
        if args[:1] == ["--exec-timeout"] and len(args) > 1:
            exec_timeout = int(args[1])
            args = args[2:]
        if len(args) < 3 or args[1] != "--":
            return usage()
        r = c.call("ExecSync", container_id=args[0], cmd=args[2:], timeout=exec_timeout)
        sys.stdout.write(r.stdout.decode("utf-8", "replace"))
        sys.stdout.flush()
        sys.stderr.write(r.stderr.decode("utf-8", "replace"))
        return r.exit_code
    else:
        return usage()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Failed as e:
        sys.stderr.write("cri: %s\n" % e)
        sys.exit(1)
