/* cmn_daemon: what an operator sees on the command line of every daemon, and the
 * signalfd that turns SIGTERM into a readable stop request. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmn_daemon.h"

static char *out_buf, *err_buf;
static size_t out_len, err_len;

static void usage(FILE *out)
{
    fputs("usage: tep-test --config FILE\n", out);
}

/* Parses argv (NULL-terminated) with fresh output streams; returns the exit code. */
static int parse(cmn_daemon_args *ret, const char *first, ...)
{
    char *argv[16];
    int argc = 0, rc;
    va_list ap;
    cmn_daemon_cli cli = {.prog = "tep-test", .version = "9.8.7", .usage = usage};

    free(out_buf);
    free(err_buf);
    cli.out = open_memstream(&out_buf, &out_len);
    cli.err = open_memstream(&err_buf, &err_len);
    assert_non_null(cli.out);
    assert_non_null(cli.err);
    argv[argc++] = (char *)"tep-test";
    va_start(ap, first);
    for (const char *a = first; a != NULL && argc < 15; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    rc = cmn_daemon_parse_args(&cli, argc, argv, ret);
    fclose(cli.out);
    fclose(cli.err);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    free(out_buf);
    free(err_buf);
    out_buf = err_buf = NULL;
    return 0;
}

static void test_config_and_check(void **state)
{
    cmn_daemon_args a;
    (void)state;

    assert_int_equal(parse(&a, "--config", "/etc/tep/x.ini", NULL), CMN_DAEMON_GO_ON);
    assert_string_equal(a.config, "/etc/tep/x.ini");
    assert_false(a.check_only);
    assert_int_equal(parse(&a, "--check-config", "-c", "y.ini", "--foreground", NULL),
                     CMN_DAEMON_GO_ON);
    assert_string_equal(a.config, "y.ini");
    assert_true(a.check_only);
    assert_int_equal(out_len + err_len, 0);
}

static void test_help_and_version(void **state)
{
    cmn_daemon_args a;
    (void)state;

    assert_int_equal(parse(&a, "--help", NULL), 0);
    assert_string_equal(out_buf, "usage: tep-test --config FILE\n");
    assert_int_equal(parse(&a, "--version", NULL), 0);
    assert_string_equal(out_buf, "tep-test 9.8.7\n");
    assert_int_equal(parse(&a, "-V", NULL), 0);
    assert_string_equal(out_buf, "tep-test 9.8.7\n");
    assert_int_equal(err_len, 0);
}

static void test_usage_errors(void **state)
{
    cmn_daemon_args a;
    (void)state;

    assert_int_equal(parse(&a, NULL), 1);
    assert_non_null(strstr(err_buf, "tep-test: --config FILE is required\n"));
    assert_non_null(strstr(err_buf, "usage: tep-test"));
    assert_int_equal(parse(&a, "--config", "x.ini", "extra", NULL), 1);
    assert_non_null(strstr(err_buf, "tep-test: unexpected argument: extra\n"));
    assert_int_equal(parse(&a, "--bogus", "--config", "x.ini", NULL), 1);
    assert_non_null(strstr(err_buf, "tep-test: invalid option or missing argument: --bogus\n"));
    assert_int_equal(parse(&a, "--config", NULL), 1);
    assert_non_null(strstr(err_buf, "--config\n"));
    assert_int_equal(out_len, 0);
}

/* SIGTERM sent to the process is read from the fd, not delivered as a signal. */
static void test_signalfd_reads_sigterm(void **state)
{
    struct signalfd_siginfo si;
    int fd = cmn_daemon_signalfd();
    (void)state;

    assert_true(fd >= 0);
    assert_int_equal(read(fd, &si, sizeof(si)), -1); /* non-blocking, nothing yet */
    assert_int_equal(kill(getpid(), SIGTERM), 0);
    assert_int_equal(read(fd, &si, sizeof(si)), (ssize_t)sizeof(si));
    assert_int_equal(si.ssi_signo, SIGTERM);
    assert_int_equal(kill(getpid(), SIGPIPE), 0); /* blocked: the process lives on */
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_config_and_check, teardown),
        cmocka_unit_test_teardown(test_help_and_version, teardown),
        cmocka_unit_test_teardown(test_usage_errors, teardown),
        cmocka_unit_test(test_signalfd_reads_sigterm),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
