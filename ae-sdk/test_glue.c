/* Unit tests of the SDK's CoAP glue against a small in-test peer (a forked child
 * process on a loopback port) that plays both the MEF and the registrar CSE over one
 * DTLS-PSK endpoint: it knows Kpm for "device01" and "revoked", answers POST /enrol
 * with a KeID from its own side of the TLS exporter, and then accepts the Kpsa it
 * derived. What is checked is what a device sees: enrolment succeeds only when both
 * ends exported the same Ke, the PSK SAEF handshake works with the derived Kpsa,
 * oneM2M options come back, and refusals, RQI mismatches and silence are reported
 * with the documented codes.
 *
 * The peer is a stand-in kept for the faults it injects, which the real daemons never
 * show on demand: a 4.03 to /enrol after an accepted handshake ("revoked"), an answer
 * with another RQI ("badrqi"), no answer at all ("silent"). Its side of the key
 * agreement is written out here from docs/keys.md with wolfCrypt's HMAC (peer_derive),
 * not with the SDK's tae_core_* or common's cmn_kdf_*, so that agreeing with it checks
 * the SDK's derivation rather than the derivation against itself (its known answer:
 * peer_derivation_known_answer). The SDK against the real tep-enroller and tep-cse:
 * integration/test_29_stand_ins_replaced.py (and 01, 07, 60, 62). */
#include <arpa/inet.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <coap3/coap.h>
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hmac.h>

#include "cmn_coap.h"
#include "cmn_crypto.h"
#include "cmn_exporter.h"
#include "tep/tepae.h"
#include "tae_core.h"
#include "tst.h"

#define KPM_HEX "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define FQDN "mef.tep.local"

/* ---- the peer (child process) ----------------------------------------------------- */

static uint8_t peer_kpm[CMN_KEY_LEN];
static coap_bin_const_t peer_kpm_bin = {CMN_KEY_LEN, peer_kpm};
static char peer_ke_id[96], peer_kpsa_id[96]; /* what the peer derived at /enrol */
static uint8_t peer_kpsa[32];
static uint16_t peer_port;

/* Every Kpsa the peer derived (the last PEER_KEYS), for several devices at once. */
#define PEER_KEYS 16
static struct {
    char id[96];
    uint8_t key[32];
    coap_bin_const_t bin;
} peer_keys[PEER_KEYS];
static unsigned peer_n_keys;

/* HMAC-SHA-256(key, a || b) with wolfCrypt itself. */
static void hmac256(const uint8_t *key, size_t klen, const void *a, size_t alen, const void *b,
                    size_t blen, uint8_t out[32])
{
    Hmac h;

    assert_int_equal(wc_HmacInit(&h, NULL, INVALID_DEVID), 0);
    assert_int_equal(wc_HmacSetKey(&h, WC_SHA256, key, (word32)klen), 0);
    assert_int_equal(wc_HmacUpdate(&h, a, (word32)alen), 0);
    assert_int_equal(wc_HmacUpdate(&h, b, (word32)blen), 0);
    assert_int_equal(wc_HmacFinal(&h, out), 0);
    wc_HmacFree(&h);
}

static void hex16_at(const uint8_t *b, const char *fqdn, char *out, size_t len)
{
    size_t n = 0;

    for (int i = 0; i < 16; i++)
        n += (size_t)snprintf(out + n, len - n, "%02x", b[i]);
    snprintf(out + n, len - n, "@%s", fqdn);
}

/* docs/keys.md: the 48 exporter bytes are RelativeKeID (0..15) and Ke (16..47); KeID =
 * hex(RelativeKeID)@MEF-FQDN; Kpsa = HMAC-SHA-256(Ke, label || registrar CSE-ID);
 * KpsaID = hex(HMAC-SHA-256(Kpsa, "tep KpsaID")[0..15])@MEF-FQDN. */
static void peer_derive(const uint8_t exp[48], const char *csi)
{
    static const char label[] =
        "oneM2M Enrolment Key to Provisioned Secure Connection Key derivation";
    uint8_t id[32];

    hex16_at(exp, FQDN, peer_ke_id, sizeof(peer_ke_id));
    hmac256(exp + 16, 32, label, strlen(label), csi, strlen(csi), peer_kpsa);
    hmac256(peer_kpsa, sizeof(peer_kpsa), "tep KpsaID", 10, "", 0, id);
    hex16_at(id, FQDN, peer_kpsa_id, sizeof(peer_kpsa_id));
}

