"""Where a TCP port really listens, read from the kernel's socket tables (/proc/net/tcp and tcp6 on Linux).

TensorFlow's gRPC server binds its port on every interface, whatever host its cluster address names (the host
only tells the other tasks where to connect), and asks no authentication of whoever connects: its maintainers
meant it for private networks (tensorflow#11689). The cluster's tasks and the launcher say so with what the
kernel reports. No TensorFlow here.
"""
import ipaddress

TABLES = (("/proc/net/tcp", 4), ("/proc/net/tcp6", 6))
LISTEN = "0A"  # the state column of a listening socket
SECURITY_DOC = "docs/cluster.md#security"


def _address(hex_address, version):
    """An address of /proc/net/tcp*: 32-bit words in the kernel's (little-endian) byte order."""
    raw = bytes.fromhex(hex_address)
    raw = b"".join(raw[index:index + 4][::-1] for index in range(0, len(raw), 4))
    return ipaddress.ip_address(raw) if version == 4 else ipaddress.IPv6Address(raw)


def listening(port, tables=TABLES):
    """The local addresses (ipaddress objects) of the sockets listening on TCP `port`; None where the tables
    cannot be read (not Linux)."""
    found, readable = [], False
    for path, version in tables:
        try:
            with open(path, encoding="ascii") as handle:
                lines = handle.readlines()[1:]
        except OSError:
            continue
        readable = True
        for line in lines:
            fields = line.split()
            if len(fields) < 4 or fields[3] != LISTEN:
                continue
            hex_address, _, hex_port = fields[1].partition(":")
            if int(hex_port, 16) == port:
                found.append(_address(hex_address, version))
    return found if readable else None


def describe(port, addresses):
    """E.g. "every network interface (*:2222, IPv4 and IPv6)" or "127.0.0.1:2222 only"."""
    if addresses is None:
        return "every network interface at port %d (TensorFlow's gRPC server binds them all)" % port
    if not addresses:
        return "no socket at port %d yet" % port
    if any(address.is_unspecified for address in addresses):
        versions = sorted({address.version for address in addresses if address.is_unspecified})
        both = versions == [6] or versions == [4, 6]  # a socket on :: takes IPv4 too (Linux's default)
        return "every network interface (*:%d, %s)" % (port, "IPv4 and IPv6" if both else "IPv4")
    return ", ".join("%s:%d" % (address if address.version == 4 else "[%s]" % address, port)
                     for address in addresses) + " only"


def exposure(port):
    """What a task says of its server's port: where it listens, and what that means."""
    addresses = listening(port)
    text = "its server listens on %s" % describe(port, addresses)
    if addresses is None or any(not address.is_loopback for address in addresses):
        text += (", and TensorFlow's gRPC runtime asks no authentication: anyone who reaches this port can run "
                 "code in this process. Keep the cluster on a private network or behind a firewall (%s)"
                 % SECURITY_DOC)
    return text
