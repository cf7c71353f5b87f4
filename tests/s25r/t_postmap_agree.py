#!/usr/bin/env python3
"""t_postmap_agree - targreyctl lookup must print what postmap -q - prints.

Ground truth is Postfix itself: for a few thousand generated host names
(ISP dynamic pools in Japan and elsewhere, big senders' outbound hosts,
clean servers, edge cases: upper case, trailing dot, punycode, [IP], 250+
characters, underscores, spaces, $ and backslashes) and addresses, run
each table through `postmap -c DIR -q - TYPE:FILE` and through
`targreyctl lookup TYPE:FILE -` and compare the outputs byte for byte.
Tables: regexp: and pcre: versions of the S25R rules with $N results,
if/endif, negation, flags and deliberately bad lines; the shipped
conf/permit_client_nots25r; a cidr: table with negation, if/endif, IPv6;
layout cases (CRLF, continuations, comments); and RANDOM_TABLES random
regexp: and pcre: tables (random delimiters, negations, flags, $ forms,
if/endif nesting, bad lines) and cidr: tables (all address forms, bad
masks, negation, if/endif) probed with short keys.
Needs only postmap (package postfix, and postfix-pcre for pcre:), no
running Postfix. Prints the number of keys and differences.
"""
import os
import random
import shutil
import subprocess
import sys
import tempfile

BUILD = os.environ.get("TG_BUILDDIR", ".")
SRC = os.environ.get("TG_SRCDIR", ".")
CTL = os.path.join(BUILD, "src", "targreyctl")
POSTMAP = shutil.which("postmap") or "/usr/sbin/postmap"

R = random.Random(25)

PREFS = ["tokyo", "osaka", "kanagawa", "aichi", "hokkaido", "fukuoka", "saitama",
         "chiba", "hyogo", "kyoto", "miyagi", "hiroshima", "okinawa", "niigata"]
CITIES = ["sapodori", "sinjyuku", "marunouchi", "nagoya", "yokohama", "kobe", "sendai",
          "hakata", "chofu", "hachioji", "sakai", "naha"]
STATES = ["ca", "ny", "tx", "fl", "wa", "il", "pa", "ma", "ga", "mi"]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1",
           "ap-southeast-2", "sa-east-1"]
WORDS = ["mail", "mx", "smtp", "relay", "out", "mta", "gw", "ns", "www", "post", "mailer",
         "server", "host", "edge", "lb", "web", "vps", "static", "dyn", "cust", "client"]
TLDS = ["com", "net", "org", "jp", "co.jp", "ne.jp", "or.jp", "ac.jp", "de", "fr", "co.uk",
        "com.br", "com.cn", "ru", "it", "nl", "io"]


def ip4():
    return [R.randint(1, 254) for _ in range(4)]


def dotted(a):
    return ".".join(str(x) for x in a)


def dashed(a):
    return "-".join(str(x) for x in a)


def hexs(n):
    return "".join(R.choice("0123456789abcdef") for _ in range(n))


def japan_pool():
    a = ip4()
    n = R.randint(1, 9999)
    return R.choice([
        f"p{n}-ipngn{R.randint(100, 9999)}{R.choice(CITIES)}.{R.choice(PREFS)}.ocn.ne.jp",
        f"p{n}-ipbf{R.randint(100, 9999)}{R.choice(CITIES)}.{R.choice(PREFS)}.ocn.ne.jp",
        f"i{dashed(a)}.s{R.randint(1, 99)}.a{R.randint(1, 50):03d}.ap.plala.or.jp",
        f"softbank{R.randint(10**11, 10**12 - 1)}.bbtec.net",
        f"KD{a[0]}{a[1]:03d}{a[2]:03d}{a[3]:03d}.ppp-bb.dion.ne.jp",
        f"kd{a[0]}{a[1]:03d}{a[2]:03d}{a[3]:03d}.au-net.ne.jp",
        f"FL1-{dashed(a)}.{R.choice(['tky', 'osk', 'ngy'])}.mesh.ad.jp",
        f"{dashed(a)}.eonet.ne.jp",
        f"zaq{hexs(8)}.zaq.ne.jp",
        f"{R.choice(PREFS)}{n}.dsl.example.ne.jp",
        f"ntt{R.randint(1, 99)}-{a[2]}.ppp.infoweb.ne.jp",
        f"h{a[3]}-{a[2]}.flets.example.jp",
        f"{dotted(a)}.ap.gmo-isp.jp",
        f"catv-{dashed(a)}.catv.example.ne.jp",
        f"{hexs(8)}.{R.choice(PREFS)}.fdn.vectant.ne.jp",
        f"ai{n}.nas{R.randint(1, 99)}.{R.choice(CITIES)}.nttpc.ne.jp",
    ])


