/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <assert.h>
#include <stdlib.h>

#include "trend.h"

#define USEC_PER_MINUTE 60000000.0

void trend_add(Trend *t, uint64_t now_usec, unsigned map_count) {
        assert(t);

        t->t_usec[t->next] = now_usec;
        t->count[t->next] = map_count;
        t->next = (t->next + 1) % TREND_SAMPLES;
        if (t->n < TREND_SAMPLES)
                t->n++;
        if (t->readings < TREND_SETTLED_READINGS)
                t->readings++;
}

bool trend_settled(const Trend *t) {
        assert(t);
        return t->readings >= TREND_SETTLED_READINGS;
}

static int double_compare(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

/* Theil-Sen: the median of all pairwise slopes. A least-squares fit would follow a single bad sample
 * (a count read mid-munmap, a burst of short-lived mappings); the median of the 28 slopes of 8
 * samples ignores it, since one sample takes part in only 7 of them. */
double trend_growth_per_minute(const Trend *t) {
        double slopes[TREND_SAMPLES * (TREND_SAMPLES - 1) / 2];
        size_t n = 0;

        assert(t);

        if (!trend_settled(t))
                return 0.0;
        for (unsigned i = 0; i < t->n; i++)
                for (unsigned j = i + 1; j < t->n; j++) {
                        double dt, dc;

                        if (t->t_usec[i] == t->t_usec[j])
                                continue;
                        /* Differences as doubles: the order of samples in the ring does not matter,
                         * since (cj - ci) / (tj - ti) is symmetric in i and j. */
                        dt = (double) t->t_usec[j] - (double) t->t_usec[i];
                        dc = (double) t->count[j] - (double) t->count[i];
                        slopes[n++] = dc / dt * USEC_PER_MINUTE;
                }

        double median;

        if (n == 0)
                return 0.0;
        qsort(slopes, n, sizeof(double), double_compare);
        median = n % 2 ? slopes[n / 2] : (slopes[n / 2 - 1] + slopes[n / 2]) / 2.0;
        /* A flat pair read in ring order (later sample first) gives 0 / -dt = -0, which clients
         * would print as "-0": no growth is +0. */
        return median == 0.0 ? 0.0 : median;
}

uint64_t trend_seconds_to_limit(const Trend *t, unsigned map_count, unsigned max_map_count) {
        double growth, secs;

        if (map_count >= max_map_count)
                return 0;
        growth = trend_growth_per_minute(t);
        if (!(growth > 0.0))
                return UINT64_MAX;
        secs = (double) (max_map_count - map_count) / growth * 60.0;
        if (secs >= (double) (UINT64_MAX - 1))
                return UINT64_MAX - 1;
        /* Rounded up by hand: ceil() would pull in libm for one call. */
        uint64_t s = (uint64_t) secs;
        return (double) s < secs ? s + 1 : s;
}
