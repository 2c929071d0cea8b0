/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the users' own systemd managers say about their units, read from the journal: a stop someone asked
 * for (systemctl --user stop or restart: "Stopping UNIT...", then "Stopped UNIT.") and how a unit's main
 * process ended when it failed ("Main process exited, code=..., status=..."); and that a unit starts
 * ("Starting UNIT..."), so that its control group is looked for at once, not only at the next full pass
 * (a user's manager tells nobody else of its units). mapguardd cannot ask a
 * user's manager on the bus: the user's bus refuses uid 0, and the manager's private socket lies in
 * /run/user/UID (mode 0700), which needs CAP_DAC_OVERRIDE and which ProtectHome=yes hides. The manager's
 * journal entries say the same, and root owns the journal files.
 *
 * Only entries from a user manager itself count: _SYSTEMD_UNIT=user@UID.service, _SYSTEMD_USER_UNIT=
 * init.scope and _UID=UID, trusted fields that journald sets. A user who moves a process of their own into
 * their manager's init.scope can forge these entries, about their own units only. */

#include "manager.h"

/* The MESSAGE_IDs of systemd (src/systemd/sd-messages.h) that a user manager logs. */
#define SYSTEMD_MESSAGE_UNIT_STOPPING "de5b426a63be47a7b6ac3eaac82e2f6f"
#define SYSTEMD_MESSAGE_UNIT_STOPPED "9d1aaa27d60140bd96365438aad20286"
#define SYSTEMD_MESSAGE_UNIT_PROCESS_EXIT "98e322203f7a4ed290d09fe03c09fe15"
#define SYSTEMD_MESSAGE_UNIT_STARTING "7d4958e842da4a758f6c1cdc7b36dcc5"

/* Starts following the journal (from its end) in the event loop, when it is not already. Returns 0, or
 * -errno when the journal cannot be opened (logged once): user units' exits are then judged without
 * their managers' word. */
int manager_user_log_start(Manager *m);

/* Stops following the journal. */
void manager_user_log_stop(Manager *m);

/* One entry of a user manager, as manager_user_log_apply() takes it: the fields, NULL when absent. */
typedef struct UserLogEntry {
        const char *message_id, *uid, *systemd_unit, *systemd_user_unit;     /* trusted: journald's own */
        const char *user_unit, *job_id, *job_type, *exit_code, *exit_status; /* the manager's */
} UserLogEntry;

/* Applies one entry: a stop of user@UID.service/USER_UNIT asked for, or over, or how its main process
 * ended. Entries not from a user manager itself are ignored. Returns true when the entry was used. */
bool manager_user_log_apply(Manager *m, const UserLogEntry *e);
