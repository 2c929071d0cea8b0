/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The files container runtimes write, as they write them (formats in container-state.h), for the
 * tests of container-state.c and unit-identity.c; the same texts seed tests/fuzz/corpus/json-annotations.
 * Each macro is a string literal with the container's ID and its pod's SANDBOX_ID (64 hex, string
 * literals) in place. */

#define FIXTURE_POD_UID "6f1e4d2a-9b3c-4c1d-8e7f-0a1b2c3d4e5f"
/* kubelet's slice of a Burstable pod with that uid, under the systemd cgroup driver. */
#define FIXTURE_POD_SLICE_DIR \
        "/kubepods.slice/kubepods-burstable.slice/" \
        "kubepods-burstable-pod6f1e4d2a_9b3c_4c1d_8e7f_0a1b2c3d4e5f.slice"

/* containerd's config.json of an app container: compact, as json.Marshal writes it (Go escapes <, > and &
 * as \u003c, \u003e, \u0026). */
#define FIXTURE_CONTAINERD_APP(ID, SANDBOX_ID) \
        "{\"ociVersion\":\"1.2.1\",\"process\":{\"user\":{\"uid\":10001,\"gid\":10001},\"args" \
        "\":[\"/bin/mimir\",\"-target=ingester\"],\"env\":[\"PATH=/usr/local/sbin:/usr/local/" \
        "bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"HOSTNAME=ingester-0\",\"MIMIR_EXTRA=-log.level" \
        "=info \\u003e/dev/null \\u0026\\u0026 true\"],\"cwd\":\"/\"},\"root\":{\"path\":\"ro" \
        "otfs\"},\"hostname\":\"ingester-0\",\"mounts\":[{\"destination\":\"/proc\",\"type\":" \
        "\"proc\",\"source\":\"proc\",\"options\":[\"nosuid\",\"noexec\",\"nodev\"]}],\"annot" \
        "ations\":{\"io.kubernetes.cri.container-name\":\"ingester\",\"io.kubernetes.cri.cont" \
        "ainer-type\":\"container\",\"io.kubernetes.cri.image-name\":\"docker.io/grafana/mimi" \
        "r:2.14.0\",\"io.kubernetes.cri.sandbox-id\":\"" SANDBOX_ID \
        "\",\"io.kubernetes.cri.sandbox-name\":\"ingester-0\",\"io.kubernetes.cri.sandbox-nam" \
        "espace\":\"mimir\",\"io.kubernetes.cri.sandbox-uid\":\"6f1e4d2a-9b3c-4c1d-8e7f-0a1b2" \
        "c3d4e5f\"},\"linux\":{\"cgroupsPath\":\"kubepods-burstable-pod6f1e4d2a_9b3c_4c1d_8e7" \
        "f_0a1b2c3d4e5f.slice:cri-containerd:" ID \
        "\",\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"ipc\",\"path\":\"/proc/4242/ns/ipc" \
        "\"},{\"type\":\"uts\",\"path\":\"/proc/4242/ns/uts\"},{\"type\":\"mount\"},{\"type\"" \
        ":\"network\",\"path\":\"/proc/4242/ns/net\"}]}}"

/* containerd's config.json of a pod's sandbox (pause) container. */
#define FIXTURE_CONTAINERD_SANDBOX(ID, SANDBOX_ID) \
        "{\"ociVersion\":\"1.2.1\",\"process\":{\"user\":{\"uid\":65535,\"gid\":65535},\"args" \
        "\":[\"/pause\"],\"cwd\":\"/\"},\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"ho" \
        "stname\":\"ingester-0\",\"annotations\":{\"io.kubernetes.cri.container-type\":\"sand" \
        "box\",\"io.kubernetes.cri.podsandbox.image-name\":\"registry.k8s.io/pause:3.10\",\"i" \
        "o.kubernetes.cri.sandbox-id\":\"" SANDBOX_ID \
        "\",\"io.kubernetes.cri.sandbox-log-directory\":\"/var/log/pods/mimir_ingester-0_6f1e" \
        "4d2a-9b3c-4c1d-8e7f-0a1b2c3d4e5f\",\"io.kubernetes.cri.sandbox-name\":\"ingester-0\"" \
        ",\"io.kubernetes.cri.sandbox-namespace\":\"mimir\",\"io.kubernetes.cri.sandbox-uid\"" \
        ":\"6f1e4d2a-9b3c-4c1d-8e7f-0a1b2c3d4e5f\"},\"linux\":{\"cgroupsPath\":\"kubepods-bur" \
        "stable-pod6f1e4d2a_9b3c_4c1d_8e7f_0a1b2c3d4e5f.slice:cri-containerd:" SANDBOX_ID "\"}}"

/* CRI-O's config.json of an app container (both copies, /run and /var/lib, hold the same): tab-indented,
 * with JSON in strings (io.kubernetes.cri-o.Labels). */
