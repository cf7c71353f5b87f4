"""
NAME
    rig_dns - nsd(8) serving test zones given as Python data
DESCRIPTION
    Part of the integration rig; see rig.py.
"""

import ipaddress
import os
import socket
import subprocess
import time

from rig_base import RigError, _Daemon, free_port, tool, wait_until


def _zone_name(name):
    return name.lower().rstrip(".")


def _txt_rdata(data):
    """TXT rdata in zone-file syntax: quoted strings of at most 255 bytes."""
    parts = [data] if isinstance(data, (str, bytes)) else list(data)
    out = []
    for part in parts:
        raw = part.encode() if isinstance(part, str) else part
        chunks = [raw[i:i + 255] for i in range(0, len(raw), 255)] or [b""]
        for chunk in chunks:
            s = "".join(chr(b) if 32 <= b < 127 and b not in (34, 92)
                else "\\%03d" % b for b in chunk)
            out.append('"%s"' % s)
    return " ".join(out)


class Dns(_Daemon):
    """nsd serving test zones on 127.0.0.1:port (UDP and TCP)."""

    def __init__(self, workdir, root_zone=True):
        super().__init__("nsd", os.path.join(workdir, "nsd.log"))
        self.dir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.port = free_port(udp=True)
        self.zones = {}  # origin -> list of (name, type, rdata, ttl)
        # An empty root zone makes every name outside the test zones
        # NXDOMAIN, as on the Internet, instead of REFUSED (which
        # resolvers treat as a temporary failure). Set False to test that.
        self.root_zone = root_zone
        # nsd's response rate limiting (default 200 answers/s per /24)
        # drops queries of a busy loopback client; an int sets
        # rrl-ratelimit: 0 (off) by default - nsd's default would drop the
        # queries of a busy loopback client; None keeps nsd's default.
        self.rrl_ratelimit = 0

    @property
    def server(self):
        """ADDRESS:PORT, the form of targrey-milter's dns_servers."""
        return "127.0.0.1:%d" % self.port

    def add_zone(self, origin, records=(), ttl=300):
        """Add (or extend) a zone; records are (name, type, rdata[, ttl]).

        Names: "@" is the origin, a name ending in "." is absolute,
        others are relative to the origin. TXT rdata is a str (split
        into 255-byte strings) or a list of strings. SOA and NS are
        added unless given. Call restart() after start() to apply.
        """
        origin = _zone_name(origin)
        zone = self.zones.setdefault(origin, [])
        for rec in records:
            name, rtype, rdata = rec[0], rec[1].upper(), rec[2]
            rttl = rec[3] if len(rec) > 3 else ttl
            zone.append((self._abs(name, origin), rtype, rdata, rttl))
        return origin

    @staticmethod
    def _abs(name, origin):
        if name == "@":
            return origin + "."
        if name.endswith("."):
            return name
        return "%s.%s." % (name, origin)

    def _zone_for(self, fqdn):
        """The longest existing zone holding fqdn, else a new one."""
        name = _zone_name(fqdn)
        best = None
        for origin in self.zones:
            if name == origin or name.endswith("." + origin):
                if best is None or len(origin) > len(best):
                    best = origin
        if best:
            return best
        keep = 2  # a new zone: the last two labels, a /24 or a /64
        if name.endswith(".in-addr.arpa"):
            keep = 5
        elif name.endswith(".ip6.arpa"):
            keep = 18
        return self.add_zone(".".join(name.split(".")[-keep:]))

    def add_record(self, fqdn, rtype, rdata, ttl=300):
        """Add one record by absolute name, in the zone that holds it."""
        origin = self._zone_for(fqdn)
        self.zones[origin].append((_zone_name(fqdn) + ".", rtype.upper(),
            rdata, ttl))

    def add_ptr(self, ip, name, ttl=300):
        """Add the PTR record ip -> name (zone = the /24 or /64)."""
        rev = ipaddress.ip_address(ip).reverse_pointer
        self.add_record(rev, "PTR", _zone_name(name) + ".", ttl)

    def add_host(self, name, ip, ptr=True, ttl=300):
        """A (or AAAA) record name -> ip, and its PTR unless ptr=False."""
        rtype = "AAAA" if ipaddress.ip_address(ip).version == 6 else "A"
        self.add_record(name, rtype, ip, ttl)
        if ptr:
            self.add_ptr(ip, name, ttl)

    def _zone_text(self, origin, serial):
        recs = self.zones[origin]
        lines = ["$ORIGIN %s." % origin, "$TTL 300"]
        if not any(r[1] == "SOA" and r[0] == origin + "." for r in recs):
            lines.append("@ 300 IN SOA ns.rig.invalid. hostmaster.rig."
                "invalid. %d 3600 600 86400 60" % serial)
        if not any(r[1] == "NS" and r[0] == origin + "." for r in recs):
            lines.append("@ 300 IN NS ns.rig.invalid.")
        for name, rtype, rdata, ttl in recs:
            if rtype == "TXT" or rtype == "SPF":
                rdata = _txt_rdata(rdata)
            lines.append("%s %d IN %s %s" % (name, ttl, rtype, rdata))
        return "\n".join(lines) + "\n"

    def _write(self):
        serial = int(time.time())
        conf = ["server:",
            "\tip-address: 127.0.0.1@%d" % self.port,
            "\tport: %d" % self.port,
            "\tdo-ip6: no", '\tusername: ""', '\tchroot: ""',
            '\tzonesdir: "%s"' % self.dir,
            '\tpidfile: "%s/nsd.pid"' % self.dir,
            '\tdatabase: ""',
            '\txfrdfile: "%s/xfrd.state"' % self.dir,
            '\txfrdir: "%s"' % self.dir,
            '\tzonelistfile: "%s/zone.list"' % self.dir,
            '\tlogfile: "%s"' % self.log.path,
            "\tserver-count: 1", "\treuseport: no", "\tverbosity: 1",
            "\thide-version: yes", "\tzonefiles-check: no",
            "remote-control:", "\tcontrol-enable: no"]
        if self.rrl_ratelimit is not None:
            conf.insert(conf.index("remote-control:"),
                "\trrl-ratelimit: %d" % self.rrl_ratelimit)
        for i, origin in enumerate(sorted(self.zones)):
            fname = "zone%d.zone" % i
            with open(os.path.join(self.dir, fname), "w") as f:
                f.write(self._zone_text(origin, serial))
            conf += ["zone:", '\tname: "%s"' % origin,
                '\tzonefile: "%s"' % fname]
        if self.root_zone:
            with open(os.path.join(self.dir, "root.zone"), "w") as f:
                f.write("$ORIGIN .\n$TTL 300\n. IN SOA ns.rig.invalid. "
                    "hostmaster.rig.invalid. %d 3600 600 86400 60\n"
                    ". IN NS ns.rig.invalid.\n" % serial)
            conf += ["zone:", '\tname: "."', '\tzonefile: "root.zone"']
        path = os.path.join(self.dir, "nsd.conf")
        with open(path, "w") as f:
            f.write("\n".join(conf) + "\n")
        res = subprocess.run([tool("nsd-checkconf"), path],
            capture_output=True, text=True, timeout=20)
        if res.returncode != 0:
            raise RigError("nsd-checkconf %s: %s" % (path,
                res.stdout + res.stderr))
        return path

    def start(self, timeout=20, new_port=False):
        """Write the configuration and zones, start nsd, wait until ready.

        When new_port and the port was taken meanwhile (another test
        grabbed it), a new port is chosen, up to three times.
        """
        for attempt in range(3):
            conf = self._write()
            since = self.log.mark()
            self._spawn([tool("nsd"), "-d", "-c", conf])
            def ready():
                if not self.running():
                    raise RigError("nsd exited (status %s):\n%s" %
                        (self.proc.returncode, self.log.tail(since)))
                return "nsd started" in self.log.text(since)
            try:
                wait_until(ready, timeout, "nsd to start")
                break
            except RigError:
                self.stop()
                if not new_port or attempt == 2 or "already in use" \
                    not in self.log.text(since):
                    raise
                self.port = free_port(udp=True)
        for origin in self.zones:
            if "zone %s read with success" % origin not in \
                self.log.text(since):
                raise RigError("nsd did not load zone %s:\n%s" %
                    (origin, self.log.tail(since)))

    def restart(self):
        """Apply zones added since start(): restart on the same port."""
        self.stop()
        self.start()

    def query(self, name, rtype="A", tcp=False):
        """Answer records (dig +short) of name/rtype from this server."""
        argv = [tool("dig"), "+short", "+time=2", "+tries=2", "-p",
            str(self.port), "@127.0.0.1", name, rtype]
        if tcp:
            argv.insert(1, "+tcp")
        res = subprocess.run(argv, capture_output=True, text=True,
            timeout=15)
        if res.returncode != 0:
            raise RigError("dig %s %s: %s" % (name, rtype, res.stdout +
                res.stderr))
        return [l for l in res.stdout.splitlines() if l]


class BlackholeDns:
    """A name server that never answers: UDP queries are read and dropped,
    TCP connections are accepted by the kernel and never served. For
    deadline tests: dns_servers = BlackholeDns().server."""

    def __init__(self):
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.port = self.udp.getsockname()[1]
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self.tcp.bind(("127.0.0.1", self.port))
            self.tcp.listen(64)
        except OSError:
            self.tcp.close()
            self.tcp = None  # UDP alone still never answers

    @property
    def server(self):
        """ADDRESS:PORT, the form of targrey-milter's dns_servers."""
        return "127.0.0.1:%d" % self.port

    def stop(self):
        """Close the sockets (queries then get ICMP port unreachable)."""
        for sock in (self.udp, self.tcp):
            if sock:
                sock.close()
        self.udp = self.tcp = None
