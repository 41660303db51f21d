/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The windows Swedish and Norwegian law give a household after a notice.
 * Each period names where it comes from: a lawyer checking this file
 * should not need to read anything else. */
#include "bokvar/ingest/deadline.h"

/* Sweden. */
/* 12 kap. 44 § jordabalken: a tenant whose lease was terminated for unpaid
 * rent keeps it by paying within three weeks of being served (the
 * återvinningsfrist), but only once social services have been notified,
 * so the three weeks run from the later of the two days. */
#define SE_TERMINATION_DAYS 21
/* Ellagen (1997:857), 11 kap.: the supplier notifies social services
 * and gives the customer three weeks to pay before disconnecting. */
#define SE_DISCONNECTION_DAYS 21
/* Lagen (1990:746) om betalningsföreläggande och handräckning: the
 * enforcement agency gives the debtor a time to respond (förklaringstid)
 * to a payment order, stated in its letter; it is "usually ten days"
 * (Kronofogden, kundservice: "Vad gör jag om kravet inte stämmer?"). A
 * feed that carries the letter's own date should map it to deadline. */
#define SE_PAYMENT_ORDER_DAYS 10

/* Norway. */
/* Tvangsfullbyrdelsesloven § 4-18: enforcement (here: forced eviction,
 * tvangsfravikelse) may be requested only after the debtor was warned and
 * fourteen days have passed since the warning was served. */
#define NO_WARNING_DAYS 14
/* Tvangsfullbyrdelsesloven § 13-6: the namsmann (namsfogden) presents the
 * landlord's request for eviction (begjæring om fravikelse) to the tenant,
 * who may respond before the eviction date is set (§ 13-12); the period
 * is set in the letter, two weeks as the namsmann usually sets it. */
#define NO_REQUEST_DAYS 14

day_t deadline_derive(enum jurisdiction j, enum signal_kind kind, day_t occurred_at, day_t notified_at) {
        if (occurred_at == DAY_NONE)
                return DAY_NONE;

        /* The day of a scheduled eviction is its own deadline everywhere;
         * a warning under § 4-18 is Norway's by what it is. */
        if (kind == SIGNAL_KIND_EVICTION_SCHEDULED)
                return occurred_at;
        if (kind == SIGNAL_KIND_EVICTION_WARNING)
                return occurred_at + NO_WARNING_DAYS;

        switch (j) {
        case JURISDICTION_SE:
                switch (kind) {
                case SIGNAL_KIND_TERMINATION_NOTICE:
                        return (notified_at != DAY_NONE && notified_at > occurred_at ? notified_at : occurred_at) +
                               SE_TERMINATION_DAYS;
                case SIGNAL_KIND_UTILITY_DISCONNECTION:
                        return occurred_at + SE_DISCONNECTION_DAYS;
                case SIGNAL_KIND_PAYMENT_ORDER:
                        return occurred_at + SE_PAYMENT_ORDER_DAYS;
                default:
                        return DAY_NONE;
                }
        case JURISDICTION_NO:
                switch (kind) {
                case SIGNAL_KIND_EVICTION_APPLICATION:
                        return occurred_at + NO_REQUEST_DAYS;
                default:
                        /* Norway has no återvinningsfrist after a termination
                         * and no statutory notice before a disconnection. */
                        return DAY_NONE;
                }
        case _JURISDICTION_MAX:
                break;
        }
        return DAY_NONE;
}
