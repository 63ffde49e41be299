/*
 * escape: an ABI-1 module that tries to get out of a sandbox, for the
 * host's sandbox tests. Each method makes one attempt and returns what
 * happened as text: "0" for success, or the errno number it failed with.
 *
 * Methods (arguments are one space-separated string):
 *   read PATH          open PATH for reading and read one byte
 *   write PATH         open PATH for writing (creating it) and write a byte
 *   create PATH        create PATH, which must not exist
 *   remove PATH        unlink PATH
 *   connect PORT       TCP connect to 127.0.0.1:PORT
 *   udp                open a UDP socket
 *   socketpair         socketpair(AF_UNIX)
 *   exec PATH          execve(PATH): on success the worker becomes PATH
 *   forkexec PATH      fork, execve(PATH) in the child; the child's status
 *   fork               fork a child that exits at once
 *   setsid             fork a child that calls setsid(): the errno of fork,
 *                      else the child's (0 when it left the process group)
 *   setpgid            the same with setpgid(0, 0)
 *   cloneparent        clone(CLONE_PARENT): a child of the worker's parent
 *   daemon             fork a child that tries to daemonise (setsid, then
 *                      fork again, the first child exiting) and sleeps for
 *                      a minute: returns "PID ERRNO", the sleeper's pid and
 *                      setsid's errno (0: it left the process group)
 *   ptrace             ptrace(PTRACE_TRACEME)
 *   mount DIR          mount a tmpfs on DIR (and unmount it again)
 *   bpf                create a BPF array map
 *   setuid             setuid(0)
 *   kill PID           kill(PID, 0)
 *   runid PATH         fork, execve(PATH, "-u") with its output in a pipe;
 *                      returns the output (an id(1) program: the euid)
 *   nnp                prctl(PR_GET_NO_NEW_PRIVS): "1" when set
 *   caps               the effective capability mask, in hex
 *   getenv NAME        the variable's value, or "(unset)"
 *   thread METHOD ARGS runs METHOD in a thread of the module's own
 *   ctor               what the constructor's attempts returned
 *   init               what memlink_init's attempts returned
 *
 * The constructor and memlink_init each try: read /etc/hostname, a UDP
 * socket, socketpair, fork, execve of a missing file (ENOENT unconfined,
 * EACCES in a sandbox, so the attempt never replaces the worker), and
 * kill(1, 0); memlink_init also tries ptrace(PTRACE_TRACEME) when its
 * configuration is "ptrace". Outside Linux every method returns code -1.
 */
#define _GNU_SOURCE
#include <string.h>

#include "memlink.h"

#ifdef __linux__
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <unistd.h>

static char ctor_result[512];
static char init_result[512];

static int err_or_zero(int rc) { return rc < 0 ? errno : 0; }

static int try_read(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno;
    }
    char c;
    int rc = read(fd, &c, 1) < 0 ? errno : 0;
    close(fd);
    return rc;
}

static int try_write(const char *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        return errno;
    }
    int rc = write(fd, "x", 1) < 0 ? errno : 0;
    close(fd);
    return rc;
}

static int try_create(const char *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        return errno;
    }
    close(fd);
    return 0;
}

static int try_socket(int domain, int type) {
    int fd = socket(domain, type | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return errno;
    }
    close(fd);
    return 0;
}

static int try_connect(const char *port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return errno;
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)atoi(port));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = err_or_zero(connect(fd, (struct sockaddr *)&sa, sizeof sa));
    close(fd);
    return rc;
}

static int try_socketpair(void) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        return errno;
    }
    close(sv[0]);
    close(sv[1]);
    return 0;
}

static int try_exec(const char *path) {
    char *argv[] = {(char *)path, NULL};
    char *envp[] = {NULL};
    execve(path, argv, envp);
    return errno;
}

