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

int tctl_setting(const tctl_opts *o, const char *section, const char *key, char *buf,
                 size_t len)
{
    char name[128];
    const char *env;
    ini_lookup l = {section, key, buf, len, 0};

    env_name(section, key, name, sizeof(name));
    env = getenv(name);
    if (env) {
        snprintf(buf, len, "%s", env);
        return 0;
    }
    if (!o->config || ini_parse(o->config, ini_one, &l) < 0)
        return CMN_ENOTFOUND;
    return l.found ? 0 : CMN_ENOTFOUND;
}

void tctl_admin_endpoint(const tctl_opts *o, const char *daemon, char *buf, size_t len)
{
    if (o->admin) {
        snprintf(buf, len, "%s", o->admin);
        return;
    }
    if (o->config && tctl_setting(o, "bus", "admin", buf, len) == 0)
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

int tctl_admin_call(const tctl_opts *o, const char *daemon, const Tep__AdminRequest *req,
                    Tep__Envelope **ret)
{
    char endpoint[1024];
    cmn_bus *bus = NULL;
    Tep__Envelope env = TEP__ENVELOPE__INIT;
    int rc, ex;

    *ret = NULL;
    tctl_admin_endpoint(o, daemon, endpoint, sizeof(endpoint));
    cmn_bus_env_init(&env, "tepctl", 0);
    env.body_case = TEP__ENVELOPE__BODY_ADMIN_REQ;
    env.admin_req = (Tep__AdminRequest *)req;
    rc = cmn_bus_new(&bus);
    if (rc == 0)
        rc = cmn_bus_request(bus, endpoint, &env, o->timeout_ms, ret);
    cmn_bus_free(bus);
    if (rc != 0) {
        fprintf(stderr, "tepctl: %s unreachable at %s: %s\n", daemon, endpoint,
                cmn_strerror(rc));
        return rc == CMN_EINVAL ? TCTL_USAGE : TCTL_UNREACHABLE;
    }
    ex = check_answer(*ret);
    if (ex != TCTL_OK) {
        cmn_bus_env_free(*ret);
        *ret = NULL;
    }
    return ex;
}
