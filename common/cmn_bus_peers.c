/* The identity bindings of bus peers (cmn_bus_peers.h). */
#include "cmn_bus_peers.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "cmn_bus_curve.h"
#include "cmn_config.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "tep.pb-c.h"

#define Z85_LEN 40
#define Z85_PREFIX "z85:"
#define Z85_PREFIX_LEN 4

struct cmn_bus_peers {
    cmn_cfg_pair *pairs; /* key: identity, value: curve name or z85:KEY */
    size_t n;
    char *key_dir;
};

static bool z85_valid(const char *z)
{
    uint8_t bin[32];
    return strlen(z) == Z85_LEN && zmq_z85_decode(bin, z) != NULL;
}

static bool name_valid(const char *s)
{
    if (s[0] == '\0' || s[0] == '.' || strlen(s) > 200)
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
           strlen(s);
}

static int valid_key(const char *v, char *err, size_t errlen)
{
    if (strncmp(v, Z85_PREFIX, Z85_PREFIX_LEN) == 0 ? z85_valid(v + Z85_PREFIX_LEN) : name_valid(v))
        return 0;
    if (err != NULL && errlen)
        snprintf(err, errlen,
                 "not a CURVE key name ([A-Za-z0-9._-]) or z85:<40 Z85 "
                 "characters>: \"%s\"",
                 v);
    return CMN_EINVAL;
}

static int valid_identity(const char *v, char *err, size_t errlen)
{
    if (v[0] == '/')
        return cmn_cfg_valid_cse_id(v, err, errlen);
    if (cmn_cfg_valid_fqdn(v, NULL, 0) == 0)
        return 0;
    if (err != NULL && errlen)
        snprintf(err, errlen, "not a CSE-ID (/name) or a MAF-ID (FQDN): \"%s\"", v);
    return CMN_EINVAL;
}

static int keys_parse(const char *list, cmn_cfg_pair **ret, size_t *ret_n, char *err,
                      size_t errlen);

/* Parses a [bus] peers list (ids: IDENTITY=KEY items) or an admin_keys one (KEY items,
 * each its own identity) and checks its items: identities (ids) and keys valid, no key
 * twice. *ret: the pairs (NULL: checked only). */
static int table_parse(const char *list, bool ids, cmn_cfg_pair **ret, size_t *ret_n, char *err,
                       size_t errlen)
{
    cmn_cfg_pair *p = NULL;
    size_t n = 0;
    int rc = ids ? cmn_cfg_pairs_parse(list, &p, &n, err, errlen)
                 : keys_parse(list, &p, &n, err, errlen);

    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = ids ? valid_identity(p[i].key, err, errlen) : 0;
        if (rc == 0)
            rc = valid_key(p[i].value, err, errlen);
        for (size_t j = 0; rc == 0 && j < i; j++) {
            if (strcmp(p[i].value, p[j].value) != 0)
                continue;
            if (err != NULL && errlen && ids)
                snprintf(err, errlen, "one key bound to two identities: %s and %s", p[j].key,
                         p[i].key);
            else if (err != NULL && errlen)
                snprintf(err, errlen, "\"%s\" appears twice", p[i].value);
            rc = CMN_EINVAL;
        }
    }
    if (rc == 0 && ret != NULL) {
        *ret = p;
        *ret_n = n;
        return 0;
    }
    cmn_cfg_pairs_free(p, n);
    return rc;
}

/* A table of the list (table_parse), names read from key_dir. */
static int table_new(const char *list, bool ids, const char *key_dir, cmn_bus_peers **ret)
{
    cmn_bus_peers *p = calloc(1, sizeof(*p));
    int rc;

    *ret = NULL;
    if (p == NULL)
        return CMN_ENOMEM;
    rc = table_parse(list, ids, &p->pairs, &p->n, NULL, 0);
    if (rc == 0 && (p->key_dir = strdup(key_dir != NULL ? key_dir : "")) == NULL)
        rc = CMN_ENOMEM;
    if (rc != 0) {
        cmn_bus_peers_free(p);
        return rc;
    }
    *ret = p;
    return 0;
}

int cmn_bus_peers_valid(const char *list, char *err, size_t errlen)
{
    return table_parse(list, true, NULL, NULL, err, errlen);
}

