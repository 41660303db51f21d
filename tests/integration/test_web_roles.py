#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""bokvar-web for coordinators, operators and auditors, and in each
person's language, over its socket (tests/browser goes through Apache):
who may open which page, every team's tasks and a task handed over from
the worklist, the feeds and dead letters sent again, the access log
searched and exported; and every page, refused form and error page in
Swedish, Norwegian and English, with no text of another language left."""

import csv
import datetime
import io
import json
import os
import re
import subprocess
import unittest

from harness import BOKVARCTL, main
from test_web_pages import BOKVAR_WEB, PagesCase, Session
from translations import Giveaways, languages, page_text

TODAY = datetime.date.today()


class RolesCase(PagesCase):
    """The web world (its auditor audrey and operator otto among its
    people), with a dead letter and a purge's record to show."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        t = cls.db.value("SELECT t.id FROM bokvar.task t JOIN bokvar.signal s ON s.household_id = t.household_id "
                         "WHERE s.external_id = 'H6'")
        cls.dead = int(cls.db.value(
            f"INSERT INTO bokvar.outbox (event_id, task_id, kind, channel, payload, status, attempts, last_status, "
            f"last_error) VALUES ('evt_dead1', {t}, 'created', 'case-system', '{{}}', 'dead', 20, 410, "
            f"'the receiver answered 410 Gone') RETURNING id"))
        cls.db.query('SELECT bokvar.purge(false)')

    def get(self, login, path, lang=None):
        s = Session(self.web.address, login)
        if lang:
            s.extra = {'Accept-Language': lang}
        return s, s.get(path)


