#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The benchmarks behind tools/bench; run by it inside a throwaway cluster."""

import os
import random
import re
import subprocess
import sys
import tempfile
import time

BUILD = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else 'build/release'
BOKVARD = os.path.join(BUILD, 'src', 'bokvard')
BOKVARCTL = os.path.join(BUILD, 'src', 'bokvarctl')


def psql(sql, db):
    subprocess.run(['psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', db, '-c', sql], check=True,
                   stdout=subprocess.DEVNULL)


def value(sql, db):
    return subprocess.run(['psql', '-XAtq', '-d', db, '-c', sql], check=True, capture_output=True,
                          text=True).stdout.strip()


def fresh_database(name):
    psql(f'DROP DATABASE IF EXISTS {name}', 'postgres')
    psql(f'CREATE DATABASE {name}', 'postgres')
    subprocess.run([BOKVARCTL, 'migrate'], env={**os.environ, 'PGDATABASE': name}, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def luhn(digits):
    total = 0
    for i, c in enumerate(digits):
        d = int(c) * (2 if i % 2 == 0 else 1)
        total += d // 10 + d % 10
    return str((10 - total % 10) % 10)


STREETS = ['Storgatan', 'Kungsgatan', 'Drottninggatan', 'Vasagatan', 'Ringvägen', 'Södra vägen', 'Hagagatan',
           'Trädgårdsgatan', 'Skolgatan', 'Östra Promenaden']
KINDS = ['Påminnelse', 'Påminnelse', 'Påminnelse', 'Uppsägning', 'Störning', 'Betald']


def generate(path, n, households, seed=1):
    """A landlord's export: Windows-1252, semicolons, decimal commas."""
    rng = random.Random(seed)
    people = []
    for h in range(households):
        y, m, d = rng.randint(1940, 2004), rng.randint(1, 12), rng.randint(1, 28)
        base = '%02d%02d%02d%03d' % (y % 100, m, d, rng.randint(0, 999))
        people.append(('%04d%02d%02d-%s%s' % (y, m, d, base[6:], luhn(base)),
                       '%s %d%s' % (STREETS[h % 10], h % 97 + 1, ' B' if h % 7 == 0 else ''),
                       '6%02d %02d' % (h % 100, h % 37), '%04d' % (1001 + h % 300), h % 4))
    with open(path, 'w', encoding='cp1252', newline='') as f:
        f.write('Ärende;Typ;Datum;Personnummer;Namn;Adress;Postnr;Ort;Lägenhet;Barn;Skuld;Månader\r\n')
        for i in range(n):
            pnr, street, zip_, apt, children = people[rng.randrange(households)]
            f.write('HV-%08d;%s;%02d.%02d.2026;%s;Namn %d;%s;%s;Norrköping;%s;%d;%d %03d,%02d;%d\r\n' % (
                i, KINDS[i % 6], rng.randint(1, 28), rng.randint(1, 11), pnr, i % 9973, street, zip_, apt,
                children, rng.randint(0, 99), rng.randint(0, 999), rng.randint(0, 99), rng.randint(0, 6)))


FEED = '''database: "dbname={db}"
feeds:
  - name: bench
    source: landlord
    url: file://{path}
    format: csv
    csv: {{ delimiter: ";", encoding: WINDOWS-1252 }}
    decimal_comma: true
    date_format: DD.MM.YYYY
    max_body: 8GiB
    map:
      external_id: Ärende
      kind: {{ from: Typ, values: {{ Påminnelse: arrears, Uppsägning: termination_notice, Störning: disturbance, Betald: resolved }} }}
      occurred_at: Datum
      person_id: Personnummer
      name: Namn
      address: Adress
      postal_code: Postnr
      city: Ort
      apartment: Lägenhet
      children: Barn
      amount: Skuld
      months_in_arrears: Månader
'''


def timed(cmd, **kw):
    t0 = time.monotonic()
    p = subprocess.run(cmd, **kw)
    return time.monotonic() - t0, p


def bench_ingest(n=1000000, households=300000):
    work = tempfile.mkdtemp(prefix='bokvar-bench-')
    path = os.path.join(work, 'feed.csv')
    print(f'generating {n} signals over {households} households ...', flush=True)
    generate(path, n, households)
    size = os.path.getsize(path)

    # The reference: a plain \copy of the same file into a table with a primary key.
    fresh_database('bench_ref')
    psql('CREATE TABLE ref (arende text PRIMARY KEY, typ text, datum text, pnr text, namn text, adress text, '
         'postnr text, ort text, lgh text, barn text, skuld text, man text)', 'bench_ref')
    psql('CHECKPOINT', 'bench_ref')
    ref, _ = timed(['psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', 'bench_ref', '-c',
                    f"\\copy ref FROM '{path}' WITH (FORMAT csv, DELIMITER ';', HEADER true, ENCODING 'WIN1252')"],
                   check=True)

    fresh_database('bench')
    config = os.path.join(work, 'bokvar.yaml')
    with open(config, 'w') as f:
        f.write(FEED.format(db='bench', path=path))
    psql('CHECKPOINT', 'bench')
    wall, p = timed(['/usr/bin/time', '-f', 'maxrss_kib=%M', BOKVARD, '--config', config, '--once',
                     '--log-target=console'], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f'bokvard failed:\n{p.stderr}')
    rss = int(re.search(r'maxrss_kib=(\d+)', p.stderr).group(1))
    signals = int(value('SELECT count(*) FROM bokvar.signal', 'bench'))
    homes = int(value('SELECT count(*) FROM bokvar.household', 'bench'))
    quarantined = int(value('SELECT count(*) FROM bokvar.quarantine', 'bench'))
    print(f'''
ingest benchmark: {n} rows, {size / 1e6:.0f} MB, Windows-1252 CSV as a file feed
  reference, psql \\copy into a table with a primary key   {ref:8.2f} s
  bokvard --once: fetch, stage, map, validate, match, merge {wall:8.2f} s
  ratio                                                     {wall / ref:8.2f}   (target <= 3)
  signals per second                                        {signals / wall:8.0f}
  bokvard peak RSS                                          {rss / 1024:8.1f} MiB   (target < 32)
  result: {signals} signals, {homes} households, {quarantined} quarantined
''')
    for line in p.stderr.splitlines():
        if line.startswith('Feed bench:'):
            print('  ' + line)


def sql_timed(sql, db):
    t0 = time.monotonic()
    out = value(sql, db)
    return time.monotonic() - t0, out


def bench_score(n=1000000):
    """N households with three signals each, over the last 400 days."""
    db = 'bench_score'
    fresh_database(db)
    work = tempfile.mkdtemp(prefix='bokvar-bench-')
    print(f'generating {n} households and {3 * n} signals ...', flush=True)
    psql(f"""INSERT INTO bokvar.household (id, children, postal_code, city)
             SELECT g, (g % 5) * (g % 2), '60' || lpad((g % 1000)::text, 3, '0'), 'Norrköping'
             FROM generate_series(1, {n}) g""", db)
    psql(f"""INSERT INTO bokvar.signal (feed, external_id, source, kind, occurred_at, deadline, amount,
                                        months_in_arrears, household_id, fetch_id)
             SELECT 'bench', 'S' || i, s.source, s.kind, current_date - (i * 7919 % 400)::integer, s.deadline, s.amount,
                    (i % 7)::integer, (i - 1) % {n} + 1, 1
             FROM generate_series(1::bigint, {3 * n}) i,
             LATERAL (SELECT CASE i % 20 WHEN 0 THEN 'eviction_application' WHEN 1 THEN 'eviction_scheduled'
                                         WHEN 2 THEN 'termination_notice' WHEN 3 THEN 'termination_notice'
                                         WHEN 4 THEN 'utility_disconnection' WHEN 5 THEN 'resolved'
                                         WHEN 6 THEN 'disturbance' ELSE 'arrears' END::bokvar.signal_kind AS kind,
                             CASE WHEN i % 20 IN (0, 1) THEN 'enforcement' WHEN i % 20 = 4 THEN 'utility'
                                  ELSE 'landlord' END::bokvar.feed_source AS source,
                             CASE WHEN i % 20 IN (1, 2, 3, 4) THEN current_date - (i * 7919 % 400)::integer + 21 END AS deadline,
                             (i * 31 % 60000)::numeric AS amount) s""", db)
    psql('VACUUM ANALYZE bokvar.signal, bokvar.household', db)
    rules = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'config', 'rules.yaml')
    config = os.path.join(work, 'bokvar.yaml')
    with open(config, 'w') as f:
        f.write(f'database: "dbname={db}"\nrules: {rules}\n')
    # Loading the rules scores every household for the first time.
    first, p = timed([BOKVARD, '--config', config, '--once', '--log-target=console'], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f'bokvard failed:\n{p.stderr}')
    scored = value("SELECT count(*) FROM bokvar.score WHERE class <> 'none'", db)

    # The reference, warm: a plain aggregate of the same signals per household.
    value('SELECT count(*) FROM bokvar.signal', db)
    ref, _ = sql_timed('SELECT count(*) FROM (SELECT household_id, count(*), max(amount), min(deadline) '
                       'FROM bokvar.signal GROUP BY household_id) x', db)
    full, changed = sql_timed('SELECT bokvar.rescore_all(true)', db)

    # An ingest of 10 000 new signals, for as many households: what it rescores.
    psql(f"""INSERT INTO bokvar.signal (feed, external_id, source, kind, occurred_at, amount, household_id, fetch_id)
             SELECT 'bench', 'N' || i, 'landlord', 'arrears', current_date, 5000, i * 97 % {n} + 1, 2
             FROM generate_series(1, 10000) i""", db)
    inc, inc_changed = sql_timed(f"""SELECT bokvar.score_apply(ARRAY(SELECT DISTINCT household_id
             FROM bokvar.signal WHERE fetch_id = 2))""", db)
    print(f'''
scoring benchmark: {n} households, {3 * n} signals, the rules of config/rules.yaml
  reference, GROUP BY household over the signals            {ref:8.2f} s
  full rescore (rescore_all, nothing changed)               {full:8.2f} s   ({changed} changed)
  ratio                                                     {full / ref:8.2f}   (target <= 4)
  first scoring of all households (bokvard --once)          {first:8.2f} s   ({scored} above class none)
  rescore after an ingest of 10 000 signals                 {inc:8.2f} s   ({inc_changed} changed; target < 1 s)
''')


def main():
    args = sys.argv[2:]
    if not args or args[0] not in ('ingest', 'score'):
        sys.exit('usage: tools/bench ingest [N] | score [N]')
    if args[0] == 'ingest':
        bench_ingest(int(args[1]) if len(args) > 1 else 1000000)
    elif args[0] == 'score':
        bench_score(int(args[1]) if len(args) > 1 else 1000000)


if __name__ == '__main__':
    main()
