# SPDX-License-Identifier: LGPL-2.1-or-later
# A store that maps its files, as a TSDB or an LMDB does: N files of one page in DIRECTORY, each mapped
# (adjacent mappings of different files stay apart), held until killed. Prints "ready" when all are mapped.
#     store.py DIRECTORY N
import mmap
import os
import resource
import signal
import sys

directory, n = sys.argv[1], int(sys.argv[2])
# Python's mmap keeps a duplicate of the file's descriptor: one open file per mapping, beyond a service's
# soft limit of 1024.
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if hard == resource.RLIM_INFINITY or hard > n + 64:
    resource.setrlimit(resource.RLIMIT_NOFILE, (n + 64, hard))
os.makedirs(directory, exist_ok=True)
held = []
for i in range(n):
    path = os.path.join(directory, "chunk-%05d" % i)
    with open(path, "wb") as f:
        f.write(b"\0" * mmap.PAGESIZE)
    with open(path, "rb") as f:
        held.append(mmap.mmap(f.fileno(), mmap.PAGESIZE, prot=mmap.PROT_READ))
print("ready", flush=True)
signal.pause()