class Roles(RolesCase):
    def test_who_opens_which_page(self):
        h, t = self.household('H1'), self.task('H1')
        expect = {
            'anna.k': {'/': 200, '/notice': 200, '/teams': 403, '/feeds': 403, '/access-log': 403,
                       '/access-log.csv': 403, f'/task/{t}/hand-over': 200, '/settings': 200, '/report': 403,
                       '/report.csv': 403},
            'cora': {'/': 200, '/teams': 200, '/feeds': 200, '/access-log': 403, f'/task/{t}/hand-over': 200,
                     '/notice': 200, '/report': 200, '/report.csv': 200, '/report?year=20x6': 404},
            'otto': {'/': 303, '/feeds': 200, '/teams': 403, '/access-log': 403, f'/household/{h}': 403,
                     '/notice': 403, '/settings': 200, '/report': 403},
            'audrey': {'/': 303, '/access-log': 200, '/access-log.csv': 200, f'/household/{h}': 403, '/report': 200,
                       f'/task/{t}': 403, f'/task/{t}/hand-over': 403, '/teams': 403, '/feeds': 403, '/notice': 403},
            'sara.b': {f'/task/{t}/hand-over': 403},
        }
        for login, pages in expect.items():
            for path, status in pages.items():
                _, r = self.get(login, path)
                self.assertEqual(r.status, status, f'{login} {path}: {r.text[:300]}')
                if status == 403:
                    self.assertNotIn('<table', r.text, f'{login} {path}: a refusal shows nothing of the page')
        self.assertEqual(self.get('audrey', '/')[1].header('Location'), '/access-log')
        self.assertEqual(self.get('otto', '/')[1].header('Location'), '/feeds')
        # An auditor's refused look at a household is no read of it.
        self.assertEqual(self.reads(h, 'audrey'), 0)

    def test_the_menu_is_the_persons(self):
        menus = {login: re.findall(r'<li><a href="([^"]+)"', self.get(login, '/settings')[1].text)
                 for login in ('anna.k', 'cora', 'otto', 'audrey')}
        self.assertEqual(menus, {'anna.k': ['/', '/notice'],
                                 'cora': ['/', '/teams', '/report', '/feeds', '/notice'],
                                 'otto': ['/feeds'],
                                 'audrey': ['/access-log', '/report']})

    def test_every_team_for_a_coordinator(self):
        r = self.get('cora', '/teams')[1]
        rows = re.findall(r'<tr><th scope="row"><a href="/\?team=([a-z]+)">[^<]+</a></th>((?:<td[^>]*>[^<]*</td>){6})',
                          r.text)
        counts = {team: [int(c) for c in re.findall(r'>(\d+)<', cells)] for team, cells in rows}
        want = {team: [int(x) for x in rest] for team, *rest in self.db.query(
            "SELECT t.name, cardinality(t.caseworkers), count(k.id), count(k.id) FILTER (WHERE k.class = 'urgent'), "
            "count(k.id) FILTER (WHERE k.household_children > 0), count(k.id) FILTER (WHERE k.due < current_date), "
            "count(k.id) FILTER (WHERE k.assignee IS NULL) "
            "FROM bokvar.team t LEFT JOIN bokvar.task k ON k.team = t.name AND k.status = 'open' GROUP BY t.name")}
        self.assertEqual(counts, want)
        # Each team's worklist, with the caseworkers' filters, for the coordinator.
        # (The class centrum's first task has: the default rules score children
        # by their being there, so which class that is follows the rules.)
        cls = self.db.value("SELECT class FROM bokvar.worklist WHERE team = 'centrum' ORDER BY priority LIMIT 1")
        r = self.get('cora', f'/?team=centrum&class={cls}')[1]
        shown = [int(x) for x in re.findall(r'href="/household/\d+#task-(\d+)"', r.text)]
        self.assertEqual(shown, [int(x[0]) for x in self.db.query(
            f"SELECT task_id FROM bokvar.worklist WHERE team = 'centrum' AND class = '{cls}' ORDER BY priority")])
        self.assertTrue(shown, 'the filter shows a task to hand over')
        self.assertIn(f'href="/task/{shown[0]}/hand-over"', r.text)
        self.assertNotIn('/hand-over"', self.get('sara.b', '/?team=centrum')[1].text)

    def test_hand_over_from_the_worklist_reads_no_household(self):
        h, t = self.household('H3'), self.task('H3')
        reads = self.db.value('SELECT count(*) FROM bokvar.access_log')
        s, r = self.get('cora', f'/task/{t}/hand-over')
        self.assertEqual(r.status, 200)
        self.assertNotIn('Cecilia', r.text)
        self.assertNotIn('Hamngatan', r.text)
        self.assertRegex(r.text, r'<option value="centrum">centrum</option>')
        self.assertNotIn('<option value="norr">', r.text)
        # Without a reason: the same page, the mistake at the field, nothing moved.
        r = s.post(f'/task/{t}/hand-over', {'from': 'hand-over', 'team': 'centrum', 'reason': ' '})
        self.assertEqual(r.status, 422)
        self.assertIn('id="hand-over-reason-error"', r.text)
        self.assertIn('<option value="centrum" selected>', r.text)
        self.assertEqual(self.db.value(f'SELECT team FROM bokvar.task WHERE id = {t}'), 'norr')
        r = s.post(f'/task/{t}/hand-over', {'from': 'hand-over', 'team': 'centrum', 'reason': 'Flyttat till centrum'})
        self.assertEqual((r.status, r.header('Location')), (303, '/?done=handed_over'))
        self.assertEqual(self.db.query(f'SELECT team, assignee FROM bokvar.task WHERE id = {t}'), [['centrum', '']])
        self.assertEqual(self.db.query(f"SELECT actor, detail ->> 'to_team' FROM bokvar.audit_log "
                                       f"WHERE action = 'task.hand_over' AND subject = '{t}'"), [['cora', 'centrum']])
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.access_log'), reads,
                         'handing a task over from the worklist reads no household')
        self.assertEqual(self.reads(h, 'cora'), 0)

    def test_feeds_and_dead_letters(self):
        s, r = self.get('otto', '/feeds')
        self.assertEqual(r.status, 200)
        row = re.search(r'<tr><th scope="row">hyresvard</th>(.*?)</tr>', r.text).group(1)
        cells = re.findall(r'<td[^>]*>(.*?)</td>', row)
        self.assertEqual(cells[3:8], ['7', '7', '0', '0', '0'], 'the last fetch: read, new, updated, duplicate, '
                                                                 'quarantined')
        self.assertIn('410 the receiver answered 410 Gone', r.text)
        self.assertIn(f'action="/outbox/{self.dead}/retry"', r.text)
        # A caseworker may not send it again; nothing changes.
        cw = Session(self.web.address, 'anna.k')
        cw.get('/')
        self.assertEqual(cw.post(f'/outbox/{self.dead}/retry', {}).status, 403)
        self.assertEqual(self.db.value(f'SELECT status FROM bokvar.outbox WHERE id = {self.dead}'), 'dead')
        # Without the form's token, neither may the operator.
        self.assertEqual(s.post(f'/outbox/{self.dead}/retry', {}, csrf=False).status, 403)
        r = s.post(f'/outbox/{self.dead}/retry', {})
        self.assertEqual((r.status, r.header('Location')), (303, '/feeds?done=retried'))
        self.assertEqual(self.db.query(f'SELECT status, attempts FROM bokvar.outbox WHERE id = {self.dead}'),
                         [['pending', '0']])
        self.assertEqual(self.db.query("SELECT actor, subject FROM bokvar.audit_log WHERE action = 'outbox.retry'"),
                         [['otto', str(self.dead)]])
        # A coordinator sends them all again.
        self.db.query(f"UPDATE bokvar.outbox SET status = 'dead' WHERE id = {self.dead}")
        c = Session(self.web.address, 'cora')
        c.get('/feeds')
        self.assertEqual(c.post('/outbox/retry', {}).status, 303)
        self.assertEqual(self.db.value(f'SELECT status FROM bokvar.outbox WHERE id = {self.dead}'), 'pending')
        self.assertEqual(self.db.query("SELECT actor, subject FROM bokvar.audit_log WHERE action = 'outbox.retry' "
                                       "ORDER BY id DESC LIMIT 1"), [['cora', 'all dead letters']])
        self.assertIn('Every event has gone out', self.get('otto', '/feeds', 'en')[1].text)

    def test_the_report_page_is_bokvarctl_reports_figures_with_charts(self):
        year = TODAY.year
        # A task closed, so that the outcomes have something to show.
        t = self.task('H6')
        c = Session(self.web.address, 'sara.b')
        c.get(f'/household/{self.household("H6")}')
        self.assertEqual(c.post(f'/task/{t}/close', {'household': str(self.household('H6')),
                                                     'outcome': 'kept_home'}).status, 303)
        r = self.get('cora', f'/report?year={year}', 'en')[1]
        self.assertEqual(r.status, 200, r.text)
        # Four charts, each an image named by its title, its numbers beside it.
        charts = re.findall(r'<figure class="chart(?: wide)?" aria-labelledby="([a-z-]+)-title">(.*?)</figure>', r.text,
                            re.S)
        self.assertEqual([c[0] for c in charts], ['chart-signals', 'chart-tasks', 'chart-outcomes', 'chart-kept-home'])
        for name, body in charts:
            self.assertIn(f'<svg viewBox="0 0 720 ', body)
            self.assertIn(f'role="img" aria-labelledby="{name}-title {name}-note"', body)
            self.assertIn('<table class="chart-data">', body)
        month = TODAY.strftime('%b')
        tasks = dict(charts)['chart-tasks']
        opened = self.db.value(f"SELECT count(*) FROM bokvar.task WHERE created_at >= date_trunc('month', now())")
        self.assertRegex(tasks, rf'<tr><th scope="row">{month}</th><td class="num">{opened}</td><td class="num">1</td></tr>')
        self.assertIn(f'<title>closed, {month}: 1</title>', tasks)
        self.assertIn('<tr><th scope="row">Kept their home</th><td class="num">1</td><td class="num">0</td></tr>',
                      dict(charts)['chart-outcomes'])
        # The figures are bokvarctl report's: the same names and values (the
        # owner's bokvarctl, the system, sees every team as a coordinator does).
        ctl = self.db.ctl('report', '--csv', '--year', str(year)).stdout
        want = dict(line.split(',', 1) for line in ctl.splitlines()[1:])
        csv_page = self.get('cora', f'/report.csv?year={year}', 'en')[1]
        self.assertEqual(csv_page.header('Content-Disposition'), f'attachment; filename="bokvar-report-{year}.csv"')
        table = list(csv.reader(io.StringIO(csv_page.text)))
        self.assertEqual(table[0], ['figure', 'label', str(year), str(year - 1)])
        got = {row[0]: row[2] for row in table[1:]}
        self.assertEqual(got, want)
        # The same rows on the page, in words, the year before beside.
        figures = r.text.split('<table class="figures">')[1]
        self.assertIn('<tr><th scope="row">Landlord: Termination of the lease</th><td class="num">', figures)
        self.assertEqual(len(re.findall(r'<tr><th scope="row"', figures)), len(table) - 1)
        # And the year before, by the picker.
        r = self.get('audrey', f'/report?year={year - 1}', 'sv')[1]
        self.assertIn(f'<option value="{year - 1}" selected>', r.text)
        self.assertIn(f'Årsrapport {year - 1}', r.text)

    def test_access_log_searched_and_exported(self):
        h1, h5 = self.household('H1'), self.household('H5')
        self.get('anna.k', f'/household/{h1}')
        self.get('sara.b', f'/household/{h5}')
        self.get('cora', f'/household/{h1}')        # a coordinator with no task of it: unusual
        # A reason someone typed that a spreadsheet would run as a formula.
        self.db.query(f"INSERT INTO bokvar.access_log (actor, function, household_id, path, reason) "
                      f"VALUES ('anna.k', 'caseworker', {h1}, 'household.show', '=HYPERLINK(\"http://x\",\"y\")')")
        s, r = self.get('audrey', f'/access-log?household={h1}')
        self.assertEqual(r.status, 200, r.text)
        reads = r.text.split('id="purges"')[0]
        rows = re.findall(r'<tr><td><time datetime="[^"]+">[^<]+</time></td><td>([a-z.]+)', reads)
        self.assertEqual(sorted(rows), ['anna.k', 'anna.k', 'cora'])
        self.assertEqual(rows[0], 'cora', 'unusual reads first')
        self.assertEqual(r.text.count('class="badge class-urgent"'), 1)
        self.assertNotIn('Åsa', r.text)
        self.assertNotRegex(r.text, r'\d{8}-\d{4}')
        # By person, and by period.
        r = self.get('audrey', '/access-log?person=sara.b')[1]
        self.assertEqual(re.findall(r'</time></td><td>([a-z.]+) ', r.text), ['sara.b'])
        future = (TODAY + datetime.timedelta(days=2)).isoformat()
        r = self.get('audrey', f'/access-log?from={future}')[1]
        self.assertIn('No read matches the search.', self.get('audrey', f'/access-log?from={future}', 'en')[1].text)
        r = self.get('audrey', f'/access-log?unusual=1&from={TODAY.isoformat()}&until={TODAY.isoformat()}')[1]
        self.assertEqual(re.findall(r'</time></td><td>([a-z.]+) ', r.text), ['cora'])
        # Mistakes are said at their fields, and nothing is searched.
        r = self.get('audrey', '/access-log?household=12x&person=<b>&from=2026-02-30&until=2020-01-01', 'en')[1]
        self.assertEqual(r.status, 422)
        for field in ('household', 'person', 'from'):
            self.assertIn(f'id="search-{field}-error"', r.text)
        self.assertNotIn('<b>', r.text)
        self.assertIn('value="&lt;b&gt;"', r.text)
        # The purges' records are there too.
        self.assertIn('<h2 id="purges">', r.text)
        self.assertEqual(len(re.findall(r'<tr><td><time', r.text.split('id="purges"')[1])),
                         int(self.db.value("SELECT count(*) FROM bokvar.audit_log WHERE action = 'purge'")))

        # CSV: the same search, every row, as a spreadsheet reads it.
        r = self.get('audrey', f'/access-log.csv?household={h1}&from=', 'en')[1]
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header('Content-Type'), 'text/csv; charset=utf-8')
        self.assertEqual(r.header('Content-Disposition'), 'attachment; filename="bokvar-access-log.csv"')
        table = list(csv.reader(io.StringIO(r.text)))
        self.assertEqual(table[0], ['When', 'Who', 'Function', 'Through login', 'Household', 'Task', 'Through',
                                    'Reason given', 'Unusual'])
        self.assertEqual(len(table), 1 + int(self.db.value(
            f'SELECT count(*) FROM bokvar.access_log WHERE household_id = {h1}')))
        self.assertEqual([row[1] for row in table[1:] if row[8] == 'Yes'], ['cora'])
        self.assertIn('\'=HYPERLINK("http://x","y")', [row[7] for row in table],
                      'a reason that begins like a formula is kept from being one')
        self.assertEqual(self.get('audrey', '/access-log.csv?from=2026-13-01')[1].status, 400)


