#!/usr/bin/env python3
"""Reference walk of a directory tree for the CLI tests.

Prints one line per entry (the root included), sorted by path bytes:
path (escaped), type, permission bits, size, mtime in ns, link target,
SHA-256 of the content.  Two trees restore identically when their walks
are equal.  Symlinks are never followed.

    treewalk.py DIR          print the walk
    treewalk.py --full DIR   the walk plus owner, xattrs (ACLs included),
                             hardlink sets, data extents (holes), rdev
    treewalk.py --make DIR   build the round-trip sample tree in DIR
"""
import hashlib
import os
import stat
import sys


def walk(root):
    lines = [entry(root, b"")]
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            lines.append(entry(full, os.path.relpath(full, root)))
    return sorted(lines)


def full_walk(root):
    """The full walk: a hardlink set is named by its first path."""
    lines, first = [], {}
    paths = [b""]
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            paths.append(os.path.relpath(os.path.join(dirpath, name), root))
    for rel in sorted(paths):
        full = os.path.join(root, rel) if rel else root
        st = os.lstat(full)
        if not stat.S_ISDIR(st.st_mode) and st.st_nlink > 1:
            first.setdefault((st.st_dev, st.st_ino), rel)
    for rel in sorted(paths):
        full = os.path.join(root, rel) if rel else root
        st = os.lstat(full)
        extra = b" %d %d" % (st.st_uid, st.st_gid)
        for name in sorted(os.listxattr(full, follow_symlinks=False)):
            extra += b" x:%s=%s" % (name.encode(), os.getxattr(full, name, follow_symlinks=False).hex().encode())
        if not stat.S_ISDIR(st.st_mode) and st.st_nlink > 1:
            extra += b" link:%r" % first[(st.st_dev, st.st_ino)]
        if stat.S_ISREG(st.st_mode):
            extra += b" data:%s" % extents(full, st.st_size)
        if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            extra += b" rdev:%d" % st.st_rdev
        lines.append(entry(full, rel) + extra)
    return lines


def extents(path, size):
    out, pos = [], 0
    with open(path, "rb") as f:
        fd = f.fileno()
        while pos < size:
            try:
                data = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError:
                break
            hole = min(os.lseek(fd, data, os.SEEK_HOLE), size)
            out.append(b"%d+%d" % (data, hole - data))
            pos = hole
    return b",".join(out)


def entry(path, rel):
    st = os.lstat(path)
    kind = stat.S_IFMT(st.st_mode)
    target = digest = b""
    size = st.st_size
    if stat.S_ISLNK(st.st_mode):
        target = os.readlink(path)
    elif stat.S_ISREG(st.st_mode):
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        digest = h.hexdigest().encode()
    else:
        size = 0  # directory sizes depend on the file system
    return b"%r %o %o %d %d %r %s" % (rel, kind, stat.S_IMODE(st.st_mode), size,
                                     st.st_mtime_ns, target, digest)


def make(root):
    """The round-trip sample: nested dirs, empty files, a 50 MB file,
    5,000 small files, symlinks, odd names, odd modes and ns mtimes."""
    def p(*parts):
        return os.path.join(root, *parts)

    os.makedirs(p(b"nested", b"a", b"b", b"c", b"d", b"e"))
    os.makedirs(p(b"many"))
    os.makedirs(p(b"empty dir"))
    with open(p(b"big.bin"), "wb") as f:  # 50 MB, incompressible
        f.write(os.urandom(50 * 1000 * 1000))
    text = b"".join(b"line %d of a compressible text file\n" % i for i in range(20000))
    with open(p(b"nested", b"a", b"text.txt"), "wb") as f:
        f.write(text)
    for i in range(5000):  # small files, some duplicated content
        with open(p(b"many", b"f%04d" % i), "wb") as f:
            f.write(b"small file %d\n" % (i % 4000) * (1 + i % 7))
    for name in [b"empty", b"nested/a/b/empty too"]:
        open(p(name), "wb").close()
    odd = [b"with space", b"new\nline", b"\xff\xfe non-utf8", b"-leading-dash",
           b"tab\there", "unicod\u00e9 \u2603".encode(), b"back\\slash", b"'quote\""]
    for i, name in enumerate(odd):
        with open(p(name), "wb") as f:
            f.write(b"odd %d\n" % i)
    os.symlink(b"big.bin", p(b"link-rel"))
    os.symlink(b"/etc/hostname", p(b"link-abs"))
    os.symlink(b"does/not/exist", p(b"link-dangling"))
    os.symlink(b"nested/a", p(b"link-dir"))
    os.symlink(b"\xff\xfe non-utf8", p(b"link to odd\nname"))
    os.chmod(p(b"big.bin"), 0o600)
    os.chmod(p(b"with space"), 0o4755)
    os.chmod(p(b"-leading-dash"), 0o444)
    os.chmod(p(b"nested", b"a", b"b"), 0o700)
    times = {b"big.bin": 1234567890123456789, b"empty": 1000000000000000001,
             b"nested/a/b/c": 1500000000999999999, b"many/f0042": 1600000000000000007}
    for name, ns in times.items():
        os.utime(p(name), ns=(ns, ns))
    os.utime(p(b"link-rel"), ns=(1100000000000000003, 1100000000000000003), follow_symlinks=False)
    os.chmod(p(b"nested", b"a", b"b", b"c"), 0o555)  # read-only dir with content


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--make":
        make(sys.argv[2].encode())
    elif len(sys.argv) == 3 and sys.argv[1] == "--full":
        sys.stdout.buffer.write(b"\n".join(full_walk(sys.argv[2].encode())) + b"\n")
    elif len(sys.argv) == 2:
        sys.stdout.buffer.write(b"\n".join(walk(sys.argv[1].encode())) + b"\n")
    else:
        sys.exit(__doc__)
