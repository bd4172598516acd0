#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""pyfiles: the files the VM guest needs to run the CRI client CRI_DIR/cri.

  pyfiles.py CRI_DIR

Loads the client as the guest runs it, makes one call that fails (no socket),
so that grpc and protobuf import what they import lazily, and prints every
file of every loaded module (its .pyc too, when compiled), one per line:
test/vm/mkroot copies these, not the whole standard library.
"""
import os
import sys
import tempfile
from importlib.machinery import SourceFileLoader

cri_dir = sys.argv[1]
cri = SourceFileLoader("cri", os.path.join(cri_dir, "cri")).load_module()

with tempfile.TemporaryDirectory() as d:
    c = cri.Client(os.path.join(d, "none.sock"), 2)
    try:
        c.call("Version", version="v1")
    except cri.Failed:
        pass
    cri.load('{"metadata": {"name": "x"}, "annotations": {"a": "b"}}', cri.pb.PodSandboxConfig)
    cri.json_format.MessageToDict(cri.pb.PodSandboxConfig())
    try:
        cri.load('{"nofield": 1}', cri.pb.PodSandboxConfig)
    except cri.Failed:
        pass

files = set()
for name, m in list(sys.modules.items()):
    if name == "__main__":
        continue
    f = getattr(m, "__file__", None)
    if not f or not os.path.isabs(f) or os.path.realpath(f).startswith(os.path.realpath(cri_dir)):
        continue
    files.add(f)
    cached = getattr(m, "__cached__", None)
    if cached and os.path.exists(cached):
        files.add(cached)
for f in sorted(files):
    print(f)