def world_pool():
    a = ip4()
    return R.choice([
        f"c-{dashed(a)}.hsd1.{R.choice(STATES)}.comcast.net",
        f"pool-{dashed(a)}.{R.choice(['nycmny', 'bstnma', 'washdc'])}.fios.verizon.net",
        f"p{hexs(8)}.dip0.t-ipconnect.de",
        f"{hexs(8)}.dip.t-dialin.net",
        f"host{a[0]}-{a[1]}-{a[2]}-{a[3]}.range{a[0]}-{a[1]}.btcentralplus.com",
        f"lfbn-lyo-1-{a[2]}-{a[3]}.w{a[0]}-{a[1]}.abo.wanadoo.fr",
        f"{a[3]}.red-{a[0]}-{a[1]}-{a[2]}.dynamicip.rima-tde.net",
        f"{dotted(a)}.broad.gz.gd.dynamic.163data.com.cn",
        f"{hexs(8)}.dsl.telesp.net.br",
        f"dsl-{a[2]}-{a[3]}.example.{R.choice(TLDS)}",
        f"adsl-{dashed(a)}.dsl.{R.choice(['chcgil', 'snfcca'])}.sbcglobal.net",
        f"dhcp-{a[2]}-{a[3]}.{R.choice(['campus', 'wifi'])}.example.edu",
        f"ppp{a[3]}-{a[2]}.dialup.example.{R.choice(TLDS)}",
        f"dialup{R.randint(1, 999)}.example.ru",
        f"ec2-{dashed(a)}.compute-1.amazonaws.com",
        f"ec2-{dashed(a)}.{R.choice(REGIONS)}.compute.amazonaws.com",
        f"{a[3]}.{a[2]}.{a[1]}.{a[0]}.bc.googleusercontent.com",
        f"{a[3]}-{a[2]}-{a[1]}-{a[0]}.static.example.net",
        f"static.{a[3]}.{a[2]}.{a[1]}.{a[0]}.clients.your-server.de",
        f"ip{a[0]}-{a[1]}-{a[2]}-{a[3]}.ip.example.{R.choice(TLDS)}",
        f"{a[0]}{a[1]}{a[2]}{a[3]}.cable.example.net",
        f"vsdl{R.randint(1, 99)}.example.it",
        f"xdsl-{a[3]}.example.nl",
    ])


def big_sender():
    n = R.randint(1, 999)
    return R.choice([
        f"mail-{R.choice(['ed1', 'pl1', 'wm1', 'yw1', 'lj1', 'sor'])}-f{n}.google.com",
        f"mail-{R.choice(['tyzapc01', 'os0jpn01', 'eopbgr', 'db8eur05'])}on{R.randint(2000, 2199)}"
        ".outbound.protection.outlook.com",
        f"sonic{R.randint(300, 330)}-{R.randint(1, 60)}.consmr.mail.{R.choice(['ne1', 'bf2', 'gq1'])}.yahoo.com",
        f"a{R.randint(1, 99)}-{n}.smtp-out.amazonses.com",
        f"e{R.randint(200, 250)}-{n}.smtp-out.{R.choice(REGIONS)}.amazonses.com",
        f"ms11p00im-qufo{R.randint(10**9, 10**10 - 1)}.me.com",
        f"sender4-op-o{R.randint(1, 99)}.zoho.com",
        f"m{R.randint(200, 250)}-{R.randint(1, 9)}.mailgun.net",
        f"mx0a-00{hexs(6)}.pphosted.com",
        f"{R.randint(1, 20)}.mo{R.randint(1, 9)}.mail-out.ovh.net",
        f"o{R.randint(1, 30)}.email.sendgrid.net",
        f"mail{R.randint(1, 300)}.atl{R.randint(1, 200)}.mcsv.net",
        f"mta-{R.randint(10, 250)}-{n}.sparkpostmail.com",
        f"{R.randint(66, 69)}-220-{R.randint(1, 255)}-{n % 255}.mail-mail.facebook.com",
        f"nh{R.randint(100, 999)}-vm{R.randint(1, 9)}.bizmail.mail.yahoo.co.jp",
    ])


