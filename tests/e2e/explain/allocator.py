# SPDX-License-Identifier: LGPL-2.1-or-later
# An allocator fragmenting anonymous memory, as jemalloc without overcommit or mimalloc's purges do: it
# reserves address space PROT_NONE and commits it piece by piece (mprotect to read-write), leaving every
# other 64 KiB piece uncommitted, so that N rw-p mappings alternate with ---p ones. Held until killed;
# prints "ready" when done.
#     allocator.py N
import ctypes
import mmap
import signal
import sys

PROT_NONE = 0
MAP_NORESERVE = 0x4000
PIECE = 64 * 1024

n = int(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                      ctypes.c_long]
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]

base = libc.mmap(None, 2 * n * PIECE, PROT_NONE, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0)
if base is None or base == ctypes.c_void_p(-1).value:
    sys.exit("mmap failed: errno %d" % ctypes.get_errno())
for i in range(n):
    if libc.mprotect(base + 2 * i * PIECE, PIECE, mmap.PROT_READ | mmap.PROT_WRITE) != 0:
        sys.exit("mprotect failed: errno %d" % ctypes.get_errno())
print("ready", flush=True)
signal.pause()