static void peer_remember_kpsa(void)
{
    unsigned i = peer_n_keys++ % PEER_KEYS;

    snprintf(peer_keys[i].id, sizeof(peer_keys[i].id), "%s", peer_kpsa_id);
    memcpy(peer_keys[i].key, peer_kpsa, sizeof(peer_kpsa));
    peer_keys[i].bin.s = peer_keys[i].key;
    peer_keys[i].bin.length = sizeof(peer_kpsa);
}

/* Kpm for "device01".."device09" and "revoked"; the Kpsa derived for a KpsaID. */
static const coap_bin_const_t *peer_psk(coap_bin_const_t *id, coap_session_t *s, void *arg)
{
    if ((id->length == 8 && memcmp(id->s, "device0", 7) == 0 && id->s[7] >= '1' &&
         id->s[7] <= '9') ||
        (id->length == 7 && memcmp(id->s, "revoked", 7) == 0))
        return &peer_kpm_bin;
    for (unsigned i = 0; i < PEER_KEYS; i++)
        if (peer_keys[i].id[0] && id->length == strlen(peer_keys[i].id) &&
            memcmp(id->s, peer_keys[i].id, id->length) == 0)
            return &peer_keys[i].bin;
    return NULL;
}

static void add_str_opt(coap_pdu_t *pdu, uint16_t num, const char *s)
{
    coap_add_option(pdu, num, strlen(s), (const uint8_t *)s);
}

static void answer_json(coap_pdu_t *resp, coap_pdu_code_t code, const char *json)
{
    coap_pdu_set_code(resp, code);
    coap_add_data(resp, strlen(json), (const uint8_t *)json);
}

static void on_enrol(coap_resource_t *r, coap_session_t *s, const coap_pdu_t *req,
                     const coap_string_t *q, coap_pdu_t *resp)
{
    const coap_bin_const_t *id = coap_session_get_psk_identity(s);
    uint8_t exp[CMN_EXPORTER_LEN];
    char json[1024];

    if (id != NULL && id->length == 7) { /* "revoked" */
        coap_pdu_set_code(resp, COAP_RESPONSE_CODE_FORBIDDEN);
        return;
    }
    cmn_tls_export(s, CMN_LABEL_BOOTSTRAP, exp, sizeof(exp));
    peer_derive(exp, "/tep-cse");
    peer_remember_kpsa();
    snprintf(json, sizeof(json),
             "{\"keid\":\"%s\",\"eid\":\"Cdevice01\",\"api\":\"Ntest\",\"exp\":4102444800,"
             "\"tgt\":{\"csi\":\"/tep-cse\",\"poa\":\"coaps://127.0.0.1:%u\",\"mafi\":\"maf\"}}",
             peer_ke_id, peer_port);
    answer_json(resp, COAP_RESPONSE_CODE_CREATED, json);
}

/* Echoes RQI (or a wrong one on "badrqi"), answers RSC and the From it saw. */
static void on_cse(coap_resource_t *r, coap_session_t *s, const coap_pdu_t *req,
                   const coap_string_t *q, coap_pdu_t *resp)
{
    char rqi[256] = "", from[256] = "none", path[256] = "", json[600];
    uint8_t buf[4];
    uint32_t ty = 0;
    bool create = coap_pdu_get_code(req) == COAP_REQUEST_CODE_POST;

    cmn_coap_uri_path(req, path, sizeof(path));
    if (strcmp(path, "tep-cse/silent") == 0)
        return; /* never answers */
    cmn_coap_opt_str(req, CMN_OPT_RQI, rqi, sizeof(rqi));
    cmn_coap_opt_str(req, CMN_OPT_FR, from, sizeof(from));
    cmn_coap_opt_uint(req, CMN_OPT_TY, &ty);
    if (create) {
        add_str_opt(resp, COAP_OPTION_LOCATION_PATH, "tep-cse");
        add_str_opt(resp, COAP_OPTION_LOCATION_PATH, "Cdevice01");
    }
    add_str_opt(resp, CMN_OPT_RQI, strcmp(path, "tep-cse/badrqi") == 0 ? "other" : rqi);
    coap_add_option(resp, CMN_OPT_RSC, coap_encode_var_safe(buf, sizeof(buf), create ? 2001 : 2000),
                    buf);
    snprintf(json, sizeof(json), "{\"from\":\"%s\",\"ty\":%u,\"path\":\"%s\",\"query\":\"%.*s\"}",
             from, ty, path, q != NULL ? (int)q->length : 0, q != NULL ? (const char *)q->s : "");
    answer_json(resp, create ? COAP_RESPONSE_CODE_CREATED : COAP_RESPONSE_CODE_CONTENT, json);
}