def clean_server():
    return R.choice([
        f"{R.choice(WORDS)}.{R.choice(['example', 'acme', 'univ', 'city', 'shop'])}.{R.choice(TLDS)}",
        f"{R.choice(WORDS)}{R.randint(1, 9)}.{R.choice(['example', 'corp', 'isp'])}.{R.choice(TLDS)}",
        f"{R.choice(WORDS)}-{R.choice(WORDS)}.{R.choice(['example', 'corp'])}.{R.choice(TLDS)}",
        f"{R.choice(WORDS)}.{R.choice(['tokyo', 'osaka'])}.{R.choice(['example', 'corp'])}.co.jp",
    ])


def ip6():
    return "2001:db8:" + ":".join(hexs(R.randint(1, 4)) for _ in range(R.randint(1, 4))) + "::" + hexs(2)


def edge_cases():
    out = ["unknown", "UNKNOWN", "localhost", "a", "1", "12345", "-", ".", "..", "a..b",
           ".leading.example.com", "trailing.example.com.", "x" * 63 + ".example.com",
           "host_name.example.com", "_dmarc.example.com", "under_score12.example.jp",
           "xn--wgv71a119e.jp", "mail.xn--eckwd4c7c.xn--zckzah", "xn--p1ai",
           "xn--80ak6aa92e.com", "dhcp", "dsl", "ppp0", "adsl1", "vdsl.example",
           "with space.example.com", "dollar$1.example", "back\\slash.example",
           "tab\there.example", "mail-ed1-f41.google.com.", "MAIL-ED1-F41.GOOGLE.COM",
           "[192.0.2.1]", "[2001:db8::1]", "[IPv6:2001:db8::2]", "[10.0.0.1", "192.0.2.1",
           "2001:db8::1", "::ffff:192.0.2.1", "1.2.3.4.5", "256.1.1.1", "01.2.3.4",
           "1.2.3.4 ", " 1.2.3.4", "1.2.3.4\r", "10.1.2.3/8"]
    for _ in range(40):
        labels = [R.choice(WORDS) + str(R.randint(0, 99999)) for _ in range(R.randint(30, 45))]
        out.append(".".join(labels) + ".example.jp")
    for _ in range(30):
        out.append("[" + dotted(ip4()) + "]")
        out.append("[" + ip6() + "]")
    return out


def addresses():
    out = []
    for _ in range(400):
        out.append(dotted(ip4()))
    for _ in range(60):
        parts = R.choice(["10", "172.16", "172.17", "172.20", "192.168", "203.0.113"]).split(".")
        parts += [str(R.randint(0, 255)) for _ in range(4 - len(parts))]
        out.append(".".join(parts))
    for _ in range(100):
        out.append(ip6())
    out += ["::1", "::", "0.0.0.0", "255.255.255.255", "::ffff:10.1.2.3", "2001:DB8::A",
            "fe80::1", "[192.0.2.1]", "192.0.2.01", "192.0.2", "host.example", ""]
    return out