int cmn_bus_peers_new(const char *list, const char *key_dir, cmn_bus_peers **ret)
{
    return table_new(list, true, key_dir, ret);
}

void cmn_bus_peers_free(cmn_bus_peers *p)
{
    if (p == NULL)
        return;
    cmn_cfg_pairs_free(p->pairs, p->n);
    free(p->key_dir);
    free(p);
}

size_t cmn_bus_peers_count(const cmn_bus_peers *p)
{
    return p != NULL ? p->n : 0;
}

bool cmn_bus_peers_binds(const cmn_bus_peers *p, const char *identity)
{
    for (size_t i = 0; p != NULL && i < p->n; i++)
        if (strcmp(p->pairs[i].key, identity) == 0)
            return true;
    return false;
}

/* Does binding i name the key z85? A name whose file is missing or malformed names
 * nothing (yet). */
static bool binding_is(const cmn_bus_peers *p, size_t i, const char *z85)
{
    const char *v = p->pairs[i].value;
    char file_z85[Z85_LEN + 1];

    if (strncmp(v, Z85_PREFIX, Z85_PREFIX_LEN) == 0)
        return strcmp(v + Z85_PREFIX_LEN, z85) == 0;
    return cmn_curve_read_public(p->key_dir, v, file_z85) == 0 && strcmp(file_z85, z85) == 0;
}

int cmn_bus_peers_check(const cmn_bus_peers *p, const char *peer_z85, const char *claimed,
                        const char **ret_bound)
{
    const char *bound = NULL;
    size_t found = 0;

    if (ret_bound != NULL)
        *ret_bound = NULL;
    if (p == NULL || peer_z85 == NULL || strlen(peer_z85) != Z85_LEN || claimed == NULL)
        return CMN_EDENIED;
    for (size_t i = 0; i < p->n; i++) {
        if (binding_is(p, i, peer_z85)) {
            bound = p->pairs[i].key;
            found++;
        }
    }
    if (found != 1)
        return CMN_EDENIED;
    if (ret_bound != NULL)
        *ret_bound = bound;
    return strcmp(bound, claimed) == 0 ? 0 : CMN_EDENIED;
}

/* ---- [bus] admin_keys ----------------------------------------------------------------- */

#define KEYS_MAX 64

/* "a, b, ..." into pairs whose key and value are both the item; "" is the empty list. */
static int keys_parse(const char *list, cmn_cfg_pair **ret, size_t *ret_n, char *err, size_t errlen)
{
    cmn_cfg_pair *p = NULL;
    size_t n = 0;
    int rc = 0;
    const char *s = list != NULL ? list : "";

    *ret = NULL;
    *ret_n = 0;
    if (s[strspn(s, " \t")] == '\0')
        return 0;
    while (rc == 0) {
        size_t len = strcspn(s, ",");
        size_t lead = strspn(s, " \t");
        size_t end = len;
        cmn_cfg_pair *grown = NULL;

        while (end > lead && (s[end - 1] == ' ' || s[end - 1] == '\t'))
            end--;
        if (end == lead) {
            rc = CMN_EINVAL;
            if (err != NULL && errlen)
                snprintf(err, errlen, "empty item in the list");
        } else if (memchr(s + lead, ' ', end - lead) != NULL ||
                   memchr(s + lead, '\t', end - lead) != NULL) {
            rc = CMN_EINVAL;
            if (err != NULL && errlen)
                snprintf(err, errlen, "a blank inside an item (items are comma-separated)");
        } else if (n == KEYS_MAX) {
            rc = CMN_EINVAL;
            if (err != NULL && errlen)
                snprintf(err, errlen, "more than %d keys", KEYS_MAX);
        } else if ((grown = realloc(p, (n + 1) * sizeof(*p))) == NULL) {
            rc = CMN_ENOMEM;
        } else {
            p = grown;
            p[n].key = strndup(s + lead, end - lead);
            p[n].value = strndup(s + lead, end - lead);
            n++;
            if (p[n - 1].key == NULL || p[n - 1].value == NULL)
                rc = CMN_ENOMEM;
        }
        if (s[len] == '\0')
            break;
        s += len + 1;
    }
    if (rc != 0) {
        cmn_cfg_pairs_free(p, n);
        return rc;
    }
    *ret = p;
    *ret_n = n;
    return 0;
}

