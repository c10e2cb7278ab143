/* cmn_log: the line format operators and tests grep for, level filtering, one line
 * per event even when a value carries a line break, deferred lines. */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmn_err.h"
#include "cmn_log.h"

static char *buf;
static size_t buflen;
static FILE *mem;

static int setup(void **state)
{
    (void)state;
    mem = open_memstream(&buf, &buflen);
    return mem != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    fclose(mem);
    free(buf);
    buf = NULL;
    cmn_log_init("tep", CMN_LOG_INFO, NULL);
    return 0;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_line_format(void **state)
{
    regex_t re;
    (void)state;
    cmn_log_init("tep-cse", CMN_LOG_INFO, mem);
    CMN_INFO("coap", "event=ready listen=%s", "127.0.0.1:5683");
    fflush(mem);
    assert_int_equal(regcomp(&re,
                             "^ts=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\."
                             "[0-9]{3}Z lvl=info svc=tep-cse sub=coap "
                             "event=ready listen=127\\.0\\.0\\.1:5683\n$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    assert_int_equal(regexec(&re, buf, 0, NULL, 0), 0);
    regfree(&re);
}

static void test_level_filter(void **state)
{
    (void)state;
    cmn_log_init("tep-authz", CMN_LOG_WARN, mem);
    CMN_INFO("bus", "event=hidden");
    CMN_DEBUG("bus", "event=hidden2");
    CMN_WARN("bus", "event=shown1");
    CMN_ERR("bus", "event=shown2");
    fflush(mem);
    assert_int_equal(count_lines(buf), 2);
    assert_null(strstr(buf, "hidden"));
    assert_non_null(strstr(buf, "lvl=warn svc=tep-authz sub=bus event=shown1\n"));
    assert_non_null(strstr(buf, "lvl=error svc=tep-authz sub=bus event=shown2\n"));

    cmn_log_set_level(CMN_LOG_DEBUG);
    assert_int_equal(cmn_log_get_level(), CMN_LOG_DEBUG);
    CMN_DEBUG("bus", "event=now_shown");
    fflush(mem);
    assert_non_null(strstr(buf, "lvl=debug svc=tep-authz sub=bus event=now_shown\n"));
}

static void test_line_breaks_are_flattened(void **state)
{
    (void)state;
    cmn_log_init("tep-enroller", CMN_LOG_INFO, mem);
    CMN_INFO("enrol", "msg=\"%s\"", "a\nts=forged lvl=error\r");
    fflush(mem);
    assert_int_equal(count_lines(buf), 1);
    assert_non_null(strstr(buf, "msg=\"a ts=forged lvl=error \"\n"));
}

static void test_long_line_is_truncated_but_whole(void **state)
{
    char big[5000];
    (void)state;
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    cmn_log_init("tep-cse", CMN_LOG_INFO, mem);
    CMN_INFO("coap", "v=%s", big);
    CMN_INFO("coap", "event=after");
    fflush(mem);
    assert_int_equal(count_lines(buf), 2);
    assert_non_null(strstr(buf, "event=after\n"));
}

static void test_parse_level(void **state)
{
    cmn_log_level l = CMN_LOG_ERR;
    (void)state;
    assert_int_equal(cmn_log_parse_level("debug", &l), 0);
    assert_int_equal(l, CMN_LOG_DEBUG);
    assert_int_equal(cmn_log_parse_level("warn", &l), 0);
    assert_int_equal(l, CMN_LOG_WARN);
    assert_int_equal(cmn_log_parse_level("error", &l), 0);
    assert_int_equal(l, CMN_LOG_ERR);
    assert_int_equal(cmn_log_parse_level("info", &l), 0);
    assert_int_equal(l, CMN_LOG_INFO);
    assert_int_equal(cmn_log_parse_level("verbose", &l), CMN_EINVAL);
    assert_int_equal(cmn_log_parse_level("INFO", &l), CMN_EINVAL);
    assert_int_equal(cmn_log_parse_level(NULL, &l), CMN_EINVAL);
    assert_int_equal(l, CMN_LOG_INFO);
}

/* Deferred: info lines wait for cmn_log_flush(); a warn line leaves at once with the
 * lines before it, in order. A real file: what is on disk is what a reader sees. */
static long on_disk(FILE *f)
{
    struct stat st;

    assert_int_equal(fstat(fileno(f), &st), 0);
    return (long)st.st_size;
}

static void test_deferred_lines(void **state)
{
    FILE *f = tmpfile();
    char text[1024];
    size_t n;
    (void)state;

    assert_non_null(f);
    cmn_log_init("tep-cse", CMN_LOG_INFO, f);
    cmn_log_set_deferred(true);
    CMN_INFO("coap", "event=request n=1");
    CMN_INFO("coap", "event=request n=2");
    assert_int_equal(on_disk(f), 0); /* waiting in the buffer */
    cmn_log_flush();
    assert_true(on_disk(f) > 0);
    CMN_INFO("coap", "event=request n=3");
    CMN_WARN("pep", "event=decision_timeout");
    n = (size_t)pread(fileno(f), text, sizeof(text) - 1, 0);
    text[n] = '\0';
    assert_int_equal(count_lines(text), 4);
    assert_true(strstr(text, "n=3") < strstr(text, "event=decision_timeout"));
    assert_non_null(strstr(text, "n=1"));
    cmn_log_set_deferred(false);
    CMN_INFO("coap", "event=request n=4"); /* off again: flushed as written */
    assert_true(on_disk(f) > (long)n);
    cmn_log_init("tep", CMN_LOG_INFO, NULL);
    fclose(f);
}

/* The timestamp's second is formatted once per second (cached): a line written a
 * second later carries the later second. */
static void test_timestamp_follows_clock(void **state)
{
    char first[32], second[32];
    const char *ts;
    (void)state;

    cmn_log_init("tep", CMN_LOG_INFO, mem);
    CMN_INFO("t", "event=one");
    fflush(mem);
    assert_non_null(ts = strstr(buf, "ts="));
    snprintf(first, sizeof(first), "%.19s", ts + 3);
    usleep(1100 * 1000);
    CMN_INFO("t", "event=two");
    fflush(mem);
    assert_non_null(ts = strstr(strstr(buf, "event=one"), "ts="));
    snprintf(second, sizeof(second), "%.19s", ts + 3);
    assert_true(strcmp(second, first) > 0); /* "YYYY-mm-ddTHH:MM:SS" sorts as time */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_line_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_line_breaks_are_flattened, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_line_is_truncated_but_whole, setup, teardown),
        cmocka_unit_test(test_parse_level),
        cmocka_unit_test(test_deferred_lines),
        cmocka_unit_test_setup_teardown(test_timestamp_follows_clock, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
