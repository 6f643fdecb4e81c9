/*
 * The sandbox's init: bubblewrap starts it as PID 1 of the sandbox (bwrap --as-pid-1).
 *
 *   supervisor REPORT_FD STOP_FD CPU_SOFT CPU_HARD AS NPROC FSIZE NOFILE STACK -- PROGRAM [ARGS...]
 *
 * It forks PROGRAM with those resource limits (seconds or bytes; -1 leaves one as it is) at
 * niceness PROGRAM_NICENESS, below the server's own processes whatever the judge worker's is,
 * reaps every process of the sandbox while PROGRAM runs, and kills them all (kill(-1), which
 * from PID 1 reaches everything in the PID namespace) as soon as STOP_FD becomes readable or
 * is closed: the judge's way of stopping a run at the wall-clock or output limit. When PROGRAM
 * has ended it writes one line to REPORT_FD and exits, upon which the kernel kills anything
 * left in the namespace:
 *
 *   exit CODE UTIME_US STIME_US MAXRSS_KB      PROGRAM returned CODE
 *   signal SIGNO UTIME_US STIME_US MAXRSS_KB   a signal killed PROGRAM
 *   execfail ERRNO                             PROGRAM could not be started
 *
 * Times and peak resident memory cover PROGRAM and every process of it that was reaped; a
 * process never reaped is not counted, so when the run has a cgroup the judge reports the
 * cgroup's CPU time and memory peak instead (judge/cgroups.py) and uses these for the exit only.
 * PROGRAM never holds REPORT_FD or STOP_FD, and the supervisor is not dumpable, so PROGRAM
 * can neither ptrace it nor forge the report. judge/supervisor.py builds it with gcc.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

/* Ray starts its workers at niceness 15 unless told otherwise; `peerprep serve` runs them at 0. */
#define PROGRAM_NICENESS 15

static long long number(const char *text) {
    char *end = NULL;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0') {
        fprintf(stderr, "supervisor: bad number %s\n", text);
        exit(125);
    }
    return value;
}

static void set_limit(int resource, long long soft, long long hard) {
    if (soft < 0) {
        return;
    }
    struct rlimit limit = {(rlim_t)soft, (rlim_t)hard};
    if (setrlimit(resource, &limit) != 0) {
        _exit(124);
    }
}

static long long micros(struct timeval tv) { return (long long)tv.tv_sec * 1000000LL + tv.tv_usec; }

int main(int argc, char **argv) {
    if (argc < 12 || strcmp(argv[10], "--") != 0) {
        fprintf(stderr, "supervisor: usage: REPORT_FD STOP_FD CPU_SOFT CPU_HARD AS NPROC FSIZE NOFILE STACK -- PROGRAM\n");
        return 125;
    }
    int report = (int)number(argv[1]);
    int stop = (int)number(argv[2]);
    long long cpu_soft = number(argv[3]), cpu_hard = number(argv[4]);
    long long address_space = number(argv[5]), processes = number(argv[6]);
    long long file_size = number(argv[7]), open_files = number(argv[8]), stack = number(argv[9]);
    char **program = argv + 11;

    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    sigset_t children, original;
    sigemptyset(&children);
    sigaddset(&children, SIGCHLD);
    sigprocmask(SIG_BLOCK, &children, &original);
    int child_events = signalfd(-1, &children, SFD_CLOEXEC | SFD_NONBLOCK);
    int exec_pipe[2];
    if (child_events < 0 || pipe2(exec_pipe, O_CLOEXEC) != 0) {
        dprintf(report, "execfail %d\n", errno);
        return 0;
    }
    pid_t child = fork();
    if (child < 0) {
        dprintf(report, "execfail %d\n", errno);
        return 0;
    }
    if (child == 0) {
        sigprocmask(SIG_SETMASK, &original, NULL);
        close(report);
        close(stop);
        close(exec_pipe[0]);
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        set_limit(RLIMIT_CORE, 0, 0);
        set_limit(RLIMIT_CPU, cpu_soft, cpu_hard);
        set_limit(RLIMIT_AS, address_space, address_space);
        set_limit(RLIMIT_FSIZE, file_size, file_size);
        set_limit(RLIMIT_NOFILE, open_files, open_files);
        set_limit(RLIMIT_STACK, stack, stack);
        set_limit(RLIMIT_NPROC, processes, processes);
        setpriority(PRIO_PROCESS, 0, PROGRAM_NICENESS);
        execv(program[0], program);
        int failure = errno;
        ssize_t ignored = write(exec_pipe[1], &failure, sizeof failure);
        (void)ignored;
        _exit(127);
    }
    close(exec_pipe[1]);
    int failure = 0;
    ssize_t got;
    do {
        got = read(exec_pipe[0], &failure, sizeof failure);
    } while (got < 0 && errno == EINTR);
    close(exec_pipe[0]);

    int status = 0, stopped = 0;
    for (;;) {
        int reaped_status;
        pid_t reaped;
        while ((reaped = waitpid(-1, &reaped_status, WNOHANG)) > 0) {
            if (reaped == child) {
                status = reaped_status;
                goto done;
            }
        }
        if (reaped < 0 && errno == ECHILD) {
            break;
        }
        struct pollfd waiting[2] = {{child_events, POLLIN, 0}, {stop, POLLIN, 0}};
        if (poll(waiting, stopped ? 1 : 2, -1) < 0 && errno != EINTR) {
            break;
        }
        struct signalfd_siginfo info;
        while (read(child_events, &info, sizeof info) > 0) {
        }
        if (!stopped && waiting[1].revents != 0) {
            kill(-1, SIGKILL);
            stopped = 1;
        }
    }
done:
    if (got == (ssize_t)sizeof failure) {
        dprintf(report, "execfail %d\n", failure);
        return 0;
    }
    struct rusage usage;
    getrusage(RUSAGE_CHILDREN, &usage);
    const char *kind = WIFSIGNALED(status) ? "signal" : "exit";
    int value = WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status);
    dprintf(report, "%s %d %lld %lld %ld\n", kind, value, micros(usage.ru_utime), micros(usage.ru_stime),
            usage.ru_maxrss);
    return 0;
}
