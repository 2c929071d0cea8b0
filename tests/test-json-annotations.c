/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* json-annotations.c: the annotations of a runtime's config.json, as containerd and CRI-O write it, and
 * nothing from a document that is not well-formed JSON. */

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "json-annotations.h"
#include "runtime-fixture.h"
#include "testfs.h"
#include "util.h"

#define ID "4098a7d1cb3ce20a3d41bc254c473049b84a63323ccbda031eb73d5c9fff1290"
#define SANDBOX_ID "55bd08155534015012d7992ea0b5d72b273d16e0fb1d75cbfb37875f2e99e9f2"

/* Up to four keys asked for, each with a 512-byte buffer. */
typedef struct Ask {
        JsonAnnotation keys[4];
        char values[4][512];
        size_t n;
} Ask;

static void ask_init(Ask *a, const char *k0, const char *k1, const char *k2, const char *k3) {
        const char *k[4] = { k0, k1, k2, k3 };

        *a = (Ask){};
        for (size_t i = 0; i < 4 && k[i]; i++) {
                a->keys[i] =
                        (JsonAnnotation){ .key = k[i], .value = a->values[i], .size = sizeof(a->values[i]) };
                a->n++;
        }
}

static int parse(Ask *a, const char *text) {
        return json_annotations_parse(text, strlen(text), a->keys, a->n);
}

static void test_containerd_compact(void **state) {
        static const char text[] = FIXTURE_CONTAINERD_APP(ID, SANDBOX_ID);
        Ask a;

        ask_init(&a, "io.kubernetes.cri.sandbox-namespace", "io.kubernetes.cri.sandbox-name",
                 "io.kubernetes.cri.container-name", "io.kubernetes.cri.sandbox-id");
        assert_int_equal(parse(&a, text), 0);
        assert_true(a.keys[0].found && a.keys[1].found && a.keys[2].found && a.keys[3].found);
        assert_string_equal(a.values[0], "mimir");
        assert_string_equal(a.values[1], "ingester-0");
        assert_string_equal(a.values[2], "ingester");
        assert_string_equal(a.values[3], SANDBOX_ID);

        /* A key that is not there. */
        ask_init(&a, "io.kubernetes.pod.name", NULL, NULL, NULL);
        strcpy(a.values[0], "stale");
        assert_int_equal(parse(&a, text), 0);
        assert_false(a.keys[0].found);
        assert_string_equal(a.values[0], "");
}

static void test_crio_indented(void **state) {
        static const char text[] = FIXTURE_CRIO_APP(ID, SANDBOX_ID);
        Ask a;

        ask_init(&a, "io.kubernetes.pod.namespace", "io.kubernetes.cri-o.Labels",
                 "org.systemd.property.After", "io.kubernetes.cri-o.ContainerType");
        assert_int_equal(parse(&a, text), 0);
        assert_string_equal(a.values[0], "mimir");
        /* JSON in a string, its quotes escaped: one string value, decoded. */
        assert_string_equal(a.values[1],
                            "{\"io.kubernetes.container.name\":\"ingester\","
                            "\"io.kubernetes.pod.name\":\"ingester-0\","
                            "\"io.kubernetes.pod.namespace\":\"mimir\","
                            "\"io.kubernetes.pod.uid\":\"" FIXTURE_POD_UID "\"}");
        assert_string_equal(a.values[2], "['crio.service']");
        assert_string_equal(a.values[3], "container");
}

static void test_escapes(void **state) {
        Ask a;

        ask_init(&a, "go", "short", "pair", "raw");
        assert_int_equal(parse(&a,
                               "{\"annotations\":{\"go\":\"\\u003cb\\u003e \\u0026 \\u2028\","
                               "\"short\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\","
                               "\"pair\":\"\\ud83d\\ude00 \\uD83D\\uDE00\","
                               "\"raw\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}}"),
                         0);
        assert_string_equal(a.values[0], "<b> & \xe2\x80\xa8");
        assert_string_equal(a.values[1], "\"\\/\b\f\n\r\t");
        assert_string_equal(a.values[2], "\xf0\x9f\x98\x80 \xf0\x9f\x98\x80");
        assert_string_equal(a.values[3], "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");

        /* Keys are compared decoded, the top-level one too. */
        ask_init(&a, "io.kubernetes.pod.name", NULL, NULL, NULL);
        assert_int_equal(parse(&a, "{\"annot\\u0061tions\":{\"io.kubernetes\\u002epod.name\":\"x\"}}"), 0);
        assert_true(a.keys[0].found);
        assert_string_equal(a.values[0], "x");
}

/* Only the top-level member is the annotations: not one nested in another member, nor text that looks
 * like one in a string. */