int cmn_bus_keys_valid(const char *list, char *err, size_t errlen)
{
    return table_parse(list, false, NULL, NULL, err, errlen);
}

int cmn_bus_keys_new(const char *list, const char *key_dir, cmn_bus_peers **ret)
{
    return table_new(list, false, key_dir, ret);
}

int cmn_bus_admin_keys_new(const char *admin_keys, const char *key_dir, const cmn_bus *bus,
                           cmn_bus_peers **ret)
{
    char own[CMN_BUS_PEER_MAX];
    cmn_cfg_pair *grown;
    cmn_bus_peers *p = NULL;
    int rc = cmn_bus_keys_new(admin_keys, key_dir, &p);

    *ret = NULL;
    if (rc != 0)
        return rc;
    if (p->n > 0 && cmn_bus_curve_public(bus, own) == 0) {
        grown = realloc(p->pairs, (p->n + 1) * sizeof(*grown));
        if (grown == NULL) {
            cmn_bus_peers_free(p);
            return CMN_ENOMEM;
        }
        p->pairs = grown;
        p->pairs[p->n].key = strdup("(own key)");
        p->pairs[p->n].value = malloc(Z85_PREFIX_LEN + Z85_LEN + 1);
        p->n++;
        if (p->pairs[p->n - 1].key == NULL || p->pairs[p->n - 1].value == NULL) {
            cmn_bus_peers_free(p);
            return CMN_ENOMEM;
        }
        snprintf(p->pairs[p->n - 1].value, Z85_PREFIX_LEN + Z85_LEN + 1, "%s%s", Z85_PREFIX, own);
    }
    *ret = p;
    return 0;
}

bool cmn_bus_keys_has(const cmn_bus_peers *p, const char *peer_z85)
{
    if (p == NULL || peer_z85 == NULL || strlen(peer_z85) != Z85_LEN)
        return false;
    for (size_t i = 0; i < p->n; i++)
        if (binding_is(p, i, peer_z85))
            return true;
    return false;
}

int cmn_bus_admin_keys_check(const char *path, const char *admin_ep, bool curve,
                             const char *admin_keys, char *err, size_t errlen)
{
    char where[512];
    bool tcp_curve = curve && strncmp(admin_ep, "tcp://", 6) == 0;

    if (admin_keys[0] != '\0' && !tcp_curve) {
        cmn_config_where(path, "bus", "admin_keys", where, sizeof(where));
        snprintf(err, errlen,
                 "%s: bus.admin_keys: needs [bus] curve = true and a tcp:// admin endpoint "
                 "(an ipc:// requester proves no key: the socket directory's permissions "
                 "guard it)",
                 where);
        return CMN_ECONFIG;
    }
    if (admin_keys[0] == '\0' && tcp_curve) {
        cmn_config_where(path, "bus", "admin", where, sizeof(where));
        snprintf(err, errlen,
                 "%s: bus.admin_keys: a tcp:// admin socket with CURVE needs [bus] admin_keys, "
                 "the CURVE keys that may administer (curve names or z85:KEY); every other "
                 "key of curve_dir is refused",
                 where);
        return CMN_ECONFIG;
    }
    return 0;
}

bool cmn_bus_admin_allowed(const cmn_bus_peers *admins, const char *peer_z85, int op,
                           const char *sub)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&tep__admin_request__op__descriptor, op);
    const char *peer = peer_z85 != NULL ? peer_z85 : "";
    char name[32];
    size_t i;

    if (cmn_bus_peers_count(admins) == 0 ? peer[0] == '\0' : cmn_bus_keys_has(admins, peer))
        return true;
    snprintf(name, sizeof(name), "%s", v != NULL ? v->name : "unknown");
    for (i = 0; name[i] != '\0'; i++)
        name[i] = (char)tolower((unsigned char)name[i]);
    CMN_WARN(sub, "event=admin_refused peer_key=%.8s op=%s reason=%s",
             peer[0] != '\0' ? peer : "none", name,
             cmn_bus_peers_count(admins) == 0 ? "no_admin_keys" : "not_an_admin_key");
    return false;
}
