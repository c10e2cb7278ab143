/* Unit tests of the notification listener (tep_listen(), SA2 of TS-0003 8.2.1): a real
 * DTLS-PSK client (the SDK's own tae_client, the one libcoap) against it on a loopback
 * port. What a device sees: a NOTIFY with the device's own KpsaID/Kpsa is answered
 * 2.04 RSC 2000 and comes out of tep_listener_next() with its From, RQI, path and
 * identity, a verification request flagged; another identity or another key never
 * completes a handshake; a full queue is 5.03 and counted; a body over the bound is
 * refused; other methods 4.05. The real tep-cse as the client: integration 147, 148. */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmn_err.h"
#include "tae_client.h"
#include "tae_device.h"
#include "tae_maf_client.h"
#include "tep/tepae.h"
#include "tst.h"

#define KPM_HEX "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define KE_HEX "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"
#define PROV                                                                                       \
    "[device]\nkpm_id = device01\nkpm = " KPM_HEX "\n"                                             \
    "mef_uri = coaps://127.0.0.1:1\nmef_fqdn = mef.tep.local\n"

typedef struct {
    char dir[64];
    char prov[128];
    char state[128];
    char uri[64];
    tep_device *dev;
    tep_listener *l;
} fixture;

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A free UDP port on the loopback (bound and released). */
static unsigned free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    char text[1024];

    if (f == NULL || tst_tmpdir("tepae-listen", f->dir, sizeof(f->dir)) != 0)
        return -1;
    snprintf(f->prov, sizeof(f->prov), "%s/device.prov", f->dir);
    snprintf(f->state, sizeof(f->state), "%s/device.state", f->dir);
    write_file(f->prov, PROV);
    snprintf(text, sizeof(text),
             "[enrolment]\nke_id = 000102030405060708090a0b0c0d0e0f@mef.tep.local\n"
             "ke = " KE_HEX "\nenrolee_id = Cdevice01\napp_id = Ntepdemo\n"
             "registrar_cse_id = /tep-cse\nregistrar_poa = coaps://127.0.0.1:1\n"
             "maf_id = maf.tep.local\nexpires = %lld\n",
             (long long)time(NULL) + 3600);
    write_file(f->state, text);
    assert_int_equal(tep_device_load(f->prov, f->state, &f->dev), 0);
    snprintf(f->uri, sizeof(f->uri), "coaps://127.0.0.1:%u", free_port());
    assert_int_equal(tep_listen(f->dev, f->uri, NULL, &f->l), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    int rc;

    tep_listener_free(f->l);
    tep_device_free(f->dev);
    rc = tst_rmtree(f->dir);
    free(f);
    return rc;
}

/* A DTLS-PSK client with identity/key, as tep-cse is one. */
static int client(const fixture *f, const char *identity, const uint8_t *key, tep_conn **ret)
{
    tae_psk_creds creds = {.identity = identity, .psk = key, .sni = "127.0.0.1"};

    return tae_client_open(f->uri, &creds, 1500, TAE_CLIENT_NACK_ENDS_WAIT, ret);
}

static tep_response *notify(tep_conn *c, const char *path, const char *body)
{
    tae_exchange ex = {.code = COAP_REQUEST_CODE_POST,
                       .path = path,
                       .body = body,
                       .from = "/tep-cse",
                       .onem2m = true};
    tep_response *rsp = NULL;

    assert_int_equal(tae_client_exchange(c, &ex, &rsp), 0);
    return rsp;
}