static void test_top_level_only(void **state) {
        Ask a;

        ask_init(&a, "k", NULL, NULL, NULL);
        assert_int_equal(parse(&a,
                               "{\"process\":{\"annotations\":{\"k\":\"nested\"}},"
                               "\"env\":[\"\\\"annotations\\\":{\\\"k\\\":\\\"in a string\\\"}\"],"
                               "\"hooks\":[{\"annotations\":{\"k\":\"in an array\"}}]}"),
                         -ENOENT);
        assert_false(a.keys[0].found);
        assert_int_equal(parse(&a,
                               "{\"process\":{\"annotations\":{\"k\":\"nested\"}},\"annotations\":{\"k\":"
                               "\"top\"},\"linux\":{\"annotations\":{\"k\":\"after\"}}}"),
                         0);
        assert_string_equal(a.values[0], "top");
        /* Empty annotations, and values of every JSON type elsewhere. */
        assert_int_equal(parse(&a, " {\"a\":[1,-0.5e+3,2E-2,true,false,null,{},[]],\"annotations\":{}}\n"),
                         0);
        assert_false(a.keys[0].found);
}

static void test_malformed(void **state) {
        static const char *const bad[] = {
                "",
                " ",
                "[]",
                "\"annotations\"",
                "1",
                "null",
                "\xef\xbb\xbf{}",
                "{} x",
                "{}{}",
                "{",
                "{\"a\"}",
                "{\"a\":}",
                "{\"a\" 1}",
                "{\"a\":1,}",
                "{,}",
                "{1:2}",
                "{'a':1}",
                "{\"a\":[1,]}",
                "{\"a\":[1 2]}",
                "{\"a\":01}",
                "{\"a\":1.}",
                "{\"a\":.5}",
                "{\"a\":-}",
                "{\"a\":1e}",
                "{\"a\":+1}",
                "{\"a\":NaN}",
                "{\"a\":tru}",
                "{\"a\":nul}",
                "{\"a\":\"\\x\"}",
                "{\"a\":\"\\u12\"}",
                "{\"a\":\"\\u12g4\"}",
                "{\"a\":\"\\ud83d\"}",
                "{\"a\":\"\\ud83dx\"}",
                "{\"a\":\"\\ud83d\\u0041\"}",
                "{\"a\":\"\\ude00\\ud83d\"}",
                "{\"a\":\"\x01\"}",
                "{\"a\":\"\t\"}",
                "{\"a\":\"\xff\"}",
                "{\"a\":\"\xc0\x80\"}",
                "{\"a\":\"\xed\xa0\x80\"}",
                "{\"a\":\"\xe2\x82\"}",
                "{\"a\":\"\xf4\x90\x80\x80\"}",
                "{\"a\":\"unterminated}",
                /* The annotations must be an object of strings, each key of ours once, and itself once. */
                "{\"annotations\":[]}",
                "{\"annotations\":null}",
                "{\"annotations\":\"k\"}",
                "{\"annotations\":{\"x\":1}}",
                "{\"annotations\":{\"k\":{}}}",
                "{\"annotations\":{\"k\":\"a\",\"k\":\"b\"}}",
                "{\"annotations\":{\"k\":\"a\",\"\\u006b\":\"b\"}}",
                "{\"annotations\":{},\"annotations\":{}}",
        };
        Ask a;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                ask_init(&a, "k", NULL, NULL, NULL);
                strcpy(a.values[0], "untouched");
                a.keys[0].found = true;
                if (parse(&a, bad[i]) != -EBADMSG)
                        fail_msg("accepted: %s", bad[i]);
                /* Nothing is believed of a malformed document, and nothing is written. */
                assert_true(a.keys[0].found);
                assert_string_equal(a.values[0], "untouched");
        }
        /* Not one proper prefix of a real file is a document: a file cut short while it is written. */
        static const char *const files[] = { FIXTURE_CONTAINERD_APP(ID, SANDBOX_ID),
                                             FIXTURE_CRIO_APP(ID, SANDBOX_ID) };
        for (size_t f = 0; f < ELEMENTSOF(files); f++)
                for (size_t l = 0; l < strlen(files[f]); l++) {
                        ask_init(&a, "io.kubernetes.pod.name", NULL, NULL, NULL);
                        if (json_annotations_parse(files[f], l, a.keys, a.n) != -EBADMSG)
                                fail_msg("file %zu accepted cut at %zu bytes", f, l);
                }
        /* A duplicate of a key nobody asked for is not looked at (Go's maps have none anyway). */
        ask_init(&a, "k", NULL, NULL, NULL);
        assert_int_equal(parse(&a, "{\"annotations\":{\"x\":\"1\",\"x\":\"2\",\"k\":\"v\"}}"), 0);
        assert_string_equal(a.values[0], "v");
}

static void nest(char *buf, size_t depth) {
        size_t n = 0;

        n += (size_t) sprintf(buf, "{\"a\":");
        for (size_t i = 1; i < depth - 1; i++)
                buf[n++] = '[';
        n += (size_t) sprintf(buf + n, "{}");
        for (size_t i = 1; i < depth - 1; i++)
                buf[n++] = ']';
        n += (size_t) sprintf(buf + n, ",\"annotations\":{\"k\":\"v\"}}");
}

