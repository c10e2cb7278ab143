/* The command line and signals of the three daemons (cmn_daemon.h). */
#include "cmn_daemon.h"

#include <getopt.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>

#include "cmn_err.h"

static int usage_error(const cmn_daemon_cli *cli, const char *reason, const char *what)
{
    fprintf(cli->err, "%s: %s%s\n", cli->prog, reason, what != NULL ? what : "");
    cli->usage(cli->err);
    return 1;
}

int cmn_daemon_parse_args(const cmn_daemon_cli *cli, int argc, char **argv, cmn_daemon_args *ret)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"check-config", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},         {"version", no_argument, NULL, 'V'},
        {"foreground", no_argument, NULL, 'f'},   {NULL, 0, NULL, 0},
    };
    int o;

    memset(ret, 0, sizeof(*ret));
    optind = 0; /* glibc: full re-initialisation, so a test may parse twice */
    opterr = 0; /* the reason goes to cli->err below, not to stderr */
    while ((o = getopt_long(argc, argv, "c:hVvf", opts, NULL)) != -1) {
        switch (o) {
        case 'c':
            ret->config = optarg;
            break;
        case 'k':
            ret->check_only = true;
            break;
        case 'f':
            break; /* implicit: no daemon daemonises */
        case 'h':
            cli->usage(cli->out);
            return 0;
        case 'V':
        case 'v':
            fprintf(cli->out, "%s %s\n", cli->prog, cli->version);
            return 0;
        default:
            return usage_error(cli, "invalid option or missing argument: ", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error(cli, "unexpected argument: ", argv[optind]);
    if (ret->config == NULL)
        return usage_error(cli, "--config FILE is required", NULL);
    return CMN_DAEMON_GO_ON;
}

int cmn_daemon_signalfd(void)
{
    sigset_t set;
    int fd;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGPIPE);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
        return CMN_EIO;
    sigdelset(&set, SIGPIPE);
    fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    return fd >= 0 ? fd : CMN_EIO;
}
