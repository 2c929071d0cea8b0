/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-bus.h>

typedef struct TuneOptions {
        bool json;        /* One JSON document instead of text. */
        bool apply;       /* tune: write the sysctl.d file and the live value (caller checked: root). */
        const char *root; /* tune: where /etc (and for --apply /proc) are (NULL: /). */
        size_t columns;   /* Terminal width to wrap the reason to; 0: no wrapping. */
} TuneOptions;

/* `recommend`: Recommend()'s value and reason. Returns 0 or -errno (printed; -EACCES: access denied). */
int tune_show_recommendation(sd_bus *bus, const TuneOptions *options);

/* `tune`: the recommendation beside MaxMapCount and the tuned value, read from the sysctl.d files of
 * options->root as they are now (tune_read_tuned(): TunedMaxMapCount only when they cannot be read), and
 * which file, if one sorts after ours and sets another value, would undo --apply at boot (exit code 0); with
 * options->apply, writes max(live, tuned, recommended) to /etc/sysctl.d/90-mapguard-tuned.conf and
 * /proc/sys/vm/max_map_count, saying what it did, and reads the sysctl.d files back to say which file, if
 * not ours, wins at boot. With options->json the document is printed whenever the file was written. Returns
 * 0, -errno (printed; -EROFS etc. after the file was written; -EACCES: access denied), or -EEXIST when
 * another sysctl.d file overrides ours at boot (printed). */
int tune_show(sd_bus *bus, const TuneOptions *options);

/* The verbs `recommend` and `tune [--apply]` (VerbFunctions, verbs.h; userdata is main()'s sd_bus **):
 * tune_show_recommendation() and tune_show() with the command line's options. verb_tune() refuses --apply
 * to a user other than root before the bus is asked (-EACCES). Each returns what those return. */
int verb_recommend(int argc, char *argv[], void *userdata);
int verb_tune(int argc, char *argv[], void *userdata);
