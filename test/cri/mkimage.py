#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""mkimage: a one-layer OCI image archive, built locally, for `ctr images import`.

  mkimage.py OUT.tar NAME ENTRYPOINT_JSON ITEM...

ITEM is SRC:DST (a host file copied to DST, mode kept), DST=>TARGET (a
symlink) or DST/ (a directory).  NAME (e.g. localhost/memgate/pause:1) is the
index's io.containerd.image.name annotation, which names the image on import.
The archive is reproducible: fixed times and owners, sorted entries, an
uncompressed layer.
"""
import hashlib
import io
import json
import os
import sys
import tarfile


def blob(tar, data, media_type):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    add(tar, "blobs/sha256/" + digest[7:], data)
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


def add(tar, name, data, mode=0o644):
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, 0
    tar.addfile(info, io.BytesIO(data))


def layer(items):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        entries = []
        for item in items:
            if "=>" in item:
                dst, target = item.split("=>", 1)
                info = tarfile.TarInfo(dst.lstrip("/"))
                info.type, info.linkname, info.mode = tarfile.SYMTYPE, target, 0o777
                entries.append((info, None))
            elif item.endswith("/"):
                info = tarfile.TarInfo(item.strip("/"))
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                entries.append((info, None))
            else:
                src, dst = item.split(":", 1)
                with open(src, "rb") as f:
                    data = f.read()
                info = tarfile.TarInfo(dst.lstrip("/"))
                info.size, info.mode = len(data), os.stat(src).st_mode & 0o7777
                entries.append((info, data))
        for info, data in sorted(entries, key=lambda e: e[0].name):
            info.mtime, info.uid, info.gid = 0, 0, 0
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def main(argv):
    if len(argv) < 4:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    out, name, entrypoint, items = argv[0], argv[1], json.loads(argv[2]), argv[3:]
    data = layer(items)
    with tarfile.open(out + ".new", "w", format=tarfile.PAX_FORMAT) as tar:
        add(tar, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        layer_desc = blob(tar, data, "application/vnd.oci.image.layer.v1.tar")
        config = {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Entrypoint": entrypoint, "Env": ["PATH=/bin"], "WorkingDir": "/"},
            "rootfs": {"type": "layers", "diff_ids": [layer_desc["digest"]]},
        }
        config_desc = blob(tar, json.dumps(config, sort_keys=True).encode(),
                           "application/vnd.oci.image.config.v1+json")
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": config_desc,
            "layers": [layer_desc],
        }
        manifest_desc = blob(tar, json.dumps(manifest, sort_keys=True).encode(),
                             "application/vnd.oci.image.manifest.v1+json")
        manifest_desc["platform"] = {"architecture": "amd64", "os": "linux"}
        manifest_desc["annotations"] = {
            "io.containerd.image.name": name,
            "org.opencontainers.image.ref.name": name.rsplit(":", 1)[-1],
        }
        index = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [manifest_desc],
        }
        add(tar, "index.json", json.dumps(index, sort_keys=True).encode())
    os.rename(out + ".new", out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
