-- SPDX-License-Identifier: GPL-3.0-or-later
-- Every row accounted for (sql/005_accounting.sql, and the typed stage of
-- 007): a row quarantined for a field over its length keeps its fields for
-- a retry and fails nothing else (the lengths themselves are C's, in
-- unit-mapping), and an ingest whose counts do not add up fails. Driven as
-- bokvard drives it: claim, stage, bokvar.ingest_fetch().
BEGIN;
-- The helpers below name pg_temp.stage, which each fetch makes anew.
SET LOCAL check_function_bodies = off;
SELECT plan(8);

CREATE TEMP TABLE result (step text PRIMARY KEY, r jsonb);
CREATE FUNCTION pg_temp.fetch_info(extra jsonb) RETURNS jsonb
LANGUAGE sql AS $$
        SELECT jsonb_build_object('url', 'file:///feeds/f.csv', 'status', 0, 'bytes', 1,
                                  'started_at', extract(epoch FROM now()), 'interval', 900) || extra
$$;
-- Ingests pg_temp.stage as a fetch of feed f; its result is kept as step.
CREATE FUNCTION pg_temp.ingest(step text) RETURNS void
LANGUAGE sql AS $$
        INSERT INTO result SELECT step, bokvar.ingest_fetch('f', '{"source": "landlord"}',
                                                            pg_temp.fetch_info('{"header": ["id"]}'));
        SELECT bokvar.ingest_cleanup();
$$;
-- n signals as C stages them: R1 .. Rn at Vägen 1 .. n.
CREATE FUNCTION pg_temp.stage_signals(p_prefix text, n integer) RETURNS void
LANGUAGE sql AS $$
        INSERT INTO pg_temp.stage (seq, line, external_id, kind, occurred_at, address, postal_code, address_key,
                                   postal_key)
        SELECT i, i + 1, p_prefix || i, 'arrears', DATE '2026-11-01', 'Vägen ' || i, '602 23',
               'VÄGEN' || i || '|60223|', '60223'
        FROM generate_series(1, n) i
$$;
-- Text that does not compress: a B-tree entry of repeated letters would fit.
CREATE FUNCTION pg_temp.noise(n integer) RETURNS text
LANGUAGE sql AS $$
        SELECT left(string_agg(md5(i::text), ''), n) FROM generate_series(1, n / 32 + 1) i
$$;

-- ---------------------------------------------------------------------
-- Case 2 of issue 13: ten good rows and one with an address of 3,000
-- characters, which C quarantines for its length. The household index
-- used to refuse that row and with it the whole fetch, at every poll.
SELECT lives_ok($$SELECT bokvar.feed_claim('f', 'landlord', true)$$, 'claim');
SELECT bokvar.stage_create();
SELECT pg_temp.stage_signals('R', 10);
INSERT INTO pg_temp.stage (seq, line, reason, raw, fields, masked)
VALUES (11, 12, 'address has 3000 characters, more than the 200 allowed', 'R11;arrears;2026-11-01;' || pg_temp.noise(3000),
        ARRAY['R11', 'arrears', '2026-11-01', pg_temp.noise(3000), '602 23'], 'R11;arrears;2026-11-01;***;***');
SELECT pg_temp.ingest('long');
SELECT is((SELECT r - 'fetch_id' FROM result WHERE step = 'long'),
          '{"rows_read": 11, "accepted": 10, "updated": 0, "duplicate": 0, "quarantined": 1, "not_modified": false}',
          'a 3,000-character address: that row quarantined, the ten others ingested');
SELECT results_eq($$SELECT line, reason, fields[4] = pg_temp.noise(3000), masked FROM bokvar.quarantine$$,
                  $$VALUES (12, 'address has 3000 characters, more than the 200 allowed', true, 'R11;arrears;2026-11-01;***;***')$$,
                  'quarantined with its reason, its fields kept for a retry, and what operators see of it');

-- ---------------------------------------------------------------------
-- The counts must add up. A fault that loses a row without an error (a
-- trigger that skips it) makes the ingest fail, and nothing of it stays.
CREATE FUNCTION pg_temp.lose_z2() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RETURN CASE WHEN NEW.external_id = 'Z2' THEN NULL ELSE NEW END; END $$;
CREATE TRIGGER lose_z2 BEFORE INSERT ON bokvar.signal FOR EACH ROW EXECUTE FUNCTION pg_temp.lose_z2();
SELECT bokvar.stage_create();
SELECT pg_temp.stage_signals('Z', 3);
SELECT throws_ok($$SELECT pg_temp.ingest('lost')$$,
        'XX000', 'the counts do not add up: 3 rows read, 2 accepted, 0 updated, 0 duplicate, 0 quarantined, where '
                 'the rows show 3 read, 3 new, 0 changed, 0 duplicate, 0 quarantined',
        'a row lost without an error fails the ingest, saying so');
DROP TRIGGER lose_z2 ON bokvar.signal;
DROP TABLE pg_temp.stage;
SELECT bokvar.stage_create();
SELECT pg_temp.stage_signals('Z', 3);
SELECT pg_temp.ingest('counted');
SELECT is((SELECT r - 'fetch_id' FROM result WHERE step = 'counted'),
          '{"rows_read": 3, "accepted": 3, "updated": 0, "duplicate": 0, "quarantined": 0, "not_modified": false}',
          'without the fault the same rows add up');
-- Delivered again, one changed: a duplicate, an update.
SELECT bokvar.stage_create();
SELECT pg_temp.stage_signals('Z', 3);
UPDATE pg_temp.stage SET occurred_at = DATE '2026-11-02' WHERE external_id = 'Z3';
SELECT pg_temp.ingest('again');
SELECT is((SELECT r - 'fetch_id' FROM result WHERE step = 'again'),
          '{"rows_read": 3, "accepted": 0, "updated": 1, "duplicate": 2, "quarantined": 0, "not_modified": false}',
          'again: two duplicates, one update');
-- Every fetch recorded adds up, and so do the feeds' totals.
SELECT is((SELECT count(*)::integer FROM bokvar.fetch WHERE rows_read <> accepted + updated + duplicate + quarantined), 0,
          'every fetch: rows read = accepted + updated + duplicate + quarantined');
SELECT is((SELECT count(*)::integer FROM bokvar.feed
           WHERE total_rows_read <> total_accepted + total_updated + total_duplicate + total_quarantined), 0,
          'every feed''s totals add up');

SELECT * FROM finish();
ROLLBACK;