static void notification_with_the_devices_key_is_delivered(void **state)
{
    fixture *f = *state;
    tep_conn *c = NULL;
    tep_response *rsp;
    tep_notification *n = NULL;

    assert_int_equal(client(f, f->dev->enr.kpsa_id, f->dev->enr.kpsa, &c), 0);
    rsp = notify(c, "n", "{\"m2m:sgn\":{\"vrq\":true,\"sur\":\"tep-cse/C/d/s\",\"cr\":\"C\"}}");
    assert_int_equal(rsp->coap_code, 204);
    assert_int_equal(rsp->rsc, 2000);
    tep_response_free(rsp);
    rsp = notify(c, "n/x", "{\"m2m:sgn\":{\"nev\":{\"net\":3},\"sur\":\"tep-cse/C/d/s\"}}");
    assert_int_equal(rsp->rsc, 2000);
    tep_response_free(rsp);
    tep_conn_free(c);

    assert_int_equal(tep_listener_next(f->l, 1000, &n), 0);
    assert_string_equal(n->from, "/tep-cse");
    assert_string_equal(n->path, "n");
    assert_string_equal(n->identity, f->dev->enr.kpsa_id);
    assert_int_equal(n->verification, 1);
    assert_true(strlen(n->rqi) > 0);
    tep_notification_free(n);
    assert_int_equal(tep_listener_next(f->l, 1000, &n), 0);
    assert_string_equal(n->path, "n/x");
    assert_int_equal(n->verification, 0);
    assert_non_null(strstr(n->body, "\"net\":3"));
    tep_notification_free(n);
    assert_int_equal(tep_listener_next(f->l, 0, &n), TEP_ETIMEOUT);
    assert_null(n);
    assert_int_equal(tep_listener_refused(f->l), 0);
}

static void another_identity_or_key_never_connects(void **state)
{
    fixture *f = *state;
    uint8_t wrong[CMN_KEY_LEN];
    tep_conn *c = NULL;
    tep_notification *n = NULL;
    int rc;

    memcpy(wrong, f->dev->enr.kpsa, sizeof(wrong));
    wrong[0] ^= 1;
    /* another AE's identity: refused at once (counted) */
    rc = client(f, "00000000000000000000000000000000@mef.tep.local", f->dev->enr.kpsa, &c);
    assert_true(rc == TEP_EDENIED || rc == TEP_ETIMEOUT);
    assert_null(c);
    assert_int_equal(tep_listener_refused(f->l), 1);
    /* the device's identity with another key: the Finished does not verify */
    rc = client(f, f->dev->enr.kpsa_id, wrong, &c);
    assert_true(rc == TEP_EDENIED || rc == TEP_ETIMEOUT);
    assert_null(c);
    assert_int_equal(tep_listener_next(f->l, 200, &n), TEP_ETIMEOUT);
}

static void bounds_and_methods(void **state)
{
    fixture *f = *state;
    tep_conn *c = NULL;
    tep_response *rsp;
    tep_notification *n = NULL;
    tae_exchange get = {.code = COAP_REQUEST_CODE_GET, .path = "n", .onem2m = true};
    char *big = malloc(TEP_LISTEN_BODY_MAX + 2);

    assert_non_null(big);
    memset(big, 'a', TEP_LISTEN_BODY_MAX + 1);
    big[0] = '"';
    big[TEP_LISTEN_BODY_MAX] = '"';
    big[TEP_LISTEN_BODY_MAX + 1] = '\0';
    assert_int_equal(client(f, f->dev->enr.kpsa_id, f->dev->enr.kpsa, &c), 0);
    /* a GET is no NOTIFY */
    assert_int_equal(tae_client_exchange(c, &get, &rsp), 0);
    assert_int_equal(rsp->coap_code, 405);
    tep_response_free(rsp);
    /* the queue holds TEP_LISTEN_QUEUE_MAX; the next is 5.03 and counted */
    for (int i = 0; i < TEP_LISTEN_QUEUE_MAX; i++) {
        rsp = notify(c, "n", "{\"m2m:sgn\":{}}");
        assert_int_equal(rsp->rsc, 2000);
        tep_response_free(rsp);
    }
    rsp = notify(c, "n", "{\"m2m:sgn\":{}}");
    assert_int_equal(rsp->coap_code, 503);
    tep_response_free(rsp);
    assert_int_equal(tep_listener_refused(f->l), 1);
    for (int i = 0; i < TEP_LISTEN_QUEUE_MAX; i++) {
        assert_int_equal(tep_listener_next(f->l, 1000, &n), 0);
        tep_notification_free(n);
    }
    /* a body over the bound: refused during the Block1 transfer (4.13) */
    rsp = notify(c, "n", big);
    assert_true(rsp->coap_code == 413 || rsp->coap_code == 400);
    tep_response_free(rsp);
    assert_int_equal(tep_listener_next(f->l, 200, &n), TEP_ETIMEOUT);
    tep_conn_free(c);
    free(big);
}