static int try_fork(void) {
    pid_t pid = fork();
    if (pid < 0) {
        return errno;
    }
    if (pid == 0) {
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    return 0;
}

/* try_leave forks a child that tries to leave the worker's process group
 * (with setsid, or else setpgid(0, 0)) and exits with the errno it got. */
static int try_leave(int session) {
    pid_t pid = fork();
    if (pid < 0) {
        return errno;
    }
    if (pid == 0) {
        int rc = session ? (int)setsid() : setpgid(0, 0);
        _exit(rc < 0 ? errno : 0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* daemonise forks a grandchild that has tried to leave the worker's session
 * and sleeps; it writes "PID ERRNO" to out. */
static void daemonise(char *out, size_t cap) {
    int fds[2];
    if (pipe(fds) < 0) {
        snprintf(out, cap, "pipe %d", errno);
        return;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(out, cap, "fork %d", errno);
        close(fds[0]);
        close(fds[1]);
        return;
    }
    if (pid == 0) {
        int e = setsid() < 0 ? errno : 0;
        pid_t g = fork();
        if (g == 0) {
            char msg[32];
            int n = snprintf(msg, sizeof msg, "%d %d", (int)getpid(), e);
            write(fds[1], msg, (size_t)n);
            close(fds[1]);
            sleep(60);
        }
        _exit(0);
    }
    close(fds[1]);
    waitpid(pid, NULL, 0);
    ssize_t n = read(fds[0], out, cap - 1);
    close(fds[0]);
    out[n > 0 ? n : 0] = 0;
}

/* try_cloneparent makes a process whose parent is the worker's parent. */
static int try_cloneparent(void) {
    long pid = syscall(SYS_clone, (long)(CLONE_PARENT | SIGCHLD), 0L, 0L, 0L, 0L);
    if (pid < 0) {
        return errno;
    }
    if (pid == 0) {
        syscall(SYS_exit, 0);
    }
    return 0;
}

/* try_forkexec returns the errno of fork, or 1000 + the child's exit
 * status (127 when its execve failed). */
static int try_forkexec(const char *path) {
    pid_t pid = fork();
    if (pid < 0) {
        return errno;
    }
    if (pid == 0) {
        char *argv[] = {(char *)path, NULL};
        char *envp[] = {NULL};
        execve(path, argv, envp);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return 1000 + (WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

static int try_mount(const char *dir) {
    if (mount("none", dir, "tmpfs", 0, NULL) < 0) {
        return errno;
    }
    umount2(dir, MNT_DETACH);
    return 0;
}

static int try_bpf(void) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4;
    attr.value_size = 4;
    attr.max_entries = 1;
    long fd = syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr);
    if (fd < 0) {
        return errno;
    }
    close((int)fd);
    return 0;
}

/* run_id runs PATH -u with its standard output in a pipe and copies what
 * it printed (without the newline) to out, or writes "errno N". */
static void run_id(const char *path, char *out, size_t cap) {
    int p[2];
    if (pipe(p) < 0) {
        snprintf(out, cap, "errno %d", errno);
        return;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(out, cap, "errno %d", errno);
        close(p[0]);
        close(p[1]);
        return;
    }
    if (pid == 0) {
        dup2(p[1], 1);
        char *argv[] = {(char *)path, "-u", NULL};
        char *envp[] = {NULL};
        execve(path, argv, envp);
        _exit(127);
    }
    close(p[1]);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < cap && (r = read(p[0], out + n, cap - 1 - n)) > 0) {
        n += (size_t)r;
    }
    close(p[0]);
    waitpid(pid, NULL, 0);
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' ')) {
        n--;
    }
    out[n] = 0;
}

/* battery runs the attempts of the constructor and memlink_init. */
static void battery(char *out, size_t cap) {
    snprintf(out, cap, "read=%d udp=%d socketpair=%d fork=%d exec=%d kill=%d",
             try_read("/etc/hostname"), try_socket(AF_INET, SOCK_DGRAM),
             try_socketpair(), try_fork(), try_exec("/nonexistent/memlink-escape"),
             err_or_zero(kill(1, 0)));
}

__attribute__((constructor)) static void escape_ctor(void) {
    battery(ctor_result, sizeof ctor_result);
}

/* dispatch runs method name with argument arg and writes its result. */
static void dispatch(const char *name, const char *arg, char *out, size_t cap);

struct thread_job {
    char name[64];
    char arg[1024];
    char out[1024];
};

static void *thread_main(void *p) {
    struct thread_job *j = p;
    dispatch(j->name, j->arg, j->out, sizeof j->out);
    return NULL;
}

static void split(const char *in, char *name, size_t ncap, const char **arg) {
    const char *sp = strchr(in, ' ');
    size_t n = sp ? (size_t)(sp - in) : strlen(in);
    if (n >= ncap) {
        n = ncap - 1;
    }
    memcpy(name, in, n);
    name[n] = 0;
    *arg = sp ? sp + 1 : "";
}

static void dispatch(const char *name, const char *arg, char *out, size_t cap) {
    int rc = -1;
    if (strcmp(name, "read") == 0) {
        rc = try_read(arg);
    } else if (strcmp(name, "write") == 0) {
        rc = try_write(arg);
    } else if (strcmp(name, "create") == 0) {
        rc = try_create(arg);
    } else if (strcmp(name, "remove") == 0) {
        rc = err_or_zero(unlink(arg));
    } else if (strcmp(name, "connect") == 0) {
        rc = try_connect(arg);
    } else if (strcmp(name, "udp") == 0) {
        rc = try_socket(AF_INET, SOCK_DGRAM);
    } else if (strcmp(name, "socketpair") == 0) {
        rc = try_socketpair();
    } else if (strcmp(name, "exec") == 0) {
        rc = try_exec(arg);
    } else if (strcmp(name, "forkexec") == 0) {
        rc = try_forkexec(arg);
    } else if (strcmp(name, "fork") == 0) {
        rc = try_fork();
    } else if (strcmp(name, "setsid") == 0) {
        rc = try_leave(1);
    } else if (strcmp(name, "setpgid") == 0) {
        rc = try_leave(0);
    } else if (strcmp(name, "daemon") == 0) {
        daemonise(out, cap);
        return;
    } else if (strcmp(name, "cloneparent") == 0) {
        rc = try_cloneparent();
    } else if (strcmp(name, "ptrace") == 0) {
        rc = err_or_zero((int)ptrace(PTRACE_TRACEME, 0, NULL, NULL));
    } else if (strcmp(name, "mount") == 0) {
        rc = try_mount(arg);
    } else if (strcmp(name, "bpf") == 0) {
        rc = try_bpf();
    } else if (strcmp(name, "setuid") == 0) {
        rc = err_or_zero(setuid(0));
    } else if (strcmp(name, "kill") == 0) {
        rc = err_or_zero(kill(atoi(arg), 0));
    } else if (strcmp(name, "runid") == 0) {
        run_id(arg, out, cap);
        return;
    } else if (strcmp(name, "nnp") == 0) {
        rc = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
    } else if (strcmp(name, "caps") == 0) {
        struct {
            unsigned int version;
            int pid;
        } hdr = {0x20080522, 0};
        struct {
            unsigned int effective, permitted, inheritable;
        } data[2];
        if (syscall(SYS_capget, &hdr, data) < 0) {
            snprintf(out, cap, "errno %d", errno);
        } else {
            snprintf(out, cap, "%08x%08x", data[1].effective, data[0].effective);
        }
        return;
    } else if (strcmp(name, "getenv") == 0) {
        const char *v = getenv(arg);
        snprintf(out, cap, "%s", v ? v : "(unset)");
        return;
    } else if (strcmp(name, "ctor") == 0) {
        snprintf(out, cap, "%s", ctor_result);
        return;
    } else if (strcmp(name, "init") == 0) {
        snprintf(out, cap, "%s", init_result);
        return;
    } else if (strcmp(name, "thread") == 0) {
        struct thread_job *j = calloc(1, sizeof *j);
        if (j == NULL) {
            snprintf(out, cap, "errno %d", ENOMEM);
            return;
        }
        const char *inner;
        split(arg, j->name, sizeof j->name, &inner);
        snprintf(j->arg, sizeof j->arg, "%s", inner);
        pthread_t t;
        int e = pthread_create(&t, NULL, thread_main, j);
        if (e != 0) {
            snprintf(out, cap, "pthread_create %d", e);
        } else {
            pthread_join(t, NULL);
            snprintf(out, cap, "%s", j->out);
        }
        free(j);
        return;
    } else {
        snprintf(out, cap, "unknown method %s", name);
        return;
    }
    snprintf(out, cap, "%d", rc);
}
#endif

MEMLINK_EXPORT int memlink_init(const unsigned char *config,
                                unsigned long config_len) {
#ifdef __linux__
    battery(init_result, sizeof init_result);
    /* The configuration "ptrace" makes memlink_init try it too. */
    if (config_len == 6 && memcmp(config, "ptrace", 6) == 0) {
        ptrace(PTRACE_TRACEME, 0, NULL, NULL);
    }
#else
    (void)config;
    (void)config_len;
#endif
    return MEMLINK_OK;
}

MEMLINK_EXPORT int memlink_call(unsigned int method_id,
                                const unsigned char *args,
                                unsigned long args_len,
                                unsigned char *output) {
    (void)method_id;
#ifdef __linux__
    char in[2048];
    if (args_len >= sizeof in) {
        return MEMLINK_ERR_INVALID_ARGS;
    }
    memcpy(in, args, args_len);
    in[args_len] = 0;
    char name[64];
    const char *arg;
    split(in, name, sizeof name, &arg);
    dispatch(name, arg, (char *)output, 4096);
    return MEMLINK_OK;
#else
    (void)args;
    (void)args_len;
    output[0] = 0;
    return MEMLINK_ERR_GENERAL;
#endif
}

MEMLINK_EXPORT int memlink_shutdown(void) { return MEMLINK_OK; }