def names():
    out = []
    for gen, count in ((japan_pool, 1200), (world_pool, 1200), (big_sender, 500),
                       (clean_server, 600)):
        out += [gen() for _ in range(count)]
    out += [n.upper() for n in R.sample(out, 200)]
    out += [n + "." for n in R.sample(out, 100)]
    out += edge_cases()
    # UTF-8 and not: Postfix (smtputf8_enable = yes) answers no invalid key
    out += ["\u65e5\u672c.example.jp", "m\u00e9tro1-2.example.fr", "\U0001f600.example",
            b"\xff.example", b"\xc0\xaf.example", b"\xed\xa0\x80.example",
            b"\xf4\x90\x80\x80.example", b"\xe2\x82.example", b"p1-2.\xe9.example.jp",
            b"\xf0\x9f\x98\x80x", b"\xc2\x80", b"\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf"]
    return out


S25R_RES = [
    r"^[^.]*[0-9][^0-9.]+[0-9].*\.",
    r"^[^.]*[0-9]{5}",
    r"^([^.]+\.)?[0-9][^.]*\.[^.]+\..+\.[a-z]",
    r"^[^.]*[0-9]\.[^.]*[0-9]-[0-9]",
    r"^[^.]*[0-9]\.[^.]*[0-9]\.[^.]+\..+\.",
    r"^(dhcp|dialup|ppp|[achrsvx]?dsl)[^.]*[0-9]",
]

REGEXP_TABLE = (
    "# generated for t_postmap_agree\n"
    "/^\\[/ DUNNO no name $$ [bracket]\n"
    "/^unknown$/ DUNNO unknown\n"
    "if /\\.jp\\.?$/\n"
    "/^(p[0-9]+)-(ip[a-z]+)([0-9]+)([a-z]+)\\.([a-z]+)\\.ocn\\.ne\\.jp$/ WARN ocn $1 $2 ${3} $(4) pref=$5\n"
    "/^softbank([0-9]{3})[0-9]+\\.bbtec\\.net$/ WARN softbank $1\n"
    "if !/ocn/\n"
    "/^([a-z]+)([0-9]+)?\\.(tokyo|osaka)\\./ JP-LABEL $1[$2] $3\n"
    "endif\n"
    "endif\n"
    "/^mail-[a-z0-9]+-f[0-9]+\\.google\\.com\\.?$/ OK google\n"
    "/\\.outbound\\.protection\\.outlook\\.com$/i OK microsoft\n"
    "/\\.amazonses\\.com$/!/^e2[0-9][0-9]-/ OK ses-global\n"
    "/^(.*)\\.(compute-1|compute)\\.amazonaws\\.com$/ REJECT ec2 $1\n"
    "/^GOOGLE/i CASE\n"
    "/^MAIL/ UPPER-MAIL\n"
    "/^m(a|b)?x[0-9]*\\./ MX $1\n"
    "/^a\n"
    " b/ CONTINUED\n"
    "/(/ BAD\n"
    "!/^(a)/ $1\n"
    "/^q/z BADFLAG\n"
    "/^x{3,}/x BASIC\n"
    "/x{3,}/ MANYX\n"
    "/^[^.]*_/ UNDERSCORE\n"
    "/^xn--/ PUNY\n"
    "/\\.$/ TRAILING-DOT\n"
    "/ / SPACE\n"
    "endif\n"
    "/\\$/ DOLLAR\n"
) + "".join(f"/{re}/ WARN S25R rule {i + 1}\n" for i, re in enumerate(S25R_RES)) + (
    "!/^[a-z0-9-]+$/ OK other\n"
)

