/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"
#include "verbs.h"

const Verb *verb_find(const Verb verbs[], const char *name) {
        for (const Verb *v = verbs; v->name; v++)
                if (name ? streq(v->name, name) : (v->flags & VERB_DEFAULT))
                        return v;
        return NULL;
}

/* Says what is wrong with the number of words n (the verb counted). Returns -EINVAL, or 0 when n fits. */
static int verb_verify_count(const Verb *verb, unsigned n, char *argv[]) {
        if (n < verb->min_args) {
                fprintf(stderr, "'%s' needs %s.\n", verb->name, verb->args_help ?: "arguments");
                return -EINVAL;
        }
        if (verb->max_args == VERB_ANY || n <= verb->max_args)
                return 0;
        if (verb->max_args <= 1)
                fprintf(stderr, "'%s' takes no arguments.\n", verb->name);
        else
                /* The first one too many: "show a b" is often a unit name with a blank. */
                fprintf(stderr, "'%s' takes only %s; extra argument '%s'.\n", verb->name,
                        verb->args_help ?: "its arguments", argv[verb->max_args]);
        return -EINVAL;
}

/* The command-line option of a flag in VerbFlags, for the error that names it. */
static const char *verb_flag_option(VerbFlags flag) {
        return flag == VERB_APPLY ? "--apply" : "this option";
}

/* Says that an option given (a flag in `missing`) goes only with the verbs that have it. Returns -EINVAL. */
static int verb_refuse_option(const Verb verbs[], VerbFlags missing) {
        VerbFlags flag = missing & -missing; /* The lowest one: one complaint is enough. */
        const Verb *with = NULL;

        for (const Verb *v = verbs; v->name && !with; v++)
                if (v->flags & flag)
                        with = v;
        if (with)
                fprintf(stderr, "%s only goes with '%s'.\n", verb_flag_option(flag), with->name);
        else
                fprintf(stderr, "%s goes with no verb.\n", verb_flag_option(flag));
        return -EINVAL;
}

int dispatch_verb(int argc, char *argv[], const Verb verbs[], VerbFlags required, void *userdata) {
        const char *name = argc > 0 ? argv[0] : NULL;
        const Verb *verb;
        int r;

        verb = verb_find(verbs, name);
        if (!verb) {
                if (name)
                        fprintf(stderr, "Unknown verb '%s'. See '%s --help'.\n", name,
                                program_invocation_short_name);
                else
                        fprintf(stderr, "A verb is needed. See '%s --help'.\n",
                                program_invocation_short_name);
                return -EINVAL;
        }
        /* The default verb runs as if it had been named: its count includes it. */
        r = verb_verify_count(verb, argc > 0 ? (unsigned) argc : 1, argv);
        if (r < 0)
                return r;
        if (required & ~verb->flags)
                return verb_refuse_option(verbs, required & ~verb->flags);
        return verb->dispatch(argc, argv, userdata);
}