/* A device that connected with a Kc (MAF-based SAEF) gets its SA2 with that Kc: the
 * listener given the kc takes its Key Identifier too, the Kpsa still. */
static void listener_with_a_kc(void **state)
{
    fixture *f = *state;
    const char *kc_id = "0123456789abcdef0123456789abcdef@maf.tep.local";
    uint8_t kc_key[CMN_KEY_LEN];
    char uri[64];
    tep_kc *kc = NULL;
    tep_listener *l = NULL;
    tep_conn *c = NULL;
    tep_response *rsp;
    tep_notification *n = NULL;

    memset(kc_key, 0x42, sizeof(kc_key));
    assert_int_equal(tae_kc_new(kc_id, kc_key, time(NULL) + 3600, "reg", 32, "/tep-cse", &kc), 0);
    snprintf(uri, sizeof(uri), "coaps://127.0.0.1:%u", free_port());
    assert_int_equal(tep_listen(f->dev, uri, kc, &l), 0);
    tep_kc_free(kc); /* copied */
    snprintf(f->uri, sizeof(f->uri), "%s", uri);
    assert_int_equal(client(f, kc_id, kc_key, &c), 0);
    rsp = notify(c, "n", "{\"m2m:sgn\":{}}");
    assert_int_equal(rsp->rsc, 2000);
    tep_response_free(rsp);
    tep_conn_free(c);
    assert_int_equal(tep_listener_next(l, 1000, &n), 0);
    assert_string_equal(n->identity, kc_id);
    tep_notification_free(n);
    assert_int_equal(client(f, f->dev->enr.kpsa_id, f->dev->enr.kpsa, &c), 0);
    tep_conn_free(c);
    tep_listener_free(l);
    /* an end-to-end key is no DTLS PSK */
    assert_int_equal(tae_kc_new(kc_id, kc_key, time(NULL) + 3600, "reg", 34, "/tep-cse", &kc), 0);
    assert_int_equal(tep_listen(f->dev, uri, kc, &l), TEP_EINVAL);
    tep_kc_free(kc);
}

static void bad_arguments(void **state)
{
    fixture *f = *state;
    tep_listener *l = NULL;
    tep_notification *n = NULL;

    assert_int_equal(tep_listen(NULL, f->uri, NULL, &l), TEP_EINVAL);
    assert_int_equal(tep_listen(f->dev, "coap://127.0.0.1:5683", NULL, &l), TEP_EINVAL);
    assert_int_equal(tep_listen(f->dev, "coaps://localhost:5684", NULL, &l), TEP_EINVAL);
    assert_int_equal(tep_listen(f->dev, f->uri, NULL, &l), TEP_EIO); /* the port is taken */
    assert_null(l);
    assert_int_equal(tep_listener_next(NULL, 0, &n), TEP_EINVAL);
    assert_int_equal(tep_listener_refused(NULL), 0);
    tep_listener_free(NULL);
    tep_notification_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(notification_with_the_devices_key_is_delivered, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(another_identity_or_key_never_connects, setup, teardown),
        cmocka_unit_test_setup_teardown(bounds_and_methods, setup, teardown),
        cmocka_unit_test_setup_teardown(listener_with_a_kc, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_arguments, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
