# SPDX-License-Identifier: GPL-2.0-only
"""Table for bench/pacing.sh: per row the median over rounds of each percentile, and ratios
taken within each round (so the VM's noise cancels) against the plain absolute-sleep sender."""
import json
import os
import statistics
import sys

out, rounds = sys.argv[1], int(sys.argv[2])
rows = [l.rstrip('\n').split('|', 1) for l in open(os.path.join(out, 'labels'))]


def cyclictest(path):
    """Percentiles from cyclictest's histogram (1 us buckets)."""
    hist, mx = [], 0
    for line in open(path):
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit():
            hist.append((int(parts[0]), int(parts[1])))
        elif line.startswith('# Max Latencies:'):
            mx = int(parts[-1])
    n = sum(c for _, c in hist)
    def q(p):
        seen = 0
        for v, c in hist:
            seen += c
            if seen > p * n:
                return float(v)
        return float(mx)
    return {'packets': n, 'lost': 0, 'rtp_step': {'errors': 0},
            'deviation_us': {'p50': q(0.5), 'p99': q(0.99), 'p999': q(0.999), 'max': float(mx)}}


data = {}
for key, _ in rows:
    for r in range(1, rounds + 1):
        try:
            if key == 'cyclictest':
                d = cyclictest(os.path.join(out, f'{key}.{r}.hist'))
            else:
                d = json.load(open(os.path.join(out, f'{key}.{r}.json')))
        except (OSError, ValueError):
            d = None
        data[(key, r)] = d


def med(key, stat):
    v = [data[(key, r)]['deviation_us'][stat] for r in range(1, rounds + 1) if data[(key, r)]]
    return statistics.median(v) if v else float('nan')


def ratio(key, base, stat):
    v = [data[(key, r)]['deviation_us'][stat] / data[(base, r)]['deviation_us'][stat]
         for r in range(1, rounds + 1)
         if data[(key, r)] and data[(base, r)] and data[(base, r)]['deviation_us'][stat] > 0]
    return statistics.median(v) if v else float('nan')


keys = [k for k, _ in rows]
base = 'abs' if 'abs' in keys else None
print(f"\n|deviation from fitted schedule| in us, median over {rounds} interleaved rounds"
      + (" (ratio = p99 / plain abs sender's p99, same round)" if base else ""))
print('| sender | p50 | p99 | p99.9 | max | lost | RTP step errors | packets |'
      + (' p99 ratio | p99.9 ratio |' if base else ''))
print('|---|---|---|---|---|---|---|---|' + ('---|---|' if base else ''))
for key, lab in rows:
    ds = [data[(key, r)] for r in range(1, rounds + 1) if data[(key, r)]]
    lost = sum(d['lost'] for d in ds)
    steps = sum(d['rtp_step']['errors'] for d in ds)
    pk = '/'.join(str(d['packets']) for d in ds)
    line = (f"| {lab} | {med(key, 'p50'):.1f} | {med(key, 'p99'):.1f} | {med(key, 'p999'):.1f} "
            f"| {med(key, 'max'):.1f} | {lost} | {steps} | {pk} |")
    if base:
        line += f" {ratio(key, base, 'p99'):.2f} | {ratio(key, base, 'p999'):.2f} |"
    print(line)
print('\nper round p99 (us): ' + '; '.join(
    f"{k}: " + ' '.join(f"{data[(k, r)]['deviation_us']['p99']:.0f}" if data[(k, r)] else '-'
                        for r in range(1, rounds + 1)) for k in keys))
