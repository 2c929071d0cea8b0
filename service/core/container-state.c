/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "container-state.h"
#include "json-annotations.h"
#include "path-util.h"
#include "util.h"

/* A directory where a runtime keeps one config.json per container: ENTRY/ID/BELOW, ENTRY being FIRST,
 * then any other entry whose name ends in SUFFIX. */
typedef struct StateDir {
        const char *path;
        const char *first;
        const char *suffix;
        const char *below;
        ContainerStateSource source;
} StateDir;

static const StateDir state_dirs[] = {
        /* containerd's CRI plugin uses the namespace k8s.io; docker on the same containerd, moby. */
        { "/run/containerd/io.containerd.runtime.v2.task", "k8s.io", "", "config.json",
          CONTAINER_STATE_CONTAINERD },
        /* containers/storage: GRAPHROOT|RUNROOT/DRIVER-containers/ID/userdata, two identical copies. */
        { "/run/containers/storage", "overlay-containers", "-containers", "userdata/config.json",
          CONTAINER_STATE_CRIO_RUN },
        { "/var/lib/containers/storage", "overlay-containers", "-containers", "userdata/config.json",
          CONTAINER_STATE_CRIO_LIB },
};

const char *container_state_source_to_string(ContainerStateSource s) {
        static const char *const names[_CONTAINER_STATE_SOURCE_MAX] = {
                [CONTAINER_STATE_CONTAINERD] = "containerd",
                [CONTAINER_STATE_CRIO_RUN] = "cri-o (/run)",
                [CONTAINER_STATE_CRIO_LIB] = "cri-o (/var/lib)",
                [CONTAINER_STATE_KUBELET_LOG] = "kubelet log link",
        };

        return (unsigned) s < _CONTAINER_STATE_SOURCE_MAX ? names[s] : NULL;
}

static bool is_label_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* A DNS-1123 label of N bytes at S: alphanumerics and '-', not at either end. */
static bool is_label(const char *s, size_t n) {
        if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_label_char(s[i]))
                        return false;
        return true;
}

bool k8s_name_is_label(const char *name) {
        return name && is_label(name, strlen(name));
}

bool k8s_name_is_subdomain(const char *name) {
        size_t n;

        if (!name)
                return false;
        n = strlen(name);
        if (n == 0 || n > 253)
                return false;
        for (const char *p = name;;) {
                size_t l = strcspn(p, ".");

                if (!is_label(p, l))
                        return false;
                if (p[l] == '\0')
                        return true;
                p += l + 1;
        }
}

