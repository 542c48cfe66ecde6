/*
 * os-vif-cni: the executable a container runtime runs for each CNI call.
 *
 * It forwards the call -- the CNI_* environment variables and stdin -- to
 * the long-lived os-vif-cni daemon on a unix socket, writes the daemon's
 * answer on stdout and exits with the daemon's exit status.  A Python
 * process that imports os_vif costs more than a whole call of the
 * reference plugins; this client costs about what an exec costs.
 *
 * The socket is $OS_VIF_CNI_SOCKET, else OS_VIF_CNI_SOCKET below.  When
 * nothing listens there, the client starts the daemon with
 * $OS_VIF_CNI_DAEMON, else OS_VIF_CNI_DAEMON below (a shell command; an
 * empty one starts nothing), detached, and waits for the socket.
 *
 * The wire format (os_vif/cni/server.py reads it):
 *   request:  "os-vif-cni 1\n", then each "NAME=VALUE\0" of the CNI_*
 *             variables, then "\0", then stdin until the client shuts its
 *             side down;
 *   answer:   the exit status in decimal and "\n", then stdout until the
 *             daemon closes the connection.
 * Errors of the client itself are the spec's error JSON on stdout, with
 * exit status 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef OS_VIF_CNI_SOCKET
#define OS_VIF_CNI_SOCKET "/run/os-vif/cni.sock"
#endif
#ifndef OS_VIF_CNI_DAEMON
#define OS_VIF_CNI_DAEMON "os-vif-cni-daemon"
#endif
/* How long a started daemon may take to listen (milliseconds). */
#ifndef OS_VIF_CNI_START_TIMEOUT_MS
#define OS_VIF_CNI_START_TIMEOUT_MS 30000
#endif

#define MAGIC "os-vif-cni 1\n"

extern char **environ;

/* The spec's error JSON on stdout; the message is ours, so plain ASCII
 * without quotes; details are escaped. */
static int fail(int code, const char *msg, const char *details)
{
    printf("{\"cniVersion\": \"1.1.0\", \"code\": %d, \"msg\": \"%s\"",
           code, msg);
    if (details != NULL) {
        fputs(", \"details\": \"", stdout);
        for (const char *p = details; *p; p++) {
            if (*p == '"' || *p == '\\')
                printf("\\%c", *p);
            else if ((unsigned char)*p < 0x20)
                printf("\\u%04x", *p);
            else
                putchar(*p);
        }
        putchar('"');
    }
    puts("}");
    fflush(stdout);
    return 1;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int try_connect(const struct sockaddr_un *addr)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* Start the daemon detached (its own session, no stdio of ours), so that
 * the runtime does not wait for it. */
static int start_daemon(const char *command, const char *socket_path)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (setsid() < 0)
            _exit(127);
        pid_t grandchild = fork();
        if (grandchild != 0)
            _exit(grandchild < 0 ? 127 : 0);
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
            dup2(devnull, 2);
            if (devnull > 2)
                close(devnull);
        }
        setenv("OS_VIF_CNI_SOCKET", socket_path, 1);
        execl("/bin/sh", "sh", "-c", command, (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return 0;
}

static int connect_or_start(const struct sockaddr_un *addr)
{
    int fd = try_connect(addr);
    if (fd >= 0 || (errno != ENOENT && errno != ECONNREFUSED))
        return fd;
    const char *command = getenv("OS_VIF_CNI_DAEMON");
    if (command == NULL)
        command = OS_VIF_CNI_DAEMON;
    if (*command == '\0')
        return -1;
    if (start_daemon(command, addr->sun_path) < 0)
        return -1;
    /* Poll: 1 ms at first (a daemon already starting), up to 50 ms.  The
     * daemon started may have found a stopping one still holding the
     * socket's lock and exited: start one again every 2 s. */
    long waited_ms = 0, step_ms = 1, since_start_ms = 0;
    while (waited_ms < OS_VIF_CNI_START_TIMEOUT_MS) {
        struct timespec ts = {0, step_ms * 1000000L};
        nanosleep(&ts, NULL);
        waited_ms += step_ms;
        since_start_ms += step_ms;
        if (step_ms < 50)
            step_ms *= 2;
        fd = try_connect(addr);
        if (fd >= 0 || (errno != ENOENT && errno != ECONNREFUSED))
            return fd;
        if (since_start_ms >= 2000) {
            if (start_daemon(command, addr->sun_path) < 0)
                return -1;
            since_start_ms = 0;
        }
    }
    errno = ETIMEDOUT;
    return -1;
}

static int send_request(int fd)
{
    if (write_all(fd, MAGIC, sizeof(MAGIC) - 1) < 0)
        return -1;
    for (char **env = environ; *env != NULL; env++) {
        if (strncmp(*env, "CNI_", 4) == 0
                && write_all(fd, *env, strlen(*env) + 1) < 0)
            return -1;
    }
    if (write_all(fd, "", 1) < 0)
        return -1;
    char buf[65536];
    for (;;) {
        ssize_t n = read(0, buf, sizeof(buf));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            /* No stdin at all (closed): an empty configuration. */
            if (errno == EBADF)
                break;
            return -1;
        }
        if (n == 0)
            break;
        if (write_all(fd, buf, (size_t)n) < 0)
            return -1;
    }
    return shutdown(fd, SHUT_WR);
}

/* Relay the answer; returns the daemon's exit status, or -1. */
static int relay_answer(int fd)
{
    char buf[65536];
    size_t have = 0;
    int status = -1;
    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof(buf) - have);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            return status;
        if (status >= 0) {
            if (write_all(1, buf, (size_t)n) < 0)
                return -1;
            continue;
        }
        have += (size_t)n;
        char *nl = memchr(buf, '\n', have);
        if (nl == NULL) {
            if (have >= 16)
                return -1;
            continue;
        }
        *nl = '\0';
        char *end;
        long parsed = strtol(buf, &end, 10);
        if (end == buf || *end != '\0' || parsed < 0 || parsed > 255)
            return -1;
        status = (int)parsed;
        size_t rest = have - (size_t)(nl + 1 - buf);
        if (rest > 0 && write_all(1, nl + 1, rest) < 0)
            return -1;
        have = 0;
    }
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const char *path = getenv("OS_VIF_CNI_SOCKET");
    if (path == NULL || *path == '\0')
        path = OS_VIF_CNI_SOCKET;
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(addr.sun_path))
        return fail(4, "OS_VIF_CNI_SOCKET is too long for a unix socket",
                    path);
    strcpy(addr.sun_path, path);

    int fd = connect_or_start(&addr);
    if (fd < 0) {
        char details[512];
        snprintf(details, sizeof(details), "%s: %s", path, strerror(errno));
        return fail(11, "the os-vif-cni daemon does not answer", details);
    }
    if (send_request(fd) < 0) {
        char details[512];
        snprintf(details, sizeof(details), "%s", strerror(errno));
        return fail(5, "cannot send the call to the os-vif-cni daemon",
                    details);
    }
    int status = relay_answer(fd);
    close(fd);
    if (status < 0)
        return fail(5, "the os-vif-cni daemon gave no answer", path);
    return status;
}
