/* tepctl: admin round trips and daemon configuration lookups. */
#include "tctl.h"

#include <ctype.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmn_bus.h"
#include "cmn_err.h"

typedef struct {
    const char *section, *key;
    char *buf;
    size_t len;
    int found;
} ini_lookup;

static int ini_one(void *user, const char *section, const char *name, const char *value)
{
    ini_lookup *l = user;

    if (strcasecmp(section, l->section) == 0 && strcasecmp(name, l->key) == 0) {
        snprintf(l->buf, l->len, "%s", value);
        l->found = 1;
    }
    return 1;
}

static void env_name(const char *section, const char *key, char *buf, size_t len)
{
    size_t i;

    snprintf(buf, len, "TEP_%s_%s", section, key);
    for (i = 0; buf[i]; i++)
        buf[i] = (buf[i] == '-' || buf[i] == '.') ? '_' : (char)toupper((unsigned char)buf[i]);
}

int tctl_setting(const tctl_opts *o, const char *section, const char *key, char *buf, size_t len)
{
    char name[128];
    const char *env;
    ini_lookup l = {section, key, buf, len, 0};

    env_name(section, key, name, sizeof(name));
    env = getenv(name);
    if (env != NULL) {
        snprintf(buf, len, "%s", env);
        return 0;
    }
    if (o->config == NULL || ini_parse(o->config, ini_one, &l) < 0)
        return CMN_ENOTFOUND;
    return l.found ? 0 : CMN_ENOTFOUND;
}

void tctl_admin_endpoint(const tctl_opts *o, const char *daemon, char *buf, size_t len)
{
    if (o->admin != NULL) {
        snprintf(buf, len, "%s", o->admin);
        return;
    }
    if (o->config != NULL && tctl_setting(o, "bus", "admin", buf, len) == 0)
        return;
    snprintf(buf, len, "ipc:///run/tep/%s-admin.ipc", daemon);
}

static int check_answer(const Tep__Envelope *resp)
{
    if (resp->body_case == TEP__ENVELOPE__BODY_ERROR) {
        fprintf(stderr, "tepctl: refused: %s: %s\n", cmn_strerror(resp->error->err),
                resp->error->message);
        return TCTL_REFUSED;
    }
    if (resp->body_case != TEP__ENVELOPE__BODY_ADMIN_RESP) {
        fprintf(stderr, "tepctl: the daemon answered something else than an admin response\n");
        return TCTL_REFUSED;
    }
    if (resp->admin_resp->err != 0) {
        fprintf(stderr, "tepctl: refused: %s: %s\n", cmn_strerror(resp->admin_resp->err),
                resp->admin_resp->message);
        return TCTL_REFUSED;
    }
    return TCTL_OK;
}

/* CURVE for tcp:// admin endpoints: [bus] curve, curve_dir, curve_key, curve_name of
 * --config (or TEP_BUS_*). tepctl then uses that key pair: run it with the daemon's own
 * configuration, or with one of its own whose key is published in curve_dir. */
static int enable_curve(const tctl_opts *o, cmn_bus *bus)
{
    char on[16], dir[1024], key[1024], name[256];
    cmn_bus_curve c = {.enabled = true, .key_dir = dir, .key_file = key, .name = name};
    int rc;

    if (tctl_setting(o, "bus", "curve", on, sizeof(on)) != 0 ||
        !(strcasecmp(on, "true") == 0 || strcasecmp(on, "yes") == 0 || strcasecmp(on, "on") == 0 ||
          strcmp(on, "1") == 0))
        return 0;
    if (tctl_setting(o, "bus", "curve_dir", dir, sizeof(dir)) != 0 ||
        tctl_setting(o, "bus", "curve_key", key, sizeof(key)) != 0 ||
        tctl_setting(o, "bus", "curve_name", name, sizeof(name)) != 0) {
        fprintf(stderr, "tepctl: [bus] curve needs curve_dir, curve_key and curve_name\n");
        return CMN_EINVAL;
    }
    rc = cmn_bus_curve_enable(bus, &c);
    if (rc != 0)
        fprintf(stderr, "tepctl: CURVE key %s (dir %s): %s\n", key, dir, cmn_strerror(rc));
    return rc;
}

int tctl_bus_call(const tctl_opts *o, const char *endpoint, const char *what,
                  const Tep__Envelope *env, Tep__Envelope **ret)
{
    cmn_bus *bus = NULL;
    int rc = cmn_bus_new(&bus);

    *ret = NULL;
    if (rc == 0 && (rc = enable_curve(o, bus)) != 0) {
        cmn_bus_free(bus);
        return TCTL_USAGE;
    }
    if (rc == 0)
        rc = cmn_bus_request(bus, endpoint, env, o->timeout_ms, ret);
    cmn_bus_free(bus);
    if (rc != 0) {
        fprintf(stderr, "tepctl: %s unreachable at %s: %s\n", what, endpoint, cmn_strerror(rc));
        return rc == CMN_EINVAL ? TCTL_USAGE : TCTL_UNREACHABLE;
    }
    return TCTL_OK;
}

int tctl_admin_call(const tctl_opts *o, const char *daemon, const Tep__AdminRequest *req,
                    Tep__Envelope **ret)
{
    char endpoint[1024];
    Tep__Envelope env = TEP__ENVELOPE__INIT;
    int ex;

    *ret = NULL;
    tctl_admin_endpoint(o, daemon, endpoint, sizeof(endpoint));
    cmn_bus_env_init(&env, "tepctl", 0);
    env.body_case = TEP__ENVELOPE__BODY_ADMIN_REQ;
    env.admin_req = (Tep__AdminRequest *)req;
    ex = tctl_bus_call(o, endpoint, daemon, &env, ret);
    if (ex != TCTL_OK)
        return ex;
    ex = check_answer(*ret);
    if (ex != TCTL_OK) {
        cmn_bus_env_free(*ret);
        *ret = NULL;
    }
    return ex;
}

/* 0 (a request), 1 (help) or -1 (usage). */
static int parse_list_revoke(const tctl_list_revoke *c, int argc, char **argv,
                             Tep__AdminRequest *req)
{
    if (argc == 2 &&
        (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")))
        return 1;
    if (argc == 2 && !strcmp(argv[1], c->list_word)) {
        req->op = c->list_op;
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "revoke") && argv[2][0] != '-' && argv[2][0] != '\0') {
        req->op = c->revoke_op;
        c->set_id(req, argv[2]);
        return 0;
    }
    return -1;
}

int tctl_list_revoke_main(const tctl_list_revoke *c, const tctl_opts *o, int argc, char **argv)
{
    Tep__AdminRequest req = TEP__ADMIN_REQUEST__INIT;
    Tep__Envelope *resp = NULL;
    int ex = parse_list_revoke(c, argc, argv, &req);

    if (ex != 0) {
        c->usage(ex > 0 ? stdout : stderr);
        return ex > 0 ? TCTL_OK : TCTL_USAGE;
    }
    ex = tctl_admin_call(o, c->daemon, &req, &resp);
    if (ex != TCTL_OK)
        return ex;
    if (req.op == c->list_op)
        c->print_list(resp->admin_resp);
    else
        c->print_revoked(&req, resp->admin_resp);
    cmn_bus_env_free(resp);
    return TCTL_OK;
}