bool container_id_is_valid(const char *id) {
        if (!id || strlen(id) != CONTAINER_ID_MAX - 1)
                return false;
        for (const char *p = id; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return false;
        return true;
}

/* Opens REL (components separated by '/') below DIR_FD without following a symlink on the way, the
 * last component with FLAGS. Returns the fd or -errno (-ELOOP for a symlink). */
static int open_below(int dir_fd, const char *rel, int flags) {
        char path[PATH_MAX], *p = path;
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (strlen(rel) >= sizeof(path))
                return -ENAMETOOLONG;
        strcpy(path, rel);
        for (;;) {
                char *slash = strchr(p, '/');
                int next;

                if (!slash)
                        break;
                *slash = '\0';
                next = openat(fd >= 0 ? fd : dir_fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0)
                        return -errno;
                closep(&fd);
                fd = next;
                p = slash + 1;
        }
        r = openat(fd >= 0 ? fd : dir_fd, p, flags | O_NOFOLLOW | O_CLOEXEC);
        return r < 0 ? -errno : r;
}

enum {
        KEY_TYPE,
        KEY_NAMESPACE,
        KEY_POD,
        KEY_CONTAINER,
        _KEY_MAX,
};

/* containerd's CRI annotations (its internal/cri/annotations). */
static const char *const containerd_keys[_KEY_MAX] = {
        [KEY_TYPE] = "io.kubernetes.cri.container-type",
        [KEY_NAMESPACE] = "io.kubernetes.cri.sandbox-namespace",
        [KEY_POD] = "io.kubernetes.cri.sandbox-name",
        [KEY_CONTAINER] = "io.kubernetes.cri.container-name",
};

/* CRI-O's own type, and the labels kubelet gives every container, which CRI-O copies verbatim. */
static const char *const crio_keys[_KEY_MAX] = {
        [KEY_TYPE] = "io.kubernetes.cri-o.ContainerType",
        [KEY_NAMESPACE] = "io.kubernetes.pod.namespace",
        [KEY_POD] = "io.kubernetes.pod.name",
        [KEY_CONTAINER] = "io.kubernetes.container.name",
};

/* Makes *RET of annotations A read from SOURCE. Returns 0, or -ENOENT when they name no container. */
static int state_from_annotations(ContainerStateSource source, const JsonAnnotation a[static _KEY_MAX],
                                  ContainerState *ret) {
        ContainerState s = { .source = source };
        bool namespace_ok = a[KEY_NAMESPACE].found && k8s_name_is_label(a[KEY_NAMESPACE].value);
        bool pod_ok = a[KEY_POD].found && k8s_name_is_subdomain(a[KEY_POD].value);
        bool container_ok = a[KEY_CONTAINER].found && k8s_name_is_label(a[KEY_CONTAINER].value);

        /* CRI-O names its infra container "POD" (no valid container name, so never a real one). */
        s.sandbox = (a[KEY_TYPE].found && streq(a[KEY_TYPE].value, "sandbox")) ||
                (a[KEY_CONTAINER].found && streq(a[KEY_CONTAINER].value, "POD"));
        if (!s.sandbox && !(namespace_ok && pod_ok && container_ok))
                return -ENOENT;
        if (namespace_ok)
                strcpy(s.k8s_namespace, a[KEY_NAMESPACE].value);
        if (pod_ok)
                strcpy(s.k8s_pod, a[KEY_POD].value);
        if (!s.sandbox)
                strcpy(s.k8s_container, a[KEY_CONTAINER].value);
        *ret = s;
        return 0;
}

/* Reads the config.json REL below DIR_FD. Returns 0, -ENOENT when it is not there or not usable,
 * -ENOMEM. */
static int read_config(int dir_fd, const char *rel, ContainerStateSource source, ContainerState *ret) {
        const char *const *keys = source == CONTAINER_STATE_CONTAINERD ? containerd_keys : crio_keys;
        char type[16], namespace[K8S_NAMESPACE_MAX], pod[K8S_POD_MAX], container[K8S_CONTAINER_MAX];
        JsonAnnotation a[_KEY_MAX] = {
                [KEY_TYPE] = { .key = keys[KEY_TYPE], .value = type, .size = sizeof(type) },
                [KEY_NAMESPACE] = { .key = keys[KEY_NAMESPACE],
                                    .value = namespace,
                                    .size = sizeof(namespace) },
                [KEY_POD] = { .key = keys[KEY_POD], .value = pod, .size = sizeof(pod) },
                [KEY_CONTAINER] = { .key = keys[KEY_CONTAINER],
                                    .value = container,
                                    .size = sizeof(container) },
        };
        _cleanup_close_ int fd = -EBADF;
        int r;

        /* O_NONBLOCK: a FIFO put there must not block the open; it is refused as no regular file. */
        fd = open_below(dir_fd, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return fd == -ENOMEM ? fd : -ENOENT;
        r = json_annotations_read_fd(fd, a, _KEY_MAX);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return -ENOENT;
        return state_from_annotations(source, a, ret);
}

static int read_state_entry(int dir_fd, const StateDir *sd, const char *entry, const char *id,
                            ContainerState *ret) {
        char rel[PATH_MAX];

        if (snprintf(rel, sizeof(rel), "%s/%s/%s", entry, id, sd->below) >= (int) sizeof(rel))
                return -ENOENT;
        return read_config(dir_fd, rel, sd->source, ret);
}

/* Tries the state directory SD below ROOT: its first entry, then the others. */
static int read_state_dir(const char *root, const StateDir *sd, const char *id, ContainerState *ret) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_(closedirp) DIR *d = NULL;
        int r, list_fd;

        dir = path_prefix_root(root, sd->path);
        if (!dir)
                return -ENOMEM;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOMEM ? -ENOMEM : -ENOENT;
        r = read_state_entry(fd, sd, sd->first, id, ret);
        if (r != -ENOENT)
                return r;

        list_fd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (list_fd < 0)
                return -ENOENT;
        d = fdopendir(list_fd);
        if (!d) {
                close(list_fd);
                return -ENOENT;
        }
        for (unsigned tried = 0; tried < CONTAINER_STATE_DIRS_MAX;) {
                struct dirent *de = readdir(d);

                if (!de)
                        break;
                if (de->d_name[0] == '.' || streq(de->d_name, sd->first) ||
                    !endswith(de->d_name, sd->suffix))
                        continue;
                tried++;
                r = read_state_entry(fd, sd, de->d_name, id, ret);
                if (r != -ENOENT)
                        return r;
        }
        return -ENOENT;
}

/* The names in the name of kubelet's log link POD_NAMESPACE_CONTAINER-ID.log (Kubernetes names hold no
 * '_'). Returns 0, or -ENOENT when NAME is not ID's or its names are not Kubernetes names. */
static int parse_log_link(const char *name, const char *id, ContainerState *ret) {
        const size_t tail = 1 + (CONTAINER_ID_MAX - 1) + strlen(".log");
        size_t n = strlen(name);
        char buf[NAME_MAX + 1], *namespace, *container;
        ContainerState s = { .source = CONTAINER_STATE_KUBELET_LOG };

        if (n <= tail || n >= sizeof(buf) || name[n - tail] != '-' ||
            memcmp(name + n - tail + 1, id, CONTAINER_ID_MAX - 1) != 0 || !endswith(name, ".log"))
                return -ENOENT;
        memcpy(buf, name, n - tail);
        buf[n - tail] = '\0';
        namespace = strchr(buf, '_');
        if (!namespace)
                return -ENOENT;
        *namespace ++ = '\0';
        container = strchr(namespace, '_');
        if (!container)
                return -ENOENT;
        *container++ = '\0';
        if (!k8s_name_is_subdomain(buf) || !k8s_name_is_label(namespace) || !k8s_name_is_label(container))
                return -ENOENT;
        strcpy(s.k8s_pod, buf);
        strcpy(s.k8s_namespace, namespace);
        strcpy(s.k8s_container, container);
        *ret = s;
        return 0;
}

/* kubelet links ROOT/var/log/containers/POD_NAMESPACE_CONTAINER-ID.log to the log file: only the name
 * is read, and only of a symlink (what kubelet makes). */
static int read_kubelet_log(const char *root, const char *id, ContainerState *ret) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_(closedirp) DIR *d = NULL;

        dir = path_prefix_root(root, "/var/log/containers");
        if (!dir)
                return -ENOMEM;
        d = opendir(dir);
        if (!d)
                return errno == ENOMEM ? -ENOMEM : -ENOENT;
        for (;;) {
                struct dirent *de = readdir(d);
                struct stat st;

                if (!de)
                        return -ENOENT;
                if (!strstr(de->d_name, id))
                        continue;
                if (de->d_type != DT_LNK &&
                    (de->d_type != DT_UNKNOWN ||
                     fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode)))
                        continue;
                if (parse_log_link(de->d_name, id, ret) == 0)
                        return 0;
        }
}

int container_state_read(const char *root, const char *id, ContainerState *ret) {
        int r;

        if (!ret || !container_id_is_valid(id))
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(state_dirs); i++) {
                r = read_state_dir(root, &state_dirs[i], id, ret);
                if (r != -ENOENT)
                        return r;
        }
        return read_kubelet_log(root, id, ret);
}
