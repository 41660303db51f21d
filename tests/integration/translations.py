# SPDX-License-Identifier: GPL-3.0-or-later
"""The catalogues in po/, for tests that read what a person reads: the
texts that would give away another language on a page or in a message of
language L, so that a test can fail on any text left untranslated (the
English of the sources on a Swedish page) or taken from the wrong
catalogue (Swedish on a Norwegian page)."""

import html.parser
import os
import re
import subprocess

SOURCE_ROOT = os.environ.get('SOURCE_ROOT', os.path.join(os.path.dirname(__file__), '..', '..'))
DIRECTIVE = re.compile(r'%(?:\d+\$)?[sdu%]|%l+[du]|%zu')


def _unquote(s):
    return re.sub(r'\\(.)', lambda m: {'n': '\n', 't': '\t'}.get(m.group(1), m.group(1)), s)


def catalogue(lang):
    """{msgid: [forms]} of po/LANG.po, fuzzy entries left out."""
    text = subprocess.run(['msgcat', '--no-wrap', '--no-location', os.path.join(SOURCE_ROOT, 'po', f'{lang}.po')],
                          capture_output=True, text=True, check=True).stdout
    entries = {}
    for block in text.split('\n\n'):
        msgid, forms, fuzzy = None, [], False
        for line in block.splitlines():
            if line.startswith('#,') and 'fuzzy' in line:
                fuzzy = True
            elif line.startswith('msgid '):
                msgid = _unquote(line[7:-1])
            elif line.startswith('msgid_plural '):
                forms.append(('plural-id', _unquote(line[14:-1])))
            elif line.startswith('msgstr'):
                forms.append(('str', _unquote(line.split(' ', 1)[1][1:-1])))
        if msgid and not fuzzy:
            entries[msgid] = [v for k, v in forms if k == 'str'], [v for k, v in forms if k == 'plural-id']
    return entries


def languages():
    with open(os.path.join(SOURCE_ROOT, 'po', 'LINGUAS')) as f:
        return [line.strip() for line in f if line.strip() and not line.startswith('#')]


def _fragments(text):
    """The pieces of a text between its format directives that say
    something on their own: two words or more."""
    for piece in DIRECTIVE.split(text):
        piece = piece.strip(' \t\n.,:;()–-')
        if ' ' in piece and len(piece) >= 8:
            yield piece


class Giveaways:
    """For a language: the fragments of every other language's texts (the
    sources' English among them) that never occur in its own."""

    def __init__(self, lang):
        self.lang = lang
        cats = {l: catalogue(l) for l in languages()}
        own = cats[lang]
        own_text = '\n'.join(f for forms, _ in own.values() for f in forms)
        foreign = set()
        for msgid, (forms, plurals) in own.items():
            texts = {msgid, *plurals}
            for other, cat in cats.items():
                if other != lang and msgid in cat:
                    texts.update(cat[msgid][0])
            for t in texts - set(forms):
                foreign.update(f for f in _fragments(t) if f not in own_text)
        self.fragments = sorted(foreign, key=len, reverse=True)

    def found(self, text):
        """The fragments of other languages in text."""
        text = re.sub(r'\s+', ' ', text)
        return [f for f in self.fragments if f in text]


class _Text(html.parser.HTMLParser):
    """What a person reads, or hears, of a page: its text and the
    attributes that are read out."""

    ATTRIBUTES = {'aria-label', 'title', 'alt', 'placeholder'}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self.lang = None
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag == 'html':
            self.lang = dict(attrs).get('lang')
        if tag in ('style', 'script'):
            self._skip += 1
        for k, v in attrs:
            if k in self.ATTRIBUTES and v:
                self.parts.append(v)

    def handle_endtag(self, tag):
        if tag in ('style', 'script'):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def page_text(document):
    """(the html element's lang, the page's text) of an HTML document."""
    p = _Text()
    p.feed(document)
    return p.lang, ' '.join(p.parts)
