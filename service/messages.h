/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One MESSAGE_ID per kind of journal entry; units/mapguard.catalog explains each for `journalctl -x`.
 * Generated once with `systemd-id128 new`: never change them, scripts and alerts match on them. */

#define MAPGUARD_MESSAGE_WARNING_STR "aeb43dafad1340dcb3525f43354f9f77"       /* PRIORITY=4 */
#define MAPGUARD_MESSAGE_CRITICAL_STR "97a063ad0492452d8a903b4676c6ab10"      /* PRIORITY=2 */
#define MAPGUARD_MESSAGE_RECOVERED_STR "b265fd977bf9420197f5625598480b8b"     /* PRIORITY=5 */
#define MAPGUARD_MESSAGE_LIMIT_CHANGED_STR "41c7ff3f4015437fa7a7e807ec5fc2ef" /* PRIORITY=5 */
#define MAPGUARD_MESSAGE_BELOW_TUNED_STR "1f27b5a2c5b9401fb1cf5ac515a12ee9"   /* PRIORITY=4 */
#define MAPGUARD_MESSAGE_LIMIT_HIT_STR "cb4a01a2520d4aadbc1a539961645fa6"     /* PRIORITY=3 */
#define MAPGUARD_MESSAGE_LIMIT_EXIT_STR "294b343c37a34f30b42319f7b8ab5ee5"    /* PRIORITY=3 */
#define MAPGUARD_MESSAGE_CRASH_LOOP_STR "a1117bf8707842b497d328ffecd6a343"    /* PRIORITY=3 */