class Bokvarctl(RolesCase):
    """bokvarctl's outputs for people, in the locale's language or
    --lang's; JSON and CSV as programs read them, whatever the language."""

    def ctl(self, *args, **env):
        e = dict(os.environ)
        for k in ('LANG', 'LC_ALL', 'LC_MESSAGES', 'LANGUAGE'):
            e.pop(k, None)
        e.update(self.db.env)
        e.update(env)
        p = subprocess.run([BOKVARCTL, *args], capture_output=True, text=True, env=e)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def test_the_locale_or_lang_chooses(self):
        sv = self.ctl('tasks', LANG='sv_SE.UTF-8')
        self.assertRegex(sv.splitlines()[0], r'^PRIORITET +UPPGIFT +HUSHÅLL +TEAM +HANDLÄGGARE +KLASS +POÄNG +BARN '
                                             r'+AVHYSNING ')
        self.assertIn(' Akut ', sv)
        self.assertRegex(sv, r'\d{1,2} (januari|februari|mars|april|maj|juni|juli|augusti|september|oktober|'
                             r'november|december) \d{4}')
        nb = self.ctl('--lang', 'nb', 'tasks', LANG='sv_SE.UTF-8')
        self.assertRegex(nb.splitlines()[0], r'^PRIORITET +OPPGAVE +HUSSTAND +TEAM +SAKSBEHANDLER +KLASSE ')
        self.assertIn(' Haster ', nb)
        # POSIX: LC_ALL first; the C locale is the sources' English.
        en = self.ctl('tasks', LC_ALL='C.UTF-8', LANG='sv_SE.UTF-8')
        self.assertRegex(en.splitlines()[0], r'^PRIORITY +TASK +HOUSEHOLD +TEAM +CASEWORKER +CLASS ')
        self.assertEqual(self.ctl('tasks', LC_MESSAGES='nb_NO.UTF-8', LANG='sv_SE.UTF-8'), nb)
        # For programs, nothing is translated.
        rows = json.loads(self.ctl('--json', 'tasks', LANG='sv_SE.UTF-8'))
        self.assertIn('urgent', {r['class'] for r in rows})
        self.assertEqual(set(rows[0]), {'priority', 'task', 'household', 'team', 'assignee', 'class', 'score',
                                        'children', 'eviction', 'deadline', 'due', 'overdue', 'state', 'rules'})
        for lang, text in (('sv', sv), ('nb', nb), ('en', en)):
            self.assertEqual(Giveaways(lang).found(text), [], lang)

    def test_a_household_in_norwegian(self):
        h = self.household('H1')
        out = self.ctl('--lang', 'nb', 'household', 'show', str(h))
        # 50 + 10 + 10, and 20 for children living there (the default rules
        # count children by their being there, not per child).
        self.assertIn('Poengsum 90, klasse Haster (regelsett versjon 1, beregnet ', out)
        self.assertRegex(out, r'\n +Barn: 3\n')
        self.assertRegex(out, r'\n2 +hyresvard +H1b .* ukjent ')
        self.assertIn('\nSignaler:\n', out)
        self.assertRegex(out, r'Utleier +Oppsigelse av leieavtalen')
        self.assertIn('24\u00a0500\u00a0kr', out)
        self.assertEqual(Giveaways('nb').found(out), [])

    def test_the_report_in_each_language(self):
        year = str(TODAY.year)
        # For a spreadsheet the figures keep their names, whatever the language.
        figures = self.ctl('report', '--csv', '--year', year, LANG='sv_SE.UTF-8')
        self.assertEqual(self.ctl('--lang', 'nb', 'report', '--csv', '--year', year), figures)
        rows = figures.splitlines()[1:]
        self.assertIn('tasks_opened', {r.split(',')[0] for r in rows})
        texts = {'sv': self.ctl('report', '--year', year, LANG='sv_SE.UTF-8'),
                 'nb': self.ctl('--lang', 'nb', 'report', '--year', year),
                 'en': self.ctl('report', '--year', year, LC_ALL='C')}
        self.assertEqual(texts['sv'].splitlines()[0], f'bokvar: året {year}')
        self.assertIn('\nSignaler, per källa och sort\n', texts['sv'])
        self.assertIn('\nSignaler, etter kilde og type\n', texts['nb'])
        self.assertIn('\nSignals, by source and kind\n', texts['en'])
        for lang, text in texts.items():
            self.assertEqual(Giveaways(lang).found(text), [], lang)
            # Every figure of the CSV, one line each, its value at the end.
            # (A value may hold no-break spaces: 50,0 %, 1 234.)
            self.assertEqual(len(re.findall(r'^.*\S {2,}\S+(?:\xa0\S+)*$', text, re.M)), len(rows), lang)
        opened = next(r for r in rows if r.startswith('tasks_opened,')).split(',')[1]
        self.assertRegex(texts['nb'], rf'\n  åpnet +{opened}\n')


