/* DTLS flood guard (cmn_dtls_guard.h) and tep's libcoap patch item 5: the [dtls] rows
 * and their environment overrides; ClientHellos without a cookie answered with a
 * HelloVerifyRequest and no state kept; the handshake_flood report and its end; item 12:
 * the cookie secret replaced every cookie_lifetime_s. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cmn_config.h"
#include "cmn_dtls_guard.h"
#include "cmn_err.h"
#include "tst.h"

typedef struct {
    cmn_dtls_limits dtls;
} conf;

static const cmn_cfg_item table[] = {CMN_DTLS_CFG_ITEMS(conf, dtls)};
#define NT (sizeof(table) / sizeof(table[0]))

/* With var=value in the environment the table does not load, the error naming key. */
static void assert_refused(const char *var, const char *value, const char *key)
{
    conf c;
    char err[256];

    setenv(var, value, 1);
    assert_int_equal(cmn_config_load(NULL, table, NT, &c, err, sizeof(err)), CMN_ECONFIG);
    assert_non_null(strstr(err, key));
}

static void test_config(void **state)
{
    conf c;
    char err[256];

    unsetenv("TEP_DTLS_MAX_HANDSHAKES");
    unsetenv("TEP_DTLS_HANDSHAKE_TIMEOUT_S");
    unsetenv("TEP_DTLS_COOKIE_LIFETIME_S");
    memset(&c, 0, sizeof(c));
    assert_int_equal(cmn_config_load(NULL, table, NT, &c, err, sizeof(err)), 0);
    assert_int_equal(c.dtls.max_handshakes, 64);
    assert_int_equal(c.dtls.max_handshakes_per_addr, 16);
    assert_int_equal(c.dtls.handshake_timeout_s, 10);
    assert_int_equal(c.dtls.max_sessions_per_identity, 16);
    assert_int_equal(c.dtls.max_sessions, 10000);
    assert_int_equal(c.dtls.max_sessions_per_addr, 1024);
    assert_int_equal(c.dtls.idle_timeout_s, 300);
    assert_int_equal(c.dtls.cookie_lifetime_s, 60);
    setenv("TEP_DTLS_IDLE_TIMEOUT_S", "30", 1);
    assert_int_equal(cmn_config_load(NULL, table, NT, &c, err, sizeof(err)), 0);
    assert_int_equal(c.dtls.idle_timeout_s, 30);
    assert_refused("TEP_DTLS_IDLE_TIMEOUT_S", "4", "idle_timeout_s"); /* 5..86400 */
    unsetenv("TEP_DTLS_IDLE_TIMEOUT_S");
    setenv("TEP_DTLS_MAX_HANDSHAKES", "128", 1);
    assert_int_equal(cmn_config_load(NULL, table, NT, &c, err, sizeof(err)), 0);
    assert_int_equal(c.dtls.max_handshakes, 128);
    assert_refused("TEP_DTLS_HANDSHAKE_TIMEOUT_S", "0", "handshake_timeout_s"); /* 1..300 */
    unsetenv("TEP_DTLS_MAX_HANDSHAKES");
    unsetenv("TEP_DTLS_HANDSHAKE_TIMEOUT_S");
    setenv("TEP_DTLS_COOKIE_LIFETIME_S", "1", 1);
    assert_int_equal(cmn_config_load(NULL, table, NT, &c, err, sizeof(err)), 0);
    assert_int_equal(c.dtls.cookie_lifetime_s, 1);
    assert_refused("TEP_DTLS_COOKIE_LIFETIME_S", "3601", "cookie_lifetime_s"); /* 1..3600 */
    assert_refused("TEP_DTLS_COOKIE_LIFETIME_S", "0", "cookie_lifetime_s");
    unsetenv("TEP_DTLS_COOKIE_LIFETIME_S");
}

