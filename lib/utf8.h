/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Names that processes choose for themselves (comm, from /proc/PID/stat or the BPF iterator) are bytes,
 * not text: the kernel cuts comm at 15 bytes, also in the middle of a character, and prctl() takes
 * anything. D-Bus strings must be valid UTF-8 (sd-bus refuses a message otherwise, failing the whole
 * reply or signal) and so should journal fields: such names are made valid once, where they are read. */

#include <stddef.h>

/* The length of the well-formed UTF-8 sequence at S (1-4; 1 for any ASCII byte, NUL included), or 0 when
 * the byte at S starts none (a continuation byte, an overlong form, a surrogate, above U+10FFFF, or a
 * sequence cut short, by a NUL too). */
size_t utf8_sequence_length(const char *s);

/* Replaces, in place, every byte of S that does not belong to a well-formed UTF-8 sequence (RFC 3629:
 * no overlong forms, no surrogates, nothing above U+10FFFF, no cut sequence) by '?'. Returns S. */
char *utf8_make_valid(char *s);
