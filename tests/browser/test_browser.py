#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""bokvar-web as caseworkers, coordinators and auditors meet it: headless
Chromium under Selenium, through a real Apache (Basic authentication
standing in for the municipality's identity provider) in front of the real
bokvar-web on its Unix socket, the real database with real actors. Every
page is checked with axe-core, in every language; the worklist, a
household and the report page (in Swedish and Norwegian) are saved as
screenshots. One browser for the whole class."""

import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'integration'))

from harness import BOKVARCTL, BOKVARD, SLOW, SOURCE_ROOT, main  # noqa: E402
from identity import person  # noqa: E402
from webstack import Activator, Apache, Browser, proxy_user  # noqa: E402
import webworld  # noqa: E402

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

BOKVAR_WEB = os.environ.get('BOKVAR_WEB', '')
BUILD_ROOT = os.environ.get('BUILD_ROOT', '')
AXE_VERSION = '4.10.2'
TODAY = datetime.date.today()


def axe_source():
    """axe-core from npm, installed once into the build directory."""
    prefix = os.path.join(BUILD_ROOT, 'axe')
    path = os.path.join(prefix, 'node_modules', 'axe-core', 'axe.min.js')
    if not os.path.exists(path):
        subprocess.run(['npm', 'install', '--silent', '--no-save', '--no-package-lock', '--no-audit', '--no-fund',
                        '--prefix', prefix, f'axe-core@{AXE_VERSION}'], check=True, timeout=300)
    with open(path) as f:
        return f.read()


class Browse(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix='bokvar-browser-')
        cls.dir = cls.tmp.name
        # Apache's workers (www-data, when run as root) reach the socket here.
        os.chmod(cls.dir, 0o755)
        cls.db, cls.config = webworld.start(cls.dir, BOKVARCTL, BOKVARD,
                                            os.path.join(SOURCE_ROOT, 'config', 'rules.yaml'),
                                            f'  idle_exit: 0s\n  trusted_users: [{proxy_user()}]\n')
        cls.socket = os.path.join(cls.dir, 'web.sock')
        cls.web = Activator([BOKVAR_WEB, '--config', cls.config, '--log-target=console'], cls.socket,
                            log_path=os.path.join(cls.dir, 'web.log'), mode=0o666)
        cls.apache = Apache(cls.dir, cls.socket, webworld.LOGINS)
        cls.axe = axe_source()
        cls.browser = Browser(cls.dir)
        cls.shots = os.path.join(BUILD_ROOT, 'meson-logs', 'screenshots')
        os.makedirs(cls.shots, exist_ok=True)

    @classmethod
    def tearDownClass(cls):
        cls.browser.quit()
        cls.apache.stop()
        try:
            cls.web.stop_checked()
        finally:
            cls.db.drop()
            cls.tmp.cleanup()

    # -- helpers --

    def sign_on(self, login, language='sv'):
        self.browser.sign_on(self.apache.auth(login), language)

    def open(self, path):
        self.browser.get(self.apache.url + path)
        return self.browser.driver

    def submit(self, selector):
        """Clicks a form's button and waits for the page it leads to."""
        from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
        from selenium.webdriver.support.ui import WebDriverWait
        d = self.browser.driver
        old = d.find_element(By.TAG_NAME, 'html')
        d.find_element(By.CSS_SELECTOR, selector).click()

        def left(_):
            # Chromium reports the old page's node either as stale or, while
            # the new document is being swapped in, as not belonging to it.
            try:
                old.is_enabled()
                return False
            except StaleElementReferenceException:
                return True
            except WebDriverException as e:
                if 'does not belong to the document' in str(e):
                    return True
                raise
        WebDriverWait(d, 30 * SLOW).until(left)
        WebDriverWait(d, 30 * SLOW).until(lambda _: d.execute_script('return document.readyState') == 'complete')

    def text(self):
        return self.browser.driver.find_element(By.TAG_NAME, 'body').text

    def source(self):
        return self.browser.driver.page_source

    def assert_accessible(self, what, lang='sv'):
        """Zero axe-core violations on the page shown now, in lang."""
        d = self.browser.driver
        d.execute_script(self.axe)
        violations = d.execute_async_script(
                'const done = arguments[arguments.length - 1];'
                'axe.run(document).then(r => done(r.violations.map(v => ({id: v.id, help: v.help, '
                'nodes: v.nodes.map(n => n.target.join(" "))}))))')
        self.assertEqual(violations, [], f'{what}: axe-core found {json.dumps(violations, indent=1)}')
        self.assertEqual(d.find_element(By.TAG_NAME, 'html').get_attribute('lang'), lang, what)

    def household(self, external_id):
        return webworld.household(self.db, external_id)

    def task(self, external_id):
        return webworld.task(self.db, external_id)

    def reads(self, household):
        return webworld.reads(self.db, household)

    # -- the tests, in the order a caseworker's day goes --

    def test_1_worklist_household_contact_close(self):
        self.sign_on('anna.k')
        d = self.open('/')
        self.assertIn('Arbetslista', d.title)
        self.assertIn('Inloggad som anna.k', self.text())
        rows = d.find_elements(By.CSS_SELECTOR, 'tbody tr')
        self.assertEqual(len(rows), 3)
        self.assert_accessible('the worklist')
        self.browser.screenshot(os.path.join(self.shots, 'worklist.png'))

        h, t = self.household('H1'), self.task('H1')
        before = self.reads(h)
        self.submit(f'a[href="/household/{h}#task-{t}"]')
        self.assertIn(f'Hushåll {h}', d.title)
        self.assertIn('Åsa Öberg', self.text())
        self.assertEqual(self.reads(h), before + 1)
        self.assert_accessible('a household')
        self.browser.screenshot(os.path.join(self.shots, 'household.png'))
        print(f'screenshots: {self.shots}/worklist.png, {self.shots}/household.png', file=sys.stderr)

        # A contact attempt, by the form, as a person fills it in.
        d.find_element(By.ID, 'contact-channel-home_visit').click()
        d.find_element(By.ID, 'contact-reached-yes').click()
        d.find_element(By.ID, 'contact-note').send_keys('Träffade Åsa; hon ringer hyresvärden i dag.')
        self.submit('form[action$="/contact"] button')
        self.assertIn('Kontaktförsöket är registrerat.', self.text())
        self.assertIn('Hembesök, nådde dem', self.text())
        self.assertEqual(self.reads(h), before + 2)
        self.assertEqual(self.db.query(f'SELECT channel, reached, by FROM bokvar.contact WHERE task_id = {t}'),
                         [['home_visit', 't', 'anna.k']])

        # A form with mistakes: said at the top, each linked to its field.
        self.submit('form[action$="/contact"] button')
        summary = d.find_element(By.CSS_SELECTOR, '.error-summary')
        self.assertIn('Välj hur du försökte nå hushållet.', summary.text)
        self.assert_accessible('a household with a refused form')
        self.open(f'/household/{h}')

        # Closed, with an outcome.
        from selenium.webdriver.support.ui import Select
        Select(d.find_element(By.ID, 'close-outcome')).select_by_value('kept_home')
        d.find_element(By.ID, 'close-note').send_keys('Skulden betald.')
        self.submit('form[action$="/close"] button')
        self.assertIn('Uppgiften är stängd.', self.text())
        self.assertEqual(self.db.query(f'SELECT status, outcome FROM bokvar.task WHERE id = {t}'),
                         [['closed', 'kept_home']])
        self.open('/')
        self.assertEqual(len(d.find_elements(By.CSS_SELECTOR, f'a[href$="#task-{t}"]')), 0)

    def test_2_another_teams_household_and_task(self):
        self.sign_on('anna.k')
        h, t = self.household('H5'), self.task('H5')
        before = self.reads(h)
        for path in (f'/household/{h}', f'/task/{t}'):
            self.open(path)
            self.assertIn('Du har inte behörighet', self.text(), path)
            self.assertNotIn('Erik Nyström', self.source())
            self.assertNotRegex(self.source(), r'\d{8}-\d{4}')
            self.assert_accessible(f'403 for {path}')
        self.assertEqual(self.reads(h), before)
        # What Apache is told by the browser does not count: it says who signed on.
        r = self.apache.request('anna.k', 'GET', f'/household/{h}', {'X-Remote-User': 'sara.b'})
        self.assertEqual(r.status, 403)
        r = self.apache.request(None, 'GET', '/', {'X-Remote-User': 'sara.b'})
        self.assertEqual(r.status, 401)   # Apache's own: nobody signed on
        # Nobody Apache does not know, and a person bokvar does not know.
        self.sign_on('mallory')
        self.open('/')
        self.assertIn('Ditt användarnamn är inte känt i bokvar', self.text())
        self.assert_accessible('403 for an unknown person')

    def test_3_forged_identity_straight_to_the_socket(self):
        if os.geteuid() != 0:
            self.skipTest('needs root to connect as a user other than Apache\'s')
        p = subprocess.run(['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', 'curl', '-s',
                            '-w', '\n%{http_code}', '--unix-socket', self.socket, '-H', 'X-Remote-User: sara.b',
                            f'http://localhost/household/{self.household("H5")}'],
                           capture_output=True, text=True)
        self.assertEqual(p.stdout.splitlines()[-1], '403', p.stdout + p.stderr)
        self.assertNotIn('Erik', p.stdout)
        self.assertIn('Refused a request from a Unix socket peer', self.web.output())

    def test_4_form_without_its_token(self):
        self.sign_on('erik.l')
        h, t = self.household('H2'), self.task('H2')
        d = self.open(f'/household/{h}')
        d.execute_script("document.querySelectorAll('form[action$=\"/ack\"] input[name=csrf]')"
                         ".forEach(e => e.remove())")
        self.submit('form[action$="/ack"] button')
        self.assertIn('Formuläret skickades inte från den här sidan', self.text())
        self.assertIsNone(self.db.value(f'SELECT acknowledged_at FROM bokvar.task WHERE id = {t}'))
        self.assert_accessible('403 for a form without its token')

    def test_5_notice_by_hand(self):
        self.sign_on('anna.k')
        d = self.open('/notice')
        self.assert_accessible('the notice form')
        from selenium.webdriver.support.ui import Select

        def fill(pnr):
            Select(d.find_element(By.ID, 'notice-kind')).select_by_value('termination_notice')
            # A date field takes what the browser's own picker would give it.
            d.execute_script("document.getElementById('notice-occurred_at').value = arguments[0]",
                             (TODAY - datetime.timedelta(days=1)).isoformat())
            for field, value in (('person_id', pnr), ('name', 'Gustav Holm'), ('address', 'Norra Vägen 3'),
                                 ('postal_code', '603 50'), ('city', 'Norrköping'), ('children', '2'),
                                 ('amount', '12 345,50')):
                e = d.find_element(By.ID, f'notice-{field}')
                e.clear()
                e.send_keys(value)
            self.submit('form[action="/notice"] button')

        good = person(50)
        bad = good[:-1] + str((int(good[-1]) + 1) % 10)
        signals = self.db.value('SELECT count(*) FROM bokvar.signal')
        fill(bad)
        summary = d.find_element(By.CSS_SELECTOR, '.error-summary')
        self.assertIn('Personnumrets kontrollsiffra är fel.', summary.text)
        field = d.find_element(By.ID, 'notice-person_id')
        self.assertEqual(field.get_attribute('aria-invalid'), 'true')
        self.assertEqual(field.get_attribute('value'), bad)
        self.assertEqual(d.find_element(By.ID, 'notice-name').get_attribute('value'), 'Gustav Holm')
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.signal'), signals)
        self.assert_accessible('the notice form refused')
        fill(good)
        self.assertIn('Underrättelsen är registrerad och hushållet har fått poäng.', self.text())
        self.assertIn('Registrerad för hand (anna.k)', self.text())
        h = int(re.search(r'/household/(\d+)', d.current_url).group(1))
        t = self.db.value(f"SELECT id FROM bokvar.task WHERE household_id = {h} AND status = 'open'")
        self.assertIsNotNone(t)
        self.open('/')
        row = d.find_element(By.CSS_SELECTOR, f'a[href="/household/{h}#task-{t}"]').find_element(By.XPATH, './../..')
        self.assertIn('Uppsökande', row.text)

    def test_6_coordinator_and_the_proxy_log(self):
        self.sign_on('cora')
        self.open('/?class=urgent')
        self.assert_accessible('a filtered worklist')
        self.open('/nowhere')
        self.assert_accessible('404')
        log = self.apache.access_log()
        self.assertIn('"GET /?class=urgent'.replace('/?class=urgent', '/'), log)
        self.assertNotIn('class=urgent', log)
        self.assertNotIn('Åsa', log)
        self.assertNotRegex(log, r'\d{8}-?\d{4}')


    def test_7_coordinator_sees_every_team_and_the_report_with_charts(self):
        self.sign_on('cora')
        d = self.open('/teams')
        teams = [e.text for e in d.find_elements(By.CSS_SELECTOR, 'tbody th[scope="row"] a')]
        self.assertEqual(teams, ['norr', 'centrum', 'central'])
        # A team's worklist, as its caseworkers filter it.
        self.submit('a[href="/?team=centrum"]')
        self.assertEqual(Select(d.find_element(By.ID, 'filter-team')).first_selected_option.get_attribute('value'),
                         'centrum')
        self.assertEqual(len(d.find_elements(By.CSS_SELECTOR, 'tbody tr')),
                         int(self.db.value("SELECT count(*) FROM bokvar.task WHERE team = 'centrum' AND status = 'open'")))
        for lang, title in (('sv', 'Årsrapport'), ('nb', 'Årsrapport')):
            self.sign_on('cora', lang)
            d = self.open('/report')
            self.assertIn(f'{title} {TODAY.year}', d.title)
            charts = d.find_elements(By.CSS_SELECTOR, 'figure.chart svg[role="img"]')
            self.assertEqual(len(charts), 4)
            for svg in charts:
                names = svg.get_attribute('aria-labelledby').split()
                self.assertTrue(all(d.find_element(By.ID, n).get_attribute('textContent') for n in names))
                self.assertGreater(svg.size['width'], 300, 'the chart is drawn at a size one can read')
            self.assertEqual(len(d.find_elements(By.CSS_SELECTOR, 'figure.chart table.chart-data')), 4)
            self.assert_accessible(f'the report page in {lang}', lang)
            self.browser.screenshot(os.path.join(self.shots, f'report-{lang}.png'))
        print(f'screenshots: {self.shots}/report-sv.png, {self.shots}/report-nb.png', file=sys.stderr)
        # The year before, by the picker.
        Select(d.find_element(By.ID, 'report-year')).select_by_value(str(TODAY.year - 1))
        self.submit('form[action="/report"] button')
        self.assertIn(f'Årsrapport {TODAY.year - 1}', d.title)

    def test_8_auditor_reads_the_access_log_and_opens_no_household(self):
        h = self.household('H1')
        self.sign_on('anna.k')
        self.open(f'/household/{h}')
        self.sign_on('audrey')
        d = self.open('/')
        self.assertTrue(d.current_url.endswith('/access-log'), d.current_url)
        d.find_element(By.ID, 'search-household').send_keys(str(h))
        self.submit('form[action="/access-log"] button')
        readers = [e.text.split()[0] for e in d.find_elements(By.CSS_SELECTOR, '#main section tbody tr td:nth-child(2)')]
        self.assertIn('anna.k', readers)
        self.assertNotIn('Åsa', self.source())
        self.assert_accessible('the access log')
        before = self.reads(h)
        self.open(f'/household/{h}')
        self.assertIn('Du har inte behörighet', self.text())
        self.assertNotIn('Åsa', self.source())
        self.assertEqual(self.reads(h), before)
        self.assert_accessible('403 for an auditor on a household')

    def test_9_caseworker_opens_neither(self):
        self.sign_on('anna.k')
        for path in ('/teams', '/report', '/access-log', '/feeds'):
            self.open(path)
            self.assertIn('Du har inte behörighet', self.text(), path)
            self.assertEqual(self.browser.driver.find_elements(By.CSS_SELECTOR, 'table'), [], path)
        r = self.apache.request('anna.k', 'GET', '/report')
        self.assertEqual(r.status, 403)
        r = self.apache.request('anna.k', 'GET', '/access-log.csv')
        self.assertEqual(r.status, 403)

    def test_every_page_in_every_language_is_accessible(self):
        h, t = self.household('H2'), self.task('H2')
        pages = [('erik.l', '/'), ('erik.l', f'/household/{h}'), ('erik.l', '/notice'), ('erik.l', '/settings'),
                 ('cora', '/teams'), ('cora', f'/task/{t}/hand-over'), ('cora', '/feeds'), ('cora', '/report'),
                 ('audrey', '/access-log?from=2000-01-01'), ('otto', '/feeds'), ('erik.l', '/report'),
                 ('erik.l', '/nowhere')]
        for lang in ('sv', 'nb', 'en'):
            for login, path in pages:
                self.sign_on(login, lang)
                self.open(path)
                self.assert_accessible(f'{login} {path} in {lang}', lang)


if __name__ == '__main__':
    if not BOKVAR_WEB:
        raise SystemExit('BOKVAR_WEB not set: run through meson test')
    main()
