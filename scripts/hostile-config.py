#!/usr/bin/env python3
"""Writes a hostile config to stdout: N pairs (default 200,000), every one with errors, under the 4 MiB limit.

One pair in ten is sound enough for the meaning checks (a duplicate name, an unknown uplink, a tenant
interface used before) and carries a value of the wrong type; the rest are broken in structure (wrong
types, unknown members, missing required members). Used by the Host tests (the output of `validate` stays
bounded) and by bench/validate-hostile.sh (the time `validate` takes on it).
usage: scripts/hostile-config.py [N]
"""
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
broken = ['{"name":7}', '{"nam":"x"}', '{}', '{"mode":1}', '{"name":[]}', '{"tenant":0}', '[]', '"x"', '{"name":"b"}']
out = sys.stdout
out.write('{"board":"qemu-virt","ports":[{"name":"eth0"}],"pairs":[\n')
for i in range(n):
    if i % 10 == 0:
        pair = '{"name":"a","mode":"l2","uplink":"u","tenant":{"netns":"n","interface":"e"},"headroom":"x"}'
    else:
        pair = broken[i % 10 - 1]
    out.write(pair + (',\n' if i + 1 < n else '\n'))
out.write(']}\n')
