// Preloaded (LD_PRELOAD) into every program but Python's, which has its own hook
// (runner/python_child.py): tells the runner when a thread is about to block waiting for input.
//
// The runner shows a prompt, and stops counting wall-clock time, only while the program waits for
// input and the sandbox is idle. The kernel's /proc/PID/task/*/syscall says which call a thread is
// blocked in, but gVisor has no such file, and in a container under runc the runner (root without
// CAP_SYS_PTRACE, another uid) may not read it: the program has to say so itself. It does, here,
// through the runner's control pipe (fd 3, frames of runner/wire.py's CONTROL_KINDS): "reading"
// before a read of fd 0 that would block, "read" once it returns. Also announced: an event loop
// (Node's libuv) asleep in epoll_wait with no timeout on its main thread, since with no network
// and no timer pending only input can wake it.
//
// glibc's stdio reads through its own internal read, which no preloaded library can wrap, so
// `stdin` is swapped for a stream of fopencookie whose reads come here (and fileno(stdin) is
// still 0). A program that reads fd 0 without libc (a static binary, raw syscalls) is not seen
// here, nor in a container by the runner's /proc check (it may not read another user's
// /proc/PID/syscall there: runner/waits.py): its waits count as run time. Nothing announced is
// trusted beyond a hint: the runner also requires the sandbox to be idle, and bounds a run's
// whole lifetime.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define CONTROL_FD 3 // runner/wire.py CONTROL_FD
#define READING 'r'  // runner/wire.py CONTROL_KINDS
#define READ_DONE 'd'

static int watching;
static struct stat control; // the runner's pipe, as fd 3 was at the start
static FILE *watched_stdin;  // the stream of fopencookie that stands in for glibc's stdin
static FILE *glibc_stdin;    // glibc's own, kept for freopen
static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_readv)(int, const struct iovec *, int);
static int (*real_epoll_wait)(int, struct epoll_event *, int, int);
static int (*real_epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);

// libc's own functions, found on first use: another library's constructor may read before ours.
static void find_real(void) {
    if (real_epoll_pwait != NULL) {
        return;
    }
    real_read = (ssize_t(*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
    real_readv = (ssize_t(*)(int, const struct iovec *, int))dlsym(RTLD_NEXT, "readv");
    real_epoll_wait = (int (*)(int, struct epoll_event *, int, int))dlsym(RTLD_NEXT, "epoll_wait");
    real_epoll_pwait =
        (int (*)(int, struct epoll_event *, int, int, const sigset_t *))dlsym(RTLD_NEXT, "epoll_pwait");
}

// One frame, in one write(2) so that threads and processes sharing the pipe never interleave:
// the kind, the payload's length (4 bytes, big-endian), then "PID TID".
static void announce(char kind) {
    char frame[64];
    int saved = errno;
    struct stat now;
    if (fstat(CONTROL_FD, &now) != 0 || now.st_ino != control.st_ino || now.st_dev != control.st_dev) {
        watching = 0; // the program closed fd 3 (and may have opened a file of its own there)
        errno = saved;
        return;
    }
    int length = snprintf(frame + 5, sizeof frame - 5, "%d %ld", getpid(), (long)syscall(SYS_gettid));
    frame[0] = kind;
    frame[1] = frame[2] = frame[3] = 0;
    frame[4] = (char)length;
    if (syscall(SYS_write, CONTROL_FD, frame, (size_t)(5 + length)) < 0 && errno == EPIPE) {
        watching = 0; // nobody listens any more
    }
    errno = saved;
}

// Whether a read of fd 0 would block: nothing buffered in the pipe (a file or /dev/null, whose
// FIONREAD fails or counts what is left, never waits for a person).
static int would_block(void) {
    int pending = 0;
    return watching && ioctl(0, FIONREAD, &pending) == 0 && pending == 0;
}

ssize_t read(int fd, void *buffer, size_t size) {
    find_real();
    if (fd != 0 || !would_block()) {
        return real_read(fd, buffer, size);
    }
    announce(READING);
    ssize_t got = real_read(fd, buffer, size);
    announce(READ_DONE);
    return got;
}

ssize_t __read_chk(int fd, void *buffer, size_t size, size_t buffer_size) {
    if (size > buffer_size) {
        __builtin_trap(); // what glibc's own check does, less its message
    }
    return read(fd, buffer, size);
}

ssize_t readv(int fd, const struct iovec *vectors, int count) {
    find_real();
    if (fd != 0 || !would_block()) {
        return real_readv(fd, vectors, count);
    }
    announce(READING);
    ssize_t got = real_readv(fd, vectors, count);
    announce(READ_DONE);
    return got;
}

static int loop_asleep(int timeout) {
    return watching && timeout == -1 && getpid() == (pid_t)syscall(SYS_gettid);
}

int epoll_wait(int epfd, struct epoll_event *events, int max, int timeout) {
    find_real();
    if (!loop_asleep(timeout)) {
        return real_epoll_wait(epfd, events, max, timeout);
    }
    announce(READING);
    int ready = real_epoll_wait(epfd, events, max, timeout);
    announce(READ_DONE);
    return ready;
}

int epoll_pwait(int epfd, struct epoll_event *events, int max, int timeout, const sigset_t *mask) {
    find_real();
    if (!loop_asleep(timeout)) {
        return real_epoll_pwait(epfd, events, max, timeout, mask);
    }
    announce(READING);
    int ready = real_epoll_pwait(epfd, events, max, timeout, mask);
    announce(READ_DONE);
    return ready;
}

// freopen(name, mode, stdin) reads a file instead (a common way to read test data): glibc's own
// stdin is reopened, as the program meant, since a cookie stream cannot become a file's.
static FILE *reopen(const char *function, const char *path, const char *mode, FILE *stream) {
    FILE *(*real)(const char *, const char *, FILE *) =
        (FILE * (*)(const char *, const char *, FILE *)) dlsym(RTLD_NEXT, function);
    if (stream == NULL || stream != watched_stdin) {
        return real(path, mode, stream);
    }
    FILE *reopened = real(path, mode, glibc_stdin);
    if (reopened != NULL) {
        stdin = reopened;
        watched_stdin = NULL;
    }
    return reopened;
}

FILE *freopen(const char *path, const char *mode, FILE *stream) {
    return reopen("freopen", path, mode, stream);
}

FILE *freopen64(const char *path, const char *mode, FILE *stream) {
    return reopen("freopen64", path, mode, stream);
}

static ssize_t stdin_cookie_read(void *cookie, char *buffer, size_t size) {
    (void)cookie;
    return read(0, buffer, size);
}

static int stdin_cookie_close(void *cookie) {
    (void)cookie;
    return 0; // fd 0 stays open, as it does when glibc closes its own stdin at exit
}

__attribute__((constructor)) static void watch_stdin(void) {
    find_real();
    // Only where the runner's pipe is fd 3 (a program that closed it runs unwatched) and stdin
    // is a pipe, the only stdin a person types into.
    struct stat input;
    watching = fstat(CONTROL_FD, &control) == 0 && S_ISFIFO(control.st_mode) && fstat(0, &input) == 0 &&
               S_ISFIFO(input.st_mode) && real_read && real_readv && real_epoll_wait && real_epoll_pwait;
    if (!watching) {
        return;
    }
    cookie_io_functions_t io = {.read = stdin_cookie_read, .close = stdin_cookie_close};
    FILE *watched = fopencookie(NULL, "r", io);
    if (watched != NULL) {
        watched->_fileno = 0; // fileno(stdin), isatty(fileno(stdin)) and friends as before
        glibc_stdin = stdin;
        watched_stdin = stdin = watched;
    }
}