/* A DTLS 1.2 ClientHello without a cookie offering TLS_PSK_WITH_AES_128_CCM_8. */
static size_t client_hello(uint8_t *out)
{
    static const uint8_t tail[] = {0x00, 0x00, 0x02, 0xC0, 0xA8, 0x01, 0x00,
                                   0x00, 0x04, 0x00, 0x17, 0x00, 0x00};
    uint8_t body[2 + 32 + 2 + sizeof(tail)];
    size_t n = 0, i = 0;

    body[n++] = 0xfe;
    body[n++] = 0xfd;
    for (int k = 0; k < 32; k++)
        body[n++] = (uint8_t)rand();
    memcpy(body + n, tail, sizeof(tail)); /* session id 0, cookie 0, suites, comp, ext */
    n += sizeof(tail);
    memcpy(out, "\x16\xfe\xfd\x00\x00\x00\x00\x00\x00\x00\x00", 11);
    i = 11;
    out[i++] = (uint8_t)((n + 12) >> 8);
    out[i++] = (uint8_t)(n + 12);
    out[i++] = 1; /* client_hello */
    out[i++] = 0;
    out[i++] = (uint8_t)(n >> 8);
    out[i++] = (uint8_t)n;
    memset(out + i, 0, 5); /* message_seq 0, fragment_offset 0 */
    i += 5;
    out[i++] = 0;
    out[i++] = (uint8_t)(n >> 8);
    out[i++] = (uint8_t)n;
    memcpy(out + i, body, n);
    return i + n;
}

static const uint8_t psk_key[16] = "0123456789abcdef";

static coap_context_t *server_new(uint16_t port)
{
    coap_context_t *ctx = coap_new_context(NULL);
    coap_dtls_spsk_t spsk;
    coap_address_t addr;

    assert_non_null(ctx);
    memset(&spsk, 0, sizeof(spsk));
    spsk.version = COAP_DTLS_SPSK_SETUP_VERSION;
    spsk.psk_info.key.s = psk_key;
    spsk.psk_info.key.length = sizeof(psk_key);
    assert_int_equal(coap_context_set_psk2(ctx, &spsk), 1);
    coap_address_init(&addr);
    addr.addr.sin.sin_family = AF_INET;
    addr.addr.sin.sin_port = htons(port);
    addr.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.size = sizeof(struct sockaddr_in);
    assert_non_null(coap_new_endpoint(ctx, &addr, COAP_PROTO_DTLS));
    return ctx;
}

#define HELLOS 300

