/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `mapguardctl metrics` (client/metrics.c) against a real Manager over a real connection: the text it
 * rebuilds from the D-Bus API is the daemon's mapguard.prom, but for mapguard_scan_duration_seconds,
 * which the API does not carry. */

#include "bus-fixture.h"
#include "manager-export.h"
#include "metrics.h"

/* Drops the lines that name mapguard_scan_duration_seconds (its HELP, TYPE and sample) from TEXT. */
static void drop_scan_duration(char *text) {
        static const char family[] = "mapguard_scan_duration_seconds";
        char *in = text, *out = text;

        while (*in) {
                char *eol = strchrnul(in, '\n');
                size_t len = (size_t) (eol - in) + (*eol ? 1 : 0);

                if (!memmem(in, (size_t) (eol - in), family, strlen(family))) {
                        memmove(out, in, len);
                        out += len;
                }
                in += len;
        }
        *out = '\0';
}

static void test_metrics_match_textfile(void **state) {
        _cleanup_free_ char *client_text = NULL, *daemon_text = NULL;
        int fds[2], pipefd[2];
        sd_bus *client = NULL;
        pid_t pid;

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                /* The daemon: the fixture's Manager, its textfile text on the pipe, then serving. */
                Fixture *f = fixture_new();
                _cleanup_free_ char *text = NULL;

                close(fds[1]);
                close(pipefd[0]);
                fixture_serve(f, fds[0]);
                if (manager_export_format(f->m, &text) < 0 || write(pipefd[1], text, strlen(text)) < 0)
                        _exit(EXIT_FAILURE);
                close(pipefd[1]);
                (void) sd_event_loop(f->m->event);
                _exit(EXIT_SUCCESS);
        }
        close(fds[0]);
        close(pipefd[1]);

        /* The daemon's text first: the pass is done before it serves. */
        size_t size = 0;
        FILE *mem = open_memstream(&daemon_text, &size);
        char buf[4096];
        ssize_t n;
        assert_non_null(mem);
        while ((n = read(pipefd[0], buf, sizeof(buf))) > 0)
                fwrite(buf, 1, (size_t) n, mem);
        assert_int_equal(fclose(mem), 0);
        close(pipefd[0]);

        assert_int_equal(sd_bus_new(&client), 0);
        assert_int_equal(sd_bus_set_fd(client, fds[1], fds[1]), 0);
        assert_int_equal(sd_bus_start(client), 0);
        assert_int_equal(metrics_get(client, &client_text), 0);

        /* The fixture: a.service's worst process has 700 maps, b-x.scope's 10. */
        assert_non_null(strstr(daemon_text, "\nmapguard_unit_memory_map_areas{unit=\"a.service\"} 700\n"));
        assert_non_null(strstr(daemon_text, "\nmapguard_scan_duration_seconds "));
        assert_null(strstr(client_text, "mapguard_scan_duration_seconds"));
        drop_scan_duration(daemon_text);
        assert_string_equal(client_text, daemon_text);

        sd_bus_flush_close_unref(client);
        kill(pid, SIGTERM);
        assert_int_equal(waitpid(pid, NULL, 0), pid);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_metrics_match_textfile),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
