/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The verb table of mapguardctl, in the manner of systemd's *ctl tools: each verb names its function, how
 * many words it takes (the verb itself counted) and flags; dispatch_verb() finds the verb, checks the count
 * and runs it. Nothing here touches the bus: the verbs acquire it themselves, after their own checks. */

#include <limits.h>

/* min_args or max_args without a bound. */
#define VERB_ANY UINT_MAX

typedef enum VerbFlags {
        VERB_DEFAULT = 1 << 0, /* Run when no verb is given. */
        VERB_APPLY = 1 << 1,   /* Takes --apply; with --apply given, every other verb is refused. */
} VerbFlags;

/* Returns -errno on failure (already said on stderr), or the exit status (>= 0) on success: 0 for every
 * verb but `check`, whose plugin state (CHECK_OK .. CHECK_UNKNOWN) is its exit status. argv[0] is the verb
 * (or, for the default verb, argc is 0 and argv points to the end of the command line). */
typedef int (*VerbFunction)(int argc, char *argv[], void *userdata);

typedef struct Verb {
        const char *name;
        unsigned min_args; /* The verb counted: 1 for a verb without arguments. */
        unsigned max_args; /* The verb counted, or VERB_ANY. */
        VerbFlags flags;
        VerbFunction dispatch;
        const char *args_help; /* What the arguments are, for the count errors ("UNIT"); NULL: none. */
} Verb;

/* Returns the verb called name in the table (ended by an entry with name NULL), or NULL. */
const Verb *verb_find(const Verb verbs[], const char *name);

/* Runs the verb argv[0] (the VERB_DEFAULT one when argc is 0) with argv, after checking the number of
 * words against its min_args and max_args, and that it has every flag in `required` (the options given on
 * the command line that only some verbs take: VERB_APPLY for --apply). Returns -EINVAL after saying on
 * stderr what is wrong (an unknown verb, too few or too many arguments, an option the verb does not take),
 * or what the verb returned. */
int dispatch_verb(int argc, char *argv[], const Verb verbs[], VerbFlags required, void *userdata);