static void peer_resource(coap_context_t *ctx, const char *path, coap_request_t method,
                          coap_method_handler_t h)
{
    coap_resource_t *r = coap_resource_init(coap_make_str_const(path), 0);

    coap_register_handler(r, method, h);
    coap_add_resource(ctx, r);
}

static void peer_main(int ready_fd)
{
    coap_dtls_spsk_t spsk = {.version = COAP_DTLS_SPSK_SETUP_VERSION};
    coap_address_t addr;
    coap_context_t *ctx;

    coap_startup();
    coap_set_log_level(LOG_EMERG);
    coap_dtls_set_log_level(LOG_EMERG);
    cmn_hex_decode(KPM_HEX, peer_kpm, CMN_KEY_LEN);
    ctx = coap_new_context(NULL);
    spsk.validate_id_call_back = peer_psk;
    spsk.psk_info.key = peer_kpm_bin;
    if (ctx == NULL || !coap_context_set_psk2(ctx, &spsk) || cmn_coap_register_options(ctx) < 0)
        _exit(1);
    coap_address_init(&addr);
    addr.addr.sin.sin_family = AF_INET;
    addr.addr.sin.sin_port = htons(peer_port);
    addr.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.size = sizeof(struct sockaddr_in);
    if (coap_new_endpoint(ctx, &addr, COAP_PROTO_DTLS) == NULL)
        _exit(1);
    peer_resource(ctx, "enrol", COAP_REQUEST_POST, on_enrol);
    peer_resource(ctx, "tep-cse", COAP_REQUEST_POST, on_cse);
    peer_resource(ctx, "tep-cse/obj", COAP_REQUEST_GET, on_cse);
    peer_resource(ctx, "tep-cse/badrqi", COAP_REQUEST_GET, on_cse);
    peer_resource(ctx, "tep-cse/silent", COAP_REQUEST_GET, on_cse);
    if (write(ready_fd, "r", 1) != 1)
        _exit(1);
    for (;;)
        coap_io_process(ctx, 1000);
}

/* ---- the tests (parent) ------------------------------------------------------------ */

typedef struct {
    pid_t peer;
    char dir[64], prov[128], state[128];
} fixture;

static void write_prov(const fixture *f, const char *kpm_id, const char *kpm_hex)
{
    FILE *fp = fopen(f->prov, "w");

    assert_non_null(fp);
    fprintf(fp,
            "[device]\nkpm_id = %s\nkpm = %s\nmef_uri = coaps://127.0.0.1:%u\n"
            "mef_fqdn = " FQDN "\n",
            kpm_id, kpm_hex, peer_port);
    fclose(fp);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    int fds[2];
    char c;

    if (f == NULL || tst_tmpdir("glue", f->dir, sizeof(f->dir)) != 0 || pipe(fds) < 0)
        return -1;
    snprintf(f->prov, sizeof(f->prov), "%s/d.prov", f->dir);
    snprintf(f->state, sizeof(f->state), "%s/d.state", f->dir);
    peer_port = tst_free_udp_port();
    if ((f->peer = fork()) == 0) {
        close(fds[0]);
        peer_main(fds[1]);
    }
    close(fds[1]);
    if (f->peer < 0 || read(fds[0], &c, 1) != 1)
        return -1;
    close(fds[0]);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    int rc;

    kill(f->peer, SIGTERM);
    waitpid(f->peer, NULL, 0);
    rc = tst_rmtree(f->dir);
    free(f);
    return rc;
}

static tep_device *load(const fixture *f, const char *kpm_id, const char *kpm_hex)
{
    tep_device *dev = NULL;

    write_prov(f, kpm_id, kpm_hex);
    unlink(f->state);
    assert_int_equal(tep_device_load(f->prov, f->state, &dev), 0);
    tep_device_set_timeout(dev, 2000);
    return dev;
}

