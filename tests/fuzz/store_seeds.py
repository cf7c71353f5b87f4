#!/usr/bin/env python3
"""
NAME
	store_seeds.py - write the seed corpora of fuzz_store and fuzz_ctl_load
SYNOPSIS
	python3 tests/fuzz/store_seeds.py [DIR]   (default: tests/fuzz/corpus)
DESCRIPTION
	corpus/store: the records of a small real store (greylist triplets,
	a client, a tarpit entry, meta's schema, a counter and a whitelist
	entry, in the byte layouts of src/policy/record.c and src/state/store_list.c) in
	fuzz_store's input format, as they are, with a key size field set
	to 4144 (the crash of issue 11) and with a value size field set to
	65535. corpus/ctl_load: the dump and db_dump -p files of
	tests/unit/data behind their mode byte (0 load, 1 import-postgrey).
"""
import os
import struct
import sys

T = 1795425000


def grey(first, last, retries, passed):
	return struct.pack(">BBHqq", 1, 1 if passed else 0, retries, first, last)


RECORDS = [
	(0, b"203.0.113.0/news@example.com/bob@example.net", grey(T, T + 400, 2, 1)),
	(0, b"203.0.113.0/once@example.com/bob@example.net", grey(T, T + 40, 0, 0)),
	(0, b"198.51.100.0/old@example.com/bob@example.net", grey(1700000000, 1700000400, 0, 0)),
	(1, b"203.0.113.0", struct.pack(">BBIqqq", 1, 0, 3, T, T + 3600, T + 7200)),
	(2, b"192.0.2.1", struct.pack(">BBIqq", 1, 0, 2, T, T + 60)),
	(3, b"schema", b"\x01"),
	(3, b"count/greylist", struct.pack(">Q", 12)),
	(3, b"whitelist/192.0.2.0/24", struct.pack(">BBB16sq", 1, 4, 24,
	    bytes([192, 0, 2, 0]) + bytes(12), T)),
	(3, b"whitelist_gen", struct.pack(">Q", 1)),
]


def records():
	out = b""
	for db, key, val in RECORDS:
		out += bytes([db, len(key)]) + key + bytes([len(val)]) + val
	return out + b"\x00\x00"


def write(path, data):
	with open(path, "wb") as f:
		f.write(data)


def main():
	top = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
	    os.path.dirname(os.path.abspath(__file__)), "corpus")
	os.makedirs(os.path.join(top, "store"), exist_ok=True)
	os.makedirs(os.path.join(top, "ctl_load"), exist_ok=True)
	write(os.path.join(top, "store", "small"), records())
	write(os.path.join(top, "store", "keysize"), records() + bytes([0, 0]) +
	    struct.pack("<H", 4144))
	write(os.path.join(top, "store", "datasize"), records() + bytes([3, 1]) +
	    struct.pack("<H", 65535))
	data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
	    "unit", "data")
	for mode, name in ((b"\x01", "targrey.dump"), (b"\x01", "postgrey-1.37.dump")):
		with open(os.path.join(data, name), "rb") as f:
			write(os.path.join(top, "ctl_load", name), mode + f.read())
	write(os.path.join(top, "ctl_load", "dump.txt"), b"\x00" +
	    b"# targrey-milter dump 1\n"
	    b"greylist\t203.0.113.0/news@example.com/bob@example.net\t"
	    b"first=1795425000 last=1795425400 retries=2 passed=1\n"
	    b"clients\t203.0.113.0\tfirst=1 last_pass=2 last_seen=3 passes=4\n"
	    b"tarpit\t192.0.2.1\tfirst=1 last=2 count=3\n"
	    b"whitelist\t192.0.2.0/24\tadded=1795425000\n"
	    b"raw\ttarpit\t192.0.2.99\t07010203\n")


main()