static void test_depth(void **state) {
        char buf[512];
        Ask a;

        /* JSON_ANNOTATIONS_DEPTH_MAX levels, the document's own object included, and one more. */
        ask_init(&a, "k", NULL, NULL, NULL);
        nest(buf, JSON_ANNOTATIONS_DEPTH_MAX);
        assert_int_equal(parse(&a, buf), 0);
        assert_string_equal(a.values[0], "v");
        nest(buf, JSON_ANNOTATIONS_DEPTH_MAX + 1);
        assert_int_equal(parse(&a, buf), -EBADMSG);
}

static void test_values_refused(void **state) {
        char small[4];
        JsonAnnotation k[] = {
                { .key = "fits", .value = small, .size = sizeof(small) },
                { .key = "long", .value = small, .size = sizeof(small) },
        };
        JsonAnnotation nul = { .key = "nul", .value = small, .size = sizeof(small) };
        const char *text = "{\"annotations\":{\"fits\":\"abc\",\"long\":\"abcd\",\"nul\":\"a\\u0000b\"}}";

        assert_int_equal(json_annotations_parse(text, strlen(text), k, 1), 0);
        assert_true(k[0].found);
        assert_string_equal(small, "abc");
        /* Too long for its buffer: not found, not cut. */
        assert_int_equal(json_annotations_parse(text, strlen(text), k + 1, 1), 0);
        assert_false(k[1].found);
        assert_string_equal(small, "");
        /* A NUL would cut the name short. */
        assert_int_equal(json_annotations_parse(text, strlen(text), &nul, 1), 0);
        assert_false(nul.found);

        JsonAnnotation many[JSON_ANNOTATIONS_KEYS_MAX + 1];
        for (size_t i = 0; i < ELEMENTSOF(many); i++)
                many[i] = (JsonAnnotation){ .key = "k", .value = small, .size = sizeof(small) };
        assert_int_equal(json_annotations_parse(text, strlen(text), many, ELEMENTSOF(many)), -EINVAL);
        assert_int_equal(json_annotations_parse(text, strlen(text), many, JSON_ANNOTATIONS_KEYS_MAX), 0);
        assert_int_equal(json_annotations_parse(NULL, 0, k, 1), -EINVAL);
}

static int open_file(const char *dir, const char *name) {
        _cleanup_free_ char *p = testfs_path(dir, name);
        int fd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

        assert_true(fd >= 0);
        return fd;
}

static void test_read_fd(void **state) {
        _cleanup_free_ char *dir = testfs_mkdtemp("test-json-annotations"), *fifo = NULL, *big = NULL;
        Ask a;
        int fd;

        testfs_write_str(dir, "config.json", FIXTURE_CRIO_APP(ID, SANDBOX_ID));
        ask_init(&a, "io.kubernetes.pod.name", NULL, NULL, NULL);
        fd = open_file(dir, "config.json");
        assert_int_equal(json_annotations_read_fd(fd, a.keys, a.n), 0);
        close(fd);
        assert_string_equal(a.values[0], "ingester-0");

        /* At most JSON_ANNOTATIONS_FILE_MAX bytes: a document padded to it is read, one byte more is not. */
        big = malloc(JSON_ANNOTATIONS_FILE_MAX + 1);
        assert_non_null(big);
        memset(big, ' ', JSON_ANNOTATIONS_FILE_MAX + 1);
        memcpy(big, "{\"annotations\":{\"k\":\"v\"}}", 25);
        testfs_write(dir, "max.json", big, JSON_ANNOTATIONS_FILE_MAX);
        testfs_write(dir, "huge.json", big, JSON_ANNOTATIONS_FILE_MAX + 1);
        ask_init(&a, "k", NULL, NULL, NULL);
        fd = open_file(dir, "max.json");
        assert_int_equal(json_annotations_read_fd(fd, a.keys, a.n), 0);
        close(fd);
        assert_string_equal(a.values[0], "v");
        fd = open_file(dir, "huge.json");
        assert_int_equal(json_annotations_read_fd(fd, a.keys, a.n), -EFBIG);
        close(fd);

        /* Only a regular file: a FIFO would block, a directory has no text. */
        fifo = testfs_path(dir, "fifo");
        assert_int_equal(mkfifo(fifo, 0600), 0);
        fd = open_file(dir, "fifo");
        assert_int_equal(json_annotations_read_fd(fd, a.keys, a.n), -EBADFD);
        close(fd);
        fd = open_file(dir, ".");
        assert_int_equal(json_annotations_read_fd(fd, a.keys, a.n), -EBADFD);
        close(fd);
        assert_int_equal(json_annotations_read_fd(-1, a.keys, a.n), -EINVAL);
        testfs_rm_rf(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_containerd_compact),
                cmocka_unit_test(test_crio_indented),
                cmocka_unit_test(test_escapes),
                cmocka_unit_test(test_top_level_only),
                cmocka_unit_test(test_malformed),
                cmocka_unit_test(test_depth),
                cmocka_unit_test(test_values_refused),
                cmocka_unit_test(test_read_fd),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