#define FIXTURE_CRIO_APP(ID, SANDBOX_ID) \
        "{\n" \
        "\t\"ociVersion\": \"1.2.1\",\n" \
        "\t\"process\": {\n" \
        "\t\t\"user\": {\"uid\": 10001, \"gid\": 10001},\n" \
        "\t\t\"args\": [\"/bin/mimir\", \"-target=ingester\"],\n" \
        "\t\t\"cwd\": \"/\"\n" \
        "\t},\n" \
        "\t\"root\": {\"path\": \"/var/lib/containers/storage/overlay/0c1d.../merged\"},\n" \
        "\t\"hostname\": \"ingester-0\",\n" \
        "\t\"annotations\": {\n" \
        "\t\t\"io.container.manager\": \"cri-o\",\n" \
        "\t\t\"io.kubernetes.container.hash\": \"5c7a6e1b\",\n" \
        "\t\t\"io.kubernetes.container.name\": \"ingester\",\n" \
        "\t\t\"io.kubernetes.container.restartCount\": \"5\",\n" \
        "\t\t\"io.kubernetes.cri-o.ContainerID\": \"" ID "\",\n" \
        "\t\t\"io.kubernetes.cri-o.ContainerType\": \"container\",\n" \
        "\t\t\"io.kubernetes.cri-o.Labels\": \"{\\\"io.kubernetes.container.name\\\":\\\"inge" \
        "ster\\\",\\\"io.kubernetes.pod.name\\\":\\\"ingester-0\\\",\\\"io.kubernetes.pod.nam" \
        "espace\\\":\\\"mimir\\\",\\\"io.kubernetes.pod.uid\\\":\\\"6f1e4d2a-9b3c-4c1d-8e7f-0" \
        "a1b2c3d4e5f\\\"}\",\n" \
        "\t\t\"io.kubernetes.cri-o.Metadata\": \"{\\\"name\\\":\\\"ingester\\\",\\\"attempt\\" \
        "\":5}\",\n" \
        "\t\t\"io.kubernetes.cri-o.SandboxID\": \"" SANDBOX_ID "\",\n" \
        "\t\t\"io.kubernetes.pod.name\": \"ingester-0\",\n" \
        "\t\t\"io.kubernetes.pod.namespace\": \"mimir\",\n" \
        "\t\t\"io.kubernetes.pod.uid\": \"6f1e4d2a-9b3c-4c1d-8e7f-0a1b2c3d4e5f\",\n" \
        "\t\t\"org.systemd.property.After\": \"['crio.service']\",\n" \
        "\t\t\"org.systemd.property.DefaultDependencies\": \"true\"\n" \
        "\t},\n" \
        "\t\"linux\": {\n" \
        "\t\t\"cgroupsPath\": \"kubepods-burstable-pod6f1e4d2a_9b3c_4c1d_8e7f_0a1b2c3d4e5f.sl" \
        "ice:crio:" ID "\"\n" \
        "\t}\n" \
        "}"

/* CRI-O's config.json of a pod's infra (pause) container: type sandbox, container name POD, and the
 * pod's own labels. */
#define FIXTURE_CRIO_INFRA(ID, SANDBOX_ID) \
        "{\n" \
        "\t\"ociVersion\": \"1.2.1\",\n" \
        "\t\"process\": {\n" \
        "\t\t\"user\": {\"uid\": 65535, \"gid\": 65535},\n" \
        "\t\t\"args\": [\"/pause\"],\n" \
        "\t\t\"cwd\": \"/\"\n" \
        "\t},\n" \
        "\t\"root\": {\"path\": \"/var/lib/containers/storage/overlay/9e8f.../merged\"},\n" \
        "\t\"hostname\": \"ingester-0\",\n" \
        "\t\"annotations\": {\n" \
        "\t\t\"app.kubernetes.io/name\": \"ingester\",\n" \
        "\t\t\"io.container.manager\": \"cri-o\",\n" \
        "\t\t\"io.kubernetes.container.name\": \"POD\",\n" \
        "\t\t\"io.kubernetes.cri-o.ContainerID\": \"" SANDBOX_ID "\",\n" \
        "\t\t\"io.kubernetes.cri-o.ContainerType\": \"sandbox\",\n" \
        "\t\t\"io.kubernetes.cri-o.Labels\": \"{\\\"app.kubernetes.io/name\\\":\\\"ingester\\" \
        "\",\\\"io.kubernetes.container.name\\\":\\\"POD\\\",\\\"io.kubernetes.pod.name\\\":" \
        "\\\"ingester-0\\\",\\\"io.kubernetes.pod.namespace\\\":\\\"mimir\\\",\\\"io.kubernet" \
        "es.pod.uid\\\":\\\"6f1e4d2a-9b3c-4c1d-8e7f-0a1b2c3d4e5f\\\"}\",\n" \
        "\t\t\"io.kubernetes.cri-o.SandboxID\": \"" SANDBOX_ID "\",\n" \
        "\t\t\"io.kubernetes.pod.name\": \"ingester-0\",\n" \
        "\t\t\"io.kubernetes.pod.namespace\": \"mimir\",\n" \
        "\t\t\"io.kubernetes.pod.uid\": \"6f1e4d2a-9b3c-4c1d-8e7f-0a1b2c3d4e5f\"\n" \
        "\t},\n" \
        "\t\"linux\": {\n" \
        "\t\t\"cgroupsPath\": \"kubepods-burstable-pod6f1e4d2a_9b3c_4c1d_8e7f_0a1b2c3d4e5f.sl" \
        "ice:crio:" SANDBOX_ID "\"\n" \
        "\t}\n" \
        "}"

/* docker's own /var/lib/docker/containers/ID/config.v2.json: not OCI, no annotations; never read (a
 * docker scope is known by its id). */
#define FIXTURE_DOCKER_CONFIG_V2(ID, SANDBOX_ID) \
        "{\"ID\":\"" ID \
        "\",\"Name\":\"/grower\",\"RestartCount\":3,\"Config\":{\"Hostname\":\"7fe3b79dcecd\"" \
        ",\"Image\":\"debian:12\",\"Labels\":{}},\"State\":{\"Running\":true,\"Pid\":31337,\"" \
        "ExitCode\":0,\"StartedAt\":\"2026-12-07T21:00:00.000000000Z\",\"FinishedAt\":\"0001-" \
        "01-01T00:00:00Z\"}}"