PCRE_TABLE = (
    "/^\\[([0-9a-f:.]+)\\]$/ DUNNO noname $1\n"
    "/^(?:p\\d+)-ip(\\w+?)(\\d+)/ WARN pool $1 $2\n"
    "/^(\\d{1,3})[-.](\\d{1,3})[-.](\\d{1,3})[-.](\\d{1,3})\\./ WARN ipname $4.$3.$2.$1\n"
    "/^(?!mail|mx|smtp)[a-z]+\\d+[a-z]*\\./ WARN lookahead\n"
    "/^(a+?)(a*)/U UNGREEDY [$1][$2]\n"
    "/google/A ANCHORED\n"
    "/^ MAIL - /x EXTENDED\n"
    "/^(m)(x)?\\d*\\./ MX $1$2\n"
    "/\\.(jp|JP)\\.$/s DOTJP $1\n"
    "/^a/!/^ab/ BAD\n"
    "/^b/X OBSOLETE\n"
    "if /\\.net$/\n"
    "/^(c|pool|host)-/ NETPOOL $1\n"
    "endif\n"
) + "".join(f"/{re}/ WARN S25R rule {i + 1}\n" for i, re in enumerate(S25R_RES)) + (
    "/.$/s ENDS\n"
)

CIDR_TABLE = (
    "192.168.0.0/16 PRIVATE192\n"
    "10.0.0.0/8 PRIVATE10\n"
    "!172.16.0.0/12 NOT172 for $1\n"
    "if 172.16.0.0/12\n"
    "172.16.1.0/24 ONE\n"
    "[172.17.0.0]/16 SEVENTEEN\n"
    "endif\n"
    "if !2001:db8::/32\n"
    "::/0 NOTDOC6\n"
    "endif\n"
    "[2001:db8::/48] DOC48\n"
    "2001:db8::/32 DOC32\n"
    "203.0.113.7/24 HOSTBITS\n"
    "010.0.0.1 OCTAL\n"
    "1.2.3.4/33 LONG\n"
    "1.2.3.0/ EMPTY\n"
    "endif\n"
    "0.0.0.0/0 ANY4\n"
)

# Layout the shared line reader must read as Postfix does: CRLF, comment
# and blank lines inside a continuation, a first logical line that starts
# with white space, tabs, extra text after IF/ENDIF, a bad ${...}.
FORMAT_REGEXP = (
    "# top comment\r\n   \r\n/^a/   A\r\n/^b/\r\n  # indented comment\r\n\r\n"
    "\tB-CONT\r\n  /^c/ LEADING\r\n/^d/\tTAB\tSEP\t\r\n/^(e)/ ${1}$\r\n"
    "IF /^f/ extra\r\n/^fa/ FA\r\nENDIF trailing\r\n/^(g)(h)?/ [$1$2]\n"
)
FORMAT_CIDR = (
    "  10.0.0.0/8 LEADING\n192.168.0.0/16\r\n  # c\r\n\tCONTINUED  \r\n"
    "172.16.0.0/12\tTAB\n[::1] LOOP6\n"
)
FORMAT_KEYS = ["a", "b", "c", "d", "e", "fa", "fb", "g", "gh", "10.1.1.1", "192.168.3.4",
               "172.16.0.1", "::1", "::2"]


def random_pattern(pcre):
    """A small random pattern body with some regex syntax."""
    atoms = ["a", "b", "x", "[0-9]", "[a-c]", ".", "\\.", "-", "(a|b)", "(x)", "([0-9]+)",
             "^", "$", "+", "*", "?", "{2}", "\\/", "(", "[", "|"]
    if pcre:
        atoms += ["\\d", "\\w", "(?:ab)", "(?!x)", "+?"]
    return "".join(R.choice(atoms) for _ in range(R.randint(1, 6)))


def random_result():
    parts = ["OK", "REJECT", "WARN x", "$1", "${1}", "$(2)", "$$", "$", "${", "$x", "$0",
             "$3", " ", "\t", "DUNNO", "a$1b", "${1}$$"]
    return "".join(R.choice(parts) for _ in range(R.randint(0, 3)))


def random_line(pcre):
    """One random rule, IF, ENDIF, comment, blank or continuation line."""
    kind = R.random()
    if kind < 0.08:
        return R.choice(["if", "IF", "if !", "if!"]) + " " + random_rule_pattern(pcre)
    if kind < 0.15:
        return R.choice(["endif", "ENDIF", "endif x", "endifx"])
    if kind < 0.2:
        return R.choice(["# comment", "", "   ", "\t# indented comment"])
    if kind < 0.25:
        return R.choice([" ", "\t"]) + random_result()
    line = random_rule_pattern(pcre)
    if not pcre and R.random() < 0.1:
        line += "!" + random_rule_pattern(pcre)
    return line + R.choice([" ", "\t", "  "]) + random_result()


