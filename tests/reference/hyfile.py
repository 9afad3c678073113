"""Reader and writer of the .hyatt container (layout: core/tensorfile.h).

Used only to write and check test fixtures; the C library is the product."""
import os
import struct
import tempfile
import zlib

import numpy as np

MAGIC = b"HYATTNET"
VERSION = 1
ALIGN = 64
DTYPES = {1: np.float32, 2: np.int32}


def _dtype_code(a):
    if a.dtype == np.float32:
        return 1
    if a.dtype == np.int32:
        return 2
    raise TypeError(f"unsupported dtype {a.dtype}")


def write(path, meta, tensors):
    """meta: dict of str -> str-able; tensors: dict name -> np.ndarray (f32/i32),
    written in insertion order."""
    header = "".join(f"{k} = {v}\n" for k, v in meta.items()).encode()
    arrays = [(n, np.array(a, order="C", copy=True)) for n, a in tensors.items()]
    table_len = 4 + sum(2 + len(n.encode()) + 2 + 4 * a.ndim + 8 + 8 + 4 for n, a in arrays)
    pos = 16 + len(header) + table_len + 4
    entries = []
    for name, a in arrays:
        pos = (pos + ALIGN - 1) // ALIGN * ALIGN
        data = a.astype(a.dtype.newbyteorder("<")).tobytes()
        entries.append((name, a, pos, data))
        pos += len(data)
    head = bytearray(MAGIC + struct.pack("<II", VERSION, len(header)) + header)
    head += struct.pack("<I", len(entries))
    for name, a, off, data in entries:
        nb = name.encode()
        head += struct.pack("<H", len(nb)) + nb + struct.pack("<BB", _dtype_code(a), a.ndim)
        head += b"".join(struct.pack("<I", d) for d in a.shape)
        head += struct.pack("<QQI", off, len(data), zlib.crc32(data))
    head += struct.pack("<I", zlib.crc32(bytes(head)))
    out = bytearray(head)
    for _, _, off, data in entries:
        out += b"\0" * (off - len(out))
        out += data
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
    with os.fdopen(fd, "wb") as f:
        f.write(out)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def read(path):
    """Returns (meta dict, tensors dict); checks magic, version and CRCs."""
    b = open(path, "rb").read()
    assert b[:8] == MAGIC, "bad magic"
    version, hlen = struct.unpack_from("<II", b, 8)
    assert version == VERSION
    meta = {}
    for line in b[16:16 + hlen].decode().splitlines():
        if line.strip():
            k, v = line.split("=", 1)
            meta[k.strip()] = v.strip()
    p = 16 + hlen
    (count,) = struct.unpack_from("<I", b, p)
    p += 4
    tensors = {}
    for _ in range(count):
        (nl,) = struct.unpack_from("<H", b, p)
        name = b[p + 2:p + 2 + nl].decode()
        p += 2 + nl
        dt, nd = struct.unpack_from("<BB", b, p)
        p += 2
        dims = struct.unpack_from("<" + "I" * nd, b, p)
        p += 4 * nd
        off, nbytes, crc = struct.unpack_from("<QQI", b, p)
        p += 20
        data = b[off:off + nbytes]
        assert zlib.crc32(data) == crc, f"CRC of {name}"
        tensors[name] = np.frombuffer(data, dtype=DTYPES[dt]).reshape(dims)
    (crc,) = struct.unpack_from("<I", b, p)
    assert zlib.crc32(b[:p]) == crc, "table CRC"
    return meta, tensors