class Languages(RolesCase):
    """Every page, in every language, with nothing of another left."""

    def pages(self):
        h, t = self.household('H2'), self.task('H2')
        return [
            ('anna.k', 'GET', '/', None, 200),
            ('anna.k', 'GET', f'/household/{h}', None, 200),
            ('anna.k', 'GET', '/notice', None, 200),
            ('anna.k', 'GET', '/settings', None, 200),
            ('anna.k', 'POST', '/notice', {'kind': 'nonsense', 'occurred_at': '2026-02-30', 'person_id': '12',
                                          'children': 'två', 'amount': 'mycket'}, 422),
            ('anna.k', 'POST', f'/task/{t}/contact', {'household': str(h), 'note': 'x' * 2001}, 422),
            ('anna.k', 'POST', f'/task/{t}/follow-up', {'household': str(h), 'date': '2020-01-01'}, 422),
            ('anna.k', 'POST', '/settings', {'language': 'xx'}, 422),
            ('anna.k', 'GET', '/teams', None, 403),
            ('anna.k', 'GET', '/nowhere', None, 404),
            ('cora', 'GET', '/', None, 200),
            ('cora', 'GET', '/teams', None, 200),
            ('cora', 'GET', f'/task/{t}/hand-over', None, 200),
            ('cora', 'POST', f'/task/{t}/hand-over', {'from': 'hand-over', 'team': 'norr'}, 422),
            ('cora', 'GET', '/feeds', None, 200),
            ('otto', 'GET', '/feeds', None, 200),
            ('audrey', 'GET', '/access-log?from=2000-01-01', None, 200),
            ('audrey', 'GET', '/report', None, 200),
            ('cora', 'GET', f'/report?year={TODAY.year - 1}', None, 200),
            ('audrey', 'GET', '/access-log?household=x', None, 422),
            ('audrey', 'GET', f'/household/{h}', None, 403),
            ('mallory', 'GET', '/', None, 403),
        ]

    def test_every_page_in_every_language(self):
        h, t = self.household('H2'), self.task('H2')
        forms = {f'/task/{t}/contact': f'/household/{h}', f'/task/{t}/follow-up': f'/household/{h}',
                 f'/task/{t}/hand-over': f'/task/{t}/hand-over'}
        self.get('anna.k', f'/household/{h}')
        self.get('cora', f'/household/{h}')
        for lang in languages():
            giveaways = Giveaways(lang)
            for login, method, path, fields, status in self.pages():
                s = Session(self.web.address, login)
                s.extra = {'Accept-Language': f'{lang};q=0.9, de;q=0.5'}
                if method == 'POST':
                    # The form's page first, for the session and its token.
                    s.get(forms.get(path, path))
                r = s.get(path) if method == 'GET' else s.post(path, fields)
                what = f'{lang}: {login} {method} {path}'
                self.assertEqual(r.status, status, f'{what}: {r.text[:500]}')
                page_lang, text = page_text(r.text)
                self.assertEqual(page_lang, lang, what)
                self.assertEqual(giveaways.found(text), [], f'{what}: text of another language')

    def test_the_person_chooses_else_the_browser_else_the_installation(self):
        s = Session(self.web.address, 'erik.l')
        self.assertIn('<html lang="sv">', s.get('/').text, 'no Accept-Language: the installation\'s language')
        s.extra = {'Accept-Language': 'nb-NO, nb;q=0.9, en;q=0.5'}
        self.assertIn('<html lang="nb">', s.get('/').text)
        s.extra = {'Accept-Language': 'de, fr'}
        self.assertIn('<html lang="sv">', s.get('/').text)
        s.extra = {'Accept-Language': 'nb'}
        r = s.get('/settings')
        self.assertIn('id="settings-language-browser" name="language" value="" checked', r.text)
        self.assertEqual(s.post('/settings', {'language': 'en'}).status, 303)
        self.assertEqual(self.db.query("SELECT login, language FROM bokvar.actor_setting"), [['erik.l', 'en']])
        r = s.get('/settings?done=saved')
        self.assertIn('<html lang="en">', r.text, 'their choice over what the browser asks')
        self.assertIn('Your choice is saved.', r.text)
        self.assertIn('id="settings-language-en" name="language" value="en" checked', r.text)
        other = Session(self.web.address, 'anna.k')
        other.extra = {'Accept-Language': 'nb'}
        self.assertIn('<html lang="nb">', other.get('/').text)
        # Back to the browser's.
        self.assertEqual(s.post('/settings', {'language': ''}).status, 303)
        self.assertIn('<html lang="nb">', s.get('/').text)
        self.assertEqual(self.db.query("SELECT language IS NULL FROM bokvar.actor_setting WHERE login = 'erik.l'"),
                         [['t']])
        # What the setting cannot hold.
        r = s.post('/settings', {'language': 'xx'})
        self.assertEqual(r.status, 422)
        self.assertIn('id="settings-language-error"', r.text)