def random_rule_pattern(pcre):
    neg = R.choice(["", "", "", "!", "! ", "!!"])
    delim = R.choice(["/", "/", "/", "|", "#", "%"])
    flags = "".join(R.choice("imsxAEU" if pcre else "imx") for _ in range(R.randint(0, 2)))
    if R.random() < 0.03:
        flags += R.choice("qZ")
    body = random_pattern(pcre).replace(delim, "\\" + delim)
    return neg + delim + body + (delim if R.random() < 0.97 else "") + flags


def random_table(pcre):
    return "\n".join(random_line(pcre) for _ in range(R.randint(3, 25))) + "\n"


def random_net():
    if R.random() < 0.6:
        a = [R.choice([10, 192, 172, 1, 0, 255, 16, 168]) for _ in range(4)]
        text, bits = dotted(a), 32
    else:
        text, bits = R.choice(["2001:db8::", "2001:db8:1::", "::", "fe80::", "::1"]), 128
    form = R.random()
    mask = R.choice([0, 8, 16, 24, 32, 48, 64, 128, 33, 129, 7])
    if form < 0.4:
        text = f"{text}/{mask}"
    elif form < 0.5:
        text = f"[{text}]/{mask}"
    elif form < 0.55:
        text = f"[{text}/{mask}]"
    elif form < 0.6:
        text = f"{text}/{R.choice(['', 'x', '+8', '08', ' 8'])}"
    return text


def random_cidr_table():
    lines = []
    for _ in range(R.randint(3, 20)):
        k = R.random()
        neg = R.choice(["", "", "", "!", "! "])
        if k < 0.1:
            lines.append(R.choice(["if ", "IF ", "if !", "iff "]) + random_net())
        elif k < 0.18:
            lines.append(R.choice(["endif", "ENDIF", "endif x"]))
        elif k < 0.22:
            lines.append(R.choice(["# c", "", "  ", "\tCONT"]))
        else:
            lines.append(neg + random_net() + R.choice([" ", "\t"]) +
                         R.choice(["A", "B C", "$1", "", "OK"]))
    return "\n".join(lines) + "\n"


RANDOM_CIDR_KEYS = ["10.0.0.1", "10.10.10.10", "192.168.1.1", "172.16.0.1", "1.1.1.1",
                    "0.0.0.0", "255.255.255.255", "16.168.10.192", "2001:db8::1",
                    "2001:db8:1::5", "::1", "::", "fe80::1", "2002::1", "192.0.2.1"]

RANDOM_KEYS = ["a", "b", "x", "ab", "ba", "axb", "a1", "1a", "aa-bb", "x.y", "a/b", "A", "AB",
               "a12", "x9x", "abc.example.jp", "-", "ax", "bxa", "a\\b", "a b", "$1", "ppp1",
               "xx", "aab", "b.a", "12", "a.b.c", "xa", "X"]


