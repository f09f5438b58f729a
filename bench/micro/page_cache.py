"""The page-cache state of an executable file: evict it, and tell how much of it is resident.

The same bytes start faster and show a different PSS depending on how their pages came into
the cache (just written by a copy, or read back in by the first run), so every program
compared is put in one state before each figure: evicted, then loaded by one untimed run.
"""

import ctypes
import ctypes.util
import mmap
import os

STATE = "evicted from the page cache (fsync, then posix_fadvise DONTNEED), then loaded by one untimed run"

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
_libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
_MAP_FAILED = ctypes.c_void_p(-1).value


def evict(path):
    """Drops the file's pages from the page cache (those no running process maps)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        # Dirty pages (a file just copied) are not dropped: write them out first.
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def resident_bytes(path):
    """How many bytes of the file are in the page cache (mincore over a mapping never touched)."""
    size = os.path.getsize(path)
    if size == 0:
        return 0
    page = mmap.PAGESIZE
    pages = (size + page - 1) // page
    fd = os.open(path, os.O_RDONLY)
    try:
        address = _libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
        if address in (None, _MAP_FAILED):
            raise OSError(ctypes.get_errno(), f"mmap {path}")
        try:
            vector = (ctypes.c_ubyte * pages)()
            if _libc.mincore(address, size, vector) != 0:
                raise OSError(ctypes.get_errno(), f"mincore {path}")
            return sum(1 for flag in vector if flag & 1) * page
        finally:
            _libc.munmap(address, size)
    finally:
        os.close(fd)
