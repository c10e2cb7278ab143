/* authz_rate: a burst of 2 x rate, then rate per second; originators do not share a
 * bucket; a table full of other originators still gives a newcomer its own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "authz_rate.h"

static authz_rate r;

static int count(const char *who, int64_t now_ms, int n)
{
    int ok = 0;

    for (int i = 0; i < n; i++)
        ok += authz_rate_take(&r, who, now_ms);
    return ok;
}

static void test_burst_then_rate(void **state)
{
    (void)state;
    authz_rate_init(&r, 10);
    assert_int_equal(count("Cdevice01", 1000, 50), 20);   /* the burst */
    assert_int_equal(count("Cdevice02", 1000, 5), 5);     /* another originator unharmed */
    assert_int_equal(count("Cdevice01", 1500, 50), 5);    /* half a second: 5 more */
    assert_int_equal(count("Cdevice01", 100000, 50), 20); /* refilled to the burst only */
}

static void test_off(void **state)
{
    (void)state;
    authz_rate_init(&r, 0);
    assert_int_equal(count("Cdevice01", 0, 1000), 1000);
}

static void test_many_originators(void **state)
{
    char id[32];

    (void)state;
    authz_rate_init(&r, 1);
    for (int i = 0; i < 4 * AUTHZ_RATE_SLOTS; i++) {
        snprintf(id, sizeof(id), "Cflood%d", i);
        (void)count(id, 1000, 3);
    }
    assert_int_equal(count("Cnewcomer", 1000, 5), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_rate),
        cmocka_unit_test(test_off),
        cmocka_unit_test(test_many_originators),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
