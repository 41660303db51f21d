# SPDX-License-Identifier: GPL-3.0-or-later
"""A small municipality for bokvar-web's tests and demo: two teams and a
default one, their caseworkers, a landlord's feed that opens tasks in both
teams (families with children among them), dated around today."""

import datetime
import json
import os
import uuid

from identity import person

# Who signs on, and with what password at the stand-in sign-on (Apache's
# Basic authentication). cora coordinates, audrey audits, otto operates;
# mallory is nobody bokvar knows.
LOGINS = {'anna.k': 'anna-pw', 'erik.l': 'erik-pw', 'sara.b': 'sara-pw', 'cora': 'cora-pw',
          'audrey': 'audrey-pw', 'otto': 'otto-pw', 'mallory': 'mallory-pw'}

TEAMS = '''teams:
  - name: norr
    postal_codes: ["603"]
    email: norr@kommun.example
    caseworkers: [anna.k, erik.l]
  - name: centrum
    postal_codes: ["602"]
    email: centrum@kommun.example
    caseworkers: [sara.b]
  - name: central
    default: true
    email: central@kommun.example
'''

FEED = '''feeds:
  - name: hyresvard
    source: landlord
    url: file:hyresvard.ndjson
    interval: 1h
    format: ndjson
    map:
      external_id: id
      kind: kind
      occurred_at: date
      deadline: deadline
      person_id: pnr
      name: name
      address: street
      postal_code: zip
      city: city
      apartment: apt
      children: children
      amount: amount
      landlord: landlord
'''


def day(today, delta):
    return (today + datetime.timedelta(days=delta)).isoformat()


def records(today):
    """The feed's rows: households of team norr (603..) and centrum (602..)."""
    rows = [
        # norr: a family of three children given notice, in debt
        dict(id='H1', kind='termination_notice', date=day(today, -3), pnr=person(1), name='Åsa Öberg',
             street='Storgatan 1', zip='603 36', city='Norrköping', apt='1102', children='3', amount='24500',
             landlord='Hyresvärden AB'),
        dict(id='H1b', kind='arrears', date=day(today, -40), pnr=person(1), name='Åsa Öberg',
             street='Storgatan 1', zip='603 36', city='Norrköping', apt='1102', amount='8200',
             landlord='Hyresvärden AB'),
        # norr: an eviction within the fortnight
        dict(id='H2', kind='eviction_scheduled', date=day(today, -20), deadline=day(today, 9), pnr=person(2),
             name='Bertil Lind', street='Östra Promenaden 7', zip='603 45', city='Norrköping', apt='0904',
             landlord='Bostäder i Norr'),
        # norr: notice given, no children known
        dict(id='H3', kind='termination_notice', date=day(today, -12), pnr=person(3), name='Cecilia Ek',
             street='Hamngatan 12', zip='603 30', city='Norrköping', amount='15800', landlord='Hyresvärden AB'),
        # norr: one reminder only (watched, no task)
        dict(id='H4', kind='arrears', date=day(today, -5), pnr=person(4), name='David Berg',
             street='Kungsgatan 30', zip='603 31', city='Norrköping', amount='4100', landlord='Hyresvärden AB'),
        # centrum: a family given notice
        dict(id='H5', kind='termination_notice', date=day(today, -2), pnr=person(5), name='Erik Nyström',
             street='Drottninggatan 4', zip='602 24', city='Norrköping', apt='1201', children='1', amount='19900',
             landlord='Centrumfastigheter'),
        # centrum: notice given
        dict(id='H6', kind='termination_notice', date=day(today, -7), pnr=person(6), name='Fatima Ali',
             street='Trädgårdsgatan 9', zip='602 22', city='Norrköping', children='2', amount='31200',
             landlord='Centrumfastigheter'),
    ]
    return rows


def write(directory, database, rules, web='', today=None, empty=False):
    """The configuration and its feed file in directory; returns its path.
    database: the daemon's connection string; web: the web: block's keys,
    indented; empty: the feed file without a record."""
    today = today or datetime.date.today()
    with open(os.path.join(directory, 'hyresvard.ndjson'), 'w') as f:
        for r in [] if empty else records(today):
            f.write(json.dumps(r, ensure_ascii=False) + '\n')
    path = os.path.join(directory, 'bokvar.yaml')
    with open(path, 'w') as f:
        f.write(f'database: "{database}"\nrules: {rules}\n' + TEAMS + FEED)
        if web:
            f.write('web:\n' + web)
    return path


def start(directory, bokvarctl, bokvard, rules, web, empty=False):
    """The world in a database of its own: its WebDatabase, and the path of
    the configuration, whose web: block holds web (keys, indented) and the
    web login's connection. bokvard has made one pass over the feed (empty:
    a feed with no record, so no household, task or log yet); cora
    coordinates, audrey audits, otto operates."""
    from webstack import WebDatabase
    db = WebDatabase('bokvar_' + uuid.uuid4().hex[:12], bokvarctl, bokvard, directory)
    config = write(directory, db.conninfo(), rules, web=f'  database: "{db.conninfo(db.web_login)}"\n' + web,
                   empty=empty)
    db.once(config)
    db.query("INSERT INTO bokvar.actor (login, function) VALUES ('cora', 'coordinator'), ('audrey', 'auditor'), "
             "('otto', 'operator')")
    return db, config


def household(db, external_id):
    """The household of the feed's row external_id (db: a WebDatabase)."""
    return int(db.value(f"SELECT household_id FROM bokvar.signal WHERE external_id = '{external_id}'"))


def task(db, external_id):
    """The newest task of that household."""
    return int(db.value(f"SELECT t.id FROM bokvar.task t JOIN bokvar.signal s ON s.household_id = t.household_id "
                        f"WHERE s.external_id = '{external_id}' ORDER BY t.id DESC LIMIT 1"))


def reads(db, household, actor=None):
    """Rows of the access log for bokvar-web's reads of the household."""
    who = f" AND actor = '{actor}'" if actor else ''
    return int(db.value(f"SELECT count(*) FROM bokvar.access_log WHERE household_id = {household} "
                        f"AND path = 'web.household'{who}"))