def run(cmd, keys):
    p = subprocess.run(cmd, input=keys, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout, p.stderr


def compare(tmp, spec, keys, quiet=False):
    """Differences between postmap and targreyctl for KEYS (None: postmap failed)."""
    data = b"\n".join(k if isinstance(k, bytes) else k.encode() for k in keys) + b"\n"
    prc, pout, perr = run([POSTMAP, "-c", tmp, "-q", "-", spec], data)
    trc, tout, terr = run([CTL, "lookup", spec, "-"], data)
    if b"fatal" in perr:
        print(f"postmap failed on {spec}: {perr.decode(errors='replace')}")
        if b"unsupported dictionary type" in perr:
            print("install the Debian package postfix-pcre (Postfix's pcre: tables)")
        return None
    plines, tlines = pout.split(b"\n"), tout.split(b"\n")
    diffs = [(a, b) for a, b in zip(plines, tlines) if a != b]
    if len(plines) != len(tlines):
        diffs.append((f"{len(plines)} lines".encode(), f"{len(tlines)} lines".encode()))
    hits = len([x for x in plines if x])
    if not quiet or diffs or prc != trc:
        print(f"{spec.split('/')[-1]}: {len(keys)} keys, {hits} answered by postmap, "
              f"{len(diffs)} differences, exit {prc}/{trc}")
    if diffs and quiet:
        with open(spec.split(":", 1)[1]) as f:
            print("  table:\n    " + f.read().replace("\n", "\n    "))
    for a, b in diffs[:10]:
        print(f"  postmap:    {a!r}\n  targreyctl: {b!r}")
    return len(diffs) + (prc != trc), hits


def write_tables(tmp):
    """The fixed tables and RANDOM_TABLES random regexp and pcre tables."""
    with open(os.path.join(tmp, "main.cf"), "w") as f:
        f.write("compatibility_level = 3.6\nmeta_directory = /etc/postfix\n"
                "shlib_directory = /usr/lib/postfix\n")
    tables = {"s25r.regexp": REGEXP_TABLE, "s25r.pcre": PCRE_TABLE, "nets.cidr": CIDR_TABLE,
              "format.regexp": FORMAT_REGEXP, "format.pcre": FORMAT_REGEXP,
              "format.cidr": FORMAT_CIDR}
    for i in range(RANDOM_TABLES):
        tables[f"random{i}.regexp"] = random_table(False)
        tables[f"random{i}.pcre"] = random_table(True)
        tables[f"random{i}.cidr"] = random_cidr_table()
    for name, text in tables.items():
        with open(os.path.join(tmp, name), "w", newline="") as f:
            f.write(text)


RANDOM_TABLES = 60


def main():
    if not os.access(POSTMAP, os.X_OK):
        print("postmap not found: install the Debian package postfix")
        return 1
    tmp = tempfile.mkdtemp(prefix="t_postmap_agree.")
    try:
        write_tables(tmp)
        hostnames = names()
        addrs = addresses()
        checks = [
            ("regexp:" + os.path.join(tmp, "s25r.regexp"), hostnames),
            ("pcre:" + os.path.join(tmp, "s25r.pcre"), hostnames),
            ("regexp:" + os.path.join(SRC, "conf", "permit_client_nots25r"), hostnames),
            ("cidr:" + os.path.join(tmp, "nets.cidr"), addrs + hostnames[:200]),
            ("regexp:" + os.path.join(tmp, "format.regexp"), FORMAT_KEYS + hostnames[:300]),
            ("pcre:" + os.path.join(tmp, "format.pcre"), FORMAT_KEYS + hostnames[:300]),
            ("cidr:" + os.path.join(tmp, "format.cidr"), FORMAT_KEYS + addrs),
        ]
        randoms = [(f"{kind}:" + os.path.join(tmp, f"random{i}.{kind}"),
                    RANDOM_CIDR_KEYS if kind == "cidr" else RANDOM_KEYS)
                   for i in range(RANDOM_TABLES) for kind in ("regexp", "pcre", "cidr")]
        total = random_hits = 0
        for spec, keys in checks + randoms:
            got = compare(tmp, spec, keys, quiet=spec.split("/")[-1].startswith("random"))
            if got is None:
                return 1
            total += got[0]
            random_hits += got[1] if (spec, keys) in randoms else 0
        print(f"random tables: {len(randoms)} ({RANDOM_TABLES} each of regexp, pcre, cidr), "
              f"{sum(len(k) for _, k in randoms)} lookups, {random_hits} answered")
        lookups = sum(len(keys) for _, keys in checks + randoms)
        print(f"total: {len(hostnames)} host names, {len(addrs)} addresses, "
              f"{len(checks) + len(randoms)} tables, {lookups} lookups, {total} differences")
        return 1 if total else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
