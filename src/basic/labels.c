/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Labels for the vocabulary, in the enums' order. */
#include <stddef.h>

#include "bokvar/basic/l10n.h"
#include "bokvar/basic/labels.h"
#include "bokvar/basic/macro.h"
#include "bokvar/basic/util.h"
#include "bokvar/basic/vocabulary.h"

static const char *const signal_kind_labels[] = {
        [SIGNAL_KIND_ARREARS] = N_("Rent arrears"),
        [SIGNAL_KIND_TERMINATION_NOTICE] = N_("Termination of the lease"),
        [SIGNAL_KIND_DISTURBANCE] = N_("Disturbance"),
        [SIGNAL_KIND_SANITARY] = N_("Sanitary problems"),
        [SIGNAL_KIND_PAYMENT_ORDER] = N_("Payment order"),
        [SIGNAL_KIND_EVICTION_APPLICATION] = N_("Eviction application"),
        [SIGNAL_KIND_EVICTION_SCHEDULED] = N_("Eviction scheduled"),
        [SIGNAL_KIND_EVICTION_EXECUTED] = N_("Eviction carried out"),
        [SIGNAL_KIND_EVICTION_CANCELLED] = N_("Eviction cancelled"),
        [SIGNAL_KIND_UTILITY_DISCONNECTION] = N_("Electricity or heating to be cut off"),
        [SIGNAL_KIND_RESOLVED] = N_("Resolved"),
        [SIGNAL_KIND_EVICTION_WARNING] = N_("Warning before forced eviction"),
        [SIGNAL_KIND_WELFARE_WARNING] = N_("Warning from the welfare office"),
};
_Static_assert(ELEMENTSOF(signal_kind_labels) == _SIGNAL_KIND_MAX, "a signal kind without a label");

static const char *const feed_source_labels[] = {
        [FEED_SOURCE_LANDLORD] = N_("Landlord"),
        [FEED_SOURCE_ENFORCEMENT] = N_("Enforcement agency"),
        [FEED_SOURCE_UTILITY] = N_("Utility"),
        [FEED_SOURCE_MANUAL] = N_("Registered by hand"),
        [FEED_SOURCE_WELFARE] = N_("Welfare office"),
};
_Static_assert(ELEMENTSOF(feed_source_labels) == _FEED_SOURCE_MAX, "a feed source without a label");

static const char *const risk_class_labels[] = {
        [RISK_CLASS_NONE] = N_("None"),
        [RISK_CLASS_WATCH] = N_("Watch"),
        [RISK_CLASS_OUTREACH] = N_("Outreach"),
        [RISK_CLASS_URGENT] = N_("Urgent"),
};
_Static_assert(ELEMENTSOF(risk_class_labels) == _RISK_CLASS_MAX, "a risk class without a label");

static const char *const task_outcome_labels[] = {
        [TASK_OUTCOME_KEPT_HOME] = N_("Kept their home"),
        [TASK_OUTCOME_PAYMENT_PLAN] = N_("Payment plan agreed"),
        [TASK_OUTCOME_REFERRED] = N_("Referred elsewhere"),
        [TASK_OUTCOME_DECLINED] = N_("Declined help"),
        [TASK_OUTCOME_NOT_REACHED] = N_("Could not be reached"),
        [TASK_OUTCOME_MOVED] = N_("Moved"),
        [TASK_OUTCOME_EVICTED] = N_("Evicted"),
        [TASK_OUTCOME_DUPLICATE] = N_("Duplicate task"),
        [TASK_OUTCOME_OTHER] = N_("Other"),
};
_Static_assert(ELEMENTSOF(task_outcome_labels) == _TASK_OUTCOME_MAX, "an outcome without a label");

static const char *const contact_channel_labels[] = {
        [CONTACT_CHANNEL_LETTER] = N_("Letter"),
        [CONTACT_CHANNEL_PHONE] = N_("Phone"),
        [CONTACT_CHANNEL_HOME_VISIT] = N_("Home visit"),
        [CONTACT_CHANNEL_DIGITAL] = N_("Digital"),
};
_Static_assert(ELEMENTSOF(contact_channel_labels) == _CONTACT_CHANNEL_MAX, "a contact channel without a label");

static const char *const actor_function_labels[] = {
        [ACTOR_FUNCTION_CASEWORKER] = N_("Caseworker"),
        [ACTOR_FUNCTION_COORDINATOR] = N_("Coordinator"),
        [ACTOR_FUNCTION_OPERATOR] = N_("Operator"),
        [ACTOR_FUNCTION_AUDITOR] = N_("Auditor"),
        [ACTOR_FUNCTION_CASE_SYSTEM] = N_("Case system"),
};
_Static_assert(ELEMENTSOF(actor_function_labels) == _ACTOR_FUNCTION_MAX, "a function of person without a label");

/* bokvar.task_event's kinds are a CHECK constraint, not an enum type (007
 * lists them): kept here beside it. */
static const char *const task_event_names[] = {
        "created", "escalated", "risk_lowered", "overdue", "acknowledged", "contacted", "closed", "follow_up",
        "reassigned", "handed_over", "children_corrected", NULL,
};
static const char *const task_event_labels[] = {
        N_("Task opened"), N_("Escalated"), N_("Risk lowered"), N_("Overdue"), N_("Acknowledged"),
        N_("Contact attempt"), N_("Closed"), N_("Follow-up date set"), N_("Reassigned"),
        N_("Handed over to another team"), N_("Number of children corrected"),
};
_Static_assert(ELEMENTSOF(task_event_labels) + 1 == ELEMENTSOF(task_event_names), "an event without a label");

/* The access log's paths: each SECURITY DEFINER read that logs (006, 007). */
static const char *const access_path_names[] = {
        "web.household", "household.show", "task.show", "case_system.read", "subject.export", "quarantine.raw", NULL,
};
static const char *const access_path_labels[] = {
        N_("The household's page"), N_("bokvarctl household show"), N_("bokvarctl task show"),
        N_("A case system's read"), N_("A data subject's copy"), N_("Quarantined rows as delivered"),
};
_Static_assert(ELEMENTSOF(access_path_labels) + 1 == ELEMENTSOF(access_path_names), "a path without a label");

static const char *lookup(const char *const *names, const char *const *labels, const char *value) {
        if (!value)
                return NULL;
        for (size_t i = 0; names[i]; i++)
                if (streq(names[i], value))
                        return _(labels[i]);
        return value;
}

const char *label_signal_kind(const char *kind) {
        return lookup(signal_kind_names, signal_kind_labels, kind);
}

const char *label_feed_source(const char *source) {
        return lookup(feed_source_names, feed_source_labels, source);
}

const char *label_risk_class(const char *risk_class) {
        return lookup(risk_class_names, risk_class_labels, risk_class);
}

const char *label_task_outcome(const char *outcome) {
        return lookup(task_outcome_names, task_outcome_labels, outcome);
}

const char *label_contact_channel(const char *channel) {
        return lookup(contact_channel_names, contact_channel_labels, channel);
}

const char *label_task_event(const char *kind) {
        return lookup(task_event_names, task_event_labels, kind);
}

const char *label_actor_function(const char *function) {
        return lookup(actor_function_names, actor_function_labels, function);
}

const char *label_access_path(const char *path) {
        return lookup(access_path_names, access_path_labels, path);
}