static void test_stateless_hellos_and_report(void **state)
{
    cmn_dtls_limits lim = {64, 4, 10, 16, 10000, 1024, 300, 60};
    uint16_t port = tst_free_udp_port();
    coap_context_t *ctx = server_new(port);
    cmn_dtls_guard *g = NULL;
    cmn_dtls_stats st;
    cmn_dtls_report r;
    struct sockaddr_in to = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {0, 200000};
    uint8_t buf[512];
    size_t n;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    time_t t0 = time(NULL);
    ssize_t got;
    char line[320];

    assert_int_equal(cmn_dtls_guard_new(ctx, &lim, NULL, &g), 0);
    assert_true(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    cmn_dtls_guard_stats(g, &st);
    assert_int_equal(st.stateless_hellos, 0);
    for (int i = 0; i < HELLOS; i++) {
        n = client_hello(buf);
        assert_int_equal(sendto(fd, buf, n, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)n);
        coap_io_process(ctx, COAP_IO_NO_WAIT);
    }
    do {
        coap_io_process(ctx, COAP_IO_NO_WAIT);
        cmn_dtls_guard_stats(g, &st);
    } while (st.stateless_hellos < HELLOS && time(NULL) - t0 < 5);
    assert_int_equal(st.stateless_hellos, HELLOS);
    assert_int_equal(st.in_progress, 0); /* no state for them */
    assert_int_equal(st.started, 0);
    /* each was answered with a HelloVerifyRequest (handshake type 3) */
    got = recv(fd, buf, sizeof(buf), 0);
    assert_true(got > 27);
    assert_int_equal(buf[0], 22);
    assert_int_equal(buf[13], 3);
    close(fd);

    /* 300 in the first second: a flood, reported at once */
    assert_true(cmn_dtls_guard_tick(g, 100000, &r));
    assert_false(r.ended);
    assert_int_equal(r.d_hellos, HELLOS);
    cmn_dtls_report_format(&r, line, sizeof(line));
    assert_non_null(strstr(line, "event=handshake_flood "));
    assert_non_null(strstr(line, "stateless_hellos=300"));
    cmn_dtls_guard_stats(g, &st);
    assert_true(st.flood);
    assert_int_equal(st.floods, 1);
    /* quiet: no line until 5 s without drops or hellos, then the end, heap trimmed */
    assert_false(cmn_dtls_guard_tick(g, 101000, &r));
    assert_false(cmn_dtls_guard_tick(g, 103000, &r));
    assert_true(cmn_dtls_guard_tick(g, 105000, &r));
    assert_true(r.ended);
    cmn_dtls_report_format(&r, line, sizeof(line));
    assert_non_null(strstr(line, "event=handshake_flood_over "));
    cmn_dtls_guard_stats(g, &st);
    assert_false(st.flood);
    assert_int_equal(st.heap_trims, 1);
    cmn_dtls_guard_free(g);
    coap_free_context(ctx);
}

/* The cookie of the HelloVerifyRequest ctx answers a cookieless ClientHello from fd with
 * (32 bytes, libcoap's HMAC-SHA256). */
static void hvr_cookie(coap_context_t *ctx, int fd, const struct sockaddr_in *to, uint8_t *cookie)
{
    uint8_t buf[512];
    size_t n = client_hello(buf);
    ssize_t got = -1;
    time_t t0 = time(NULL);

    assert_int_equal(sendto(fd, buf, n, 0, (const struct sockaddr *)to, sizeof(*to)), (ssize_t)n);
    while (got < 0 && time(NULL) - t0 < 5) {
        coap_io_process(ctx, COAP_IO_NO_WAIT);
        got = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    }
    /* record header 13, handshake header 12, server_version 2, cookie length 1 */
    assert_true(got >= 13 + 12 + 3 + 32);
    assert_int_equal(buf[13], 3); /* hello_verify_request */
    assert_int_equal(buf[13 + 12 + 2], 32);
    memcpy(cookie, buf + 13 + 12 + 3, 32);
}

/* Patch item 12: the cookie secret is replaced every cookie_lifetime_s (RFC 6347 4.2.1):
 * within it the same address gets the same cookie, after it another. */
static void test_cookie_secret_rotates(void **state)
{
    cmn_dtls_limits lim = {64, 4, 10, 16, 10000, 1024, 300, 1};
    uint16_t port = tst_free_udp_port();
    coap_context_t *ctx = server_new(port);
    cmn_dtls_guard *g = NULL;
    struct sockaddr_in to = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    uint8_t first[32], again[32], later[32];
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct timespec wait = {1, 100000000};

    assert_int_equal(cmn_dtls_guard_new(ctx, &lim, NULL, &g), 0);
    assert_true(fd >= 0);
    hvr_cookie(ctx, fd, &to, first);
    hvr_cookie(ctx, fd, &to, again);
    /* the secret may have been replaced between the two (a second boundary): one more */
    if (memcmp(first, again, sizeof(first)) != 0) {
        hvr_cookie(ctx, fd, &to, first);
        hvr_cookie(ctx, fd, &to, again);
    }
    assert_memory_equal(first, again, sizeof(first));
    nanosleep(&wait, NULL);
    hvr_cookie(ctx, fd, &to, later);
    assert_memory_not_equal(first, later, sizeof(first));
    close(fd);
    cmn_dtls_guard_free(g);
    coap_free_context(ctx);
}

static void test_status_keys(void **state)
{
    cmn_dtls_stats st = {.in_progress = 3, .dropped_full = 2, .dropped_per_addr = 5, .flood = true};
    const char *keys[CMN_DTLS_STATUS_N];
    char vals[CMN_DTLS_STATUS_N][24];

    cmn_dtls_stats_kv(&st, keys, vals);
    assert_string_equal(keys[0], "dtls_handshakes");
    assert_string_equal(vals[0], "3");
    assert_string_equal(keys[3], "dtls_handshakes_dropped");
    assert_string_equal(vals[3], "7");
    assert_string_equal(keys[6], "dtls_sessions_closed_per_addr");
    assert_string_equal(keys[CMN_DTLS_STATUS_N - 1], "dtls_flood");
    assert_string_equal(vals[CMN_DTLS_STATUS_N - 1], "true");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_stateless_hellos_and_report),
        cmocka_unit_test(test_cookie_secret_rotates),
        cmocka_unit_test(test_status_keys),
    };

    coap_startup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