static void enrol_connect_register_retrieve(void **state)
{
    fixture *f = *state;
    tep_device *dev = load(f, "device01", KPM_HEX);
    tep_response *rsp = NULL;
    tep_conn *conn = NULL;
    struct stat st;

    assert_int_equal(tep_enrol(dev), 0); /* the peer's KeID matched ours: same Ke */
    assert_string_equal(tep_device_enrolee_id(dev), "Cdevice01");
    assert_string_equal(tep_device_app_id(dev), "Ntest");
    assert_int_equal(stat(f->state, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    assert_int_equal(tep_connect(dev, &conn), 0); /* PSK SAEF with the derived Kpsa */
    assert_int_equal(tep_register_ae(conn, NULL, NULL, &rsp), 0);
    assert_int_equal(rsp->rsc, 2001);
    assert_int_equal(rsp->coap_code, 201);
    assert_string_equal(rsp->location, "tep-cse/Cdevice01");
    assert_int_equal(strlen(rsp->rqi), 32);
    assert_non_null(strstr(rsp->body, "\"from\":\"Cdevice01\",\"ty\":2"));
    assert_true(tep_device_is_registered(dev));
    tep_response_free(rsp);

    assert_int_equal(tep_request(conn, TEP_OP_RETRIEVE, "/tep-cse/obj", 0, NULL, "", &rsp), 0);
    assert_int_equal(rsp->rsc, 2000);
    assert_null(rsp->location);
    assert_non_null(strstr(rsp->body, "\"from\":\"none\"")); /* "" = no From option */
    assert_non_null(strstr(rsp->body, "\"query\":\"\""));
    tep_response_free(rsp);

    /* "?a&b": one Uri-Query per part, the path stops at '?' */
    assert_int_equal(tep_retrieve(conn, "tep-cse/obj?tids=t1@maf&rcn=1", &rsp), 0);
    assert_non_null(strstr(rsp->body, "\"path\":\"tep-cse/obj\""));
    assert_non_null(strstr(rsp->body, "\"query\":\"tids=t1@maf&rcn=1\""));
    tep_response_free(rsp);

    assert_int_equal(tep_request(conn, TEP_OP_RETRIEVE, "tep-cse/badrqi", 0, NULL, NULL, &rsp),
                     TEP_EPROTO);
    tep_conn_set_timeout(conn, 300);
    assert_int_equal(tep_retrieve(conn, "tep-cse/silent", &rsp), TEP_ETIMEOUT);
    tep_conn_free(conn);
    tep_device_free(dev);
}

/* A known identity with the wrong key: the server cannot verify our Finished and, as
 * DTLS requires (RFC 6347 4.1.2.7), silently drops it, so the handshake never completes:
 * the device sees a timeout, not an alert. */
static void wrong_kpm_never_completes_and_nothing_written(void **state)
{
    fixture *f = *state;
    tep_device *dev =
        load(f, "device01", "ff112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
    struct stat st;

    tep_device_set_timeout(dev, 800);
    assert_int_equal(tep_enrol(dev), TEP_ETIMEOUT);
    assert_false(tep_device_is_enrolled(dev));
    assert_int_equal(stat(f->state, &st), -1);
    tep_device_free(dev);
}

static void unknown_identity_is_denied(void **state)
{
    fixture *f = *state;
    tep_device *dev = load(f, "stranger", KPM_HEX);

    assert_int_equal(tep_enrol(dev), TEP_EDENIED);
    tep_device_free(dev);
}

static void mef_403_is_denied(void **state)
{
    fixture *f = *state;
    tep_device *dev = load(f, "revoked", KPM_HEX);

    assert_int_equal(tep_enrol(dev), TEP_EDENIED);
    tep_device_free(dev);
}

/* The peer's derivation itself, against the known answer of docs/keys.md (Ke = bytes
 * 0..31, registrar /tep-cse). */
static void peer_derivation_known_answer(void **state)
{
    uint8_t exp[48];

    for (int i = 0; i < 16; i++)
        exp[i] = 0xa0;
    for (int i = 0; i < 32; i++)
        exp[16 + i] = (uint8_t)i;
    peer_derive(exp, "/tep-cse");
    assert_string_equal(peer_ke_id, "a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0@" FQDN);
    assert_int_equal(peer_kpsa[0], 0x43);
    assert_int_equal(peer_kpsa[31], 0x7c);
    assert_string_equal(peer_kpsa_id, "a3c17bd1c9c8dabf840873d1ffe1f1b9@" FQDN);
    memset(peer_kpsa_id, 0, sizeof(peer_kpsa_id));
}

static void bad_request_arguments(void **state)
{
    tep_response *rsp = NULL;

    assert_int_equal(tep_conn_plain("http://127.0.0.1:1", NULL, NULL), TEP_EINVAL);
    assert_int_equal(tep_request(NULL, TEP_OP_RETRIEVE, "x", 0, NULL, NULL, &rsp), TEP_EINVAL);
    assert_int_equal(tep_register_ae(NULL, NULL, NULL, &rsp), TEP_EINVAL);
}

/* tepae.h's promise, one device per thread: N threads each load, enrol, connect,
 * register and read with their own device at the same time (the process-wide random
 * generator and libcoap's start-up are shared). Every step succeeds in every thread and
 * every request carried its own RQI. CMocka's asserts are not for threads: each thread
 * records its results and the main thread checks them. */
#define THREADS 4
#define READS 5

typedef struct {
    const fixture *f;
    int n;
    char prov[160], state[160];
    int rc_load, rc_enrol, rc_connect, rc_register, rc_read;
    unsigned rsc_register, rsc_read;
    char rqi[READS][40];
} device_run;

static void *device_thread(void *arg)
{
    device_run *r = arg;
    tep_device *dev = NULL;
    tep_conn *conn = NULL;
    tep_response *rsp = NULL;

    if ((r->rc_load = tep_device_load(r->prov, r->state, &dev)) != 0)
        return NULL;
    tep_device_set_timeout(dev, 10000);
    if ((r->rc_enrol = tep_enrol(dev)) == 0 && (r->rc_connect = tep_connect(dev, &conn)) == 0 &&
        (r->rc_register = tep_register_ae(conn, NULL, NULL, &rsp)) == 0)
        r->rsc_register = rsp->rsc;
    tep_response_free(rsp);
    for (int i = 0; conn != NULL && i < READS && r->rc_read == 0; i++) {
        rsp = NULL;
        if ((r->rc_read = tep_retrieve(conn, "tep-cse/obj", &rsp)) == 0) {
            r->rsc_read = rsp->rsc;
            snprintf(r->rqi[i], sizeof(r->rqi[i]), "%s", rsp->rqi);
        }
        tep_response_free(rsp);
    }
    tep_conn_free(conn);
    tep_device_free(dev);
    return NULL;
}

static void devices_in_threads(void **state)
{
    fixture *f = *state;
    device_run runs[THREADS];
    pthread_t th[THREADS];

    memset(runs, 0, sizeof(runs));
    for (int i = 0; i < THREADS; i++) {
        char kpm_id[16];
        FILE *fp;

        runs[i].f = f;
        runs[i].n = i;
        snprintf(runs[i].prov, sizeof(runs[i].prov), "%s/t%d.prov", f->dir, i);
        snprintf(runs[i].state, sizeof(runs[i].state), "%s/t%d.state", f->dir, i);
        snprintf(kpm_id, sizeof(kpm_id), "device0%d", i + 1);
        assert_non_null(fp = fopen(runs[i].prov, "w"));
        fprintf(fp,
                "[device]\nkpm_id = %s\nkpm = %s\nmef_uri = coaps://127.0.0.1:%u\n"
                "mef_fqdn = " FQDN "\n",
                kpm_id, KPM_HEX, peer_port);
        fclose(fp);
    }
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, device_thread, &runs[i]), 0);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(runs[i].rc_load, 0);
        assert_int_equal(runs[i].rc_enrol, 0);
        assert_int_equal(runs[i].rc_connect, 0);
        assert_int_equal(runs[i].rc_register, 0);
        assert_int_equal(runs[i].rsc_register, 2001);
        assert_int_equal(runs[i].rc_read, 0);
        assert_int_equal(runs[i].rsc_read, 2000);
        for (int k = 0; k < READS; k++) {
            assert_int_equal(strlen(runs[i].rqi[k]), 32);
            for (int j = 0; j < THREADS; j++)
                for (int m = 0; m < READS; m++)
                    if (j != i || m != k)
                        assert_string_not_equal(runs[i].rqi[k], runs[j].rqi[m]);
        }
        unlink(runs[i].prov);
        unlink(runs[i].state);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* first: the threads make the process's first connection and first random draw */
        cmocka_unit_test(devices_in_threads),
        cmocka_unit_test(enrol_connect_register_retrieve),
        cmocka_unit_test(wrong_kpm_never_completes_and_nothing_written),
        cmocka_unit_test(unknown_identity_is_denied),
        cmocka_unit_test(mef_403_is_denied),
        cmocka_unit_test(bad_request_arguments),
        cmocka_unit_test(peer_derivation_known_answer),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
