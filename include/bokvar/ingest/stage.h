/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Turns the records a reader finds into rows of COPY text for the staging
 * table pg_temp.stage (seq, line, fields text[], doc jsonb, raw text, error text). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "bokvar/basic/util.h"
#include "bokvar/ingest/reader.h"

/* The SQL that creates the staging table and starts the COPY into it. */
#define STAGE_CREATE_SQL                                                                                     \
        "CREATE TEMP TABLE stage (seq integer, line integer, fields text[], doc jsonb, raw text, error text) " \
        "ON COMMIT DROP"
#define STAGE_COPY_SQL "COPY stage (seq, line, fields, doc, raw, error) FROM STDIN"

struct stage {
        struct buf out;        /* COPY text not yet handed on */
        char **header;         /* CSV column names */
        uint64_t rows;         /* rows staged, readable or not */
        char *next;            /* JSON paging: the next page's URL or cursor */
};

/* The reader callbacks that fill a stage (userdata: struct stage *). */
extern const struct reader_ops stage_reader_ops;

void stage_done(struct stage *s);