class Empty(unittest.TestCase):
    """The first day: the database migrated, the people known, no signal,
    household, task or log yet. Every page of every role opens, in every
    language, and bokvar-web stops clean (no sanitizer's report)."""

    @classmethod
    def setUpClass(cls):
        import tempfile
        from harness import BOKVARD, SOURCE_ROOT
        from webstack import Activator
        import webworld
        cls.tmp = tempfile.TemporaryDirectory(prefix='bokvar-web-empty-')
        cls.db, config = webworld.start(cls.tmp.name, BOKVARCTL, BOKVARD,
                                        os.path.join(SOURCE_ROOT, 'config', 'rules.yaml'), '  idle_exit: 0s\n',
                                        empty=True)
        cls.web = Activator([BOKVAR_WEB, '--config', config, '--log-target=console'],
                            os.path.join(cls.tmp.name, 'web.sock'), log_path=os.path.join(cls.tmp.name, 'web.log'))

    @classmethod
    def tearDownClass(cls):
        try:
            cls.web.stop_checked()
        finally:
            cls.db.drop()
            cls.tmp.cleanup()

    def test_every_page_opens(self):
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.household'), '0')
        year = datetime.date.today().year
        pages = {
            'anna.k': ['/', '/notice', '/settings'],
            'cora': ['/', '/teams', '/feeds', '/notice', '/settings', '/report', f'/report?year={year - 1}&compare=1',
                     '/report.csv'],
            'otto': ['/feeds', '/settings'],
            'audrey': ['/access-log', '/access-log?page=2', '/access-log.csv', '/report'],
        }
        for lang in ('sv', 'nb', 'en'):
            for login, paths in pages.items():
                for path in paths:
                    s = Session(self.web.address, login)
                    s.extra = {'Accept-Language': lang}
                    r = s.get(path)
                    self.assertEqual(r.status, 200, f'{lang} {login} {path}: {r.text[:300]}')


if __name__ == '__main__':
    if not BOKVAR_WEB:
        raise SystemExit('BOKVAR_WEB not set: run through meson test')
    main()
