/* Policy Enforcement Point: decision facts, local rule set, remote decision. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmn_acp.h"
#include "cmn_clock.h"
#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_onem2m.h"
#include "cse_pep.h"
#include "cse_resource.h"

#define SUB "pep"

/* The decision cache (remote mode): key = SHA-256 of the whole DecisionRequest but its
 * time and target path (cache_key), so the policies themselves (acp_json, creator) are
 * part of the key: an ACP updated or deleted gives another key and the old answer is
 * never used again. */
#define CACHE_SETS 256
#define CACHE_WAYS 4 /* a discovery's candidates share one set without evicting each other */
#define CACHE_SLOTS (CACHE_SETS * CACHE_WAYS)

typedef struct {
    uint8_t key[CMN_SHA256_LEN];
    int64_t until_ms; /* 0 = empty */
    bool permit;
    char rule[64];
} cache_entry;

struct cse_pep {
    bool remote;
    cmn_bus *bus;         /* borrowed */
    cmn_bus_sock *dealer; /* remote only; rebuilt after a timeout (Lazy Pirate) */
    char *endpoint;
    char *sender;
    int deadline_ms;
    int64_t pdp_down_until; /* monotonic ms: until then, Deny at once (see decide_remote) */
    bool spread;            /* endpoint lists several PDP replicas (cmn_bus_open) */
    int64_t answered_ms;    /* monotonic ms of the last answer from any of them */
    int cache_ms;           /* decision cache lifetime, 0 = off */
    cache_entry cache[CACHE_SLOTS];
    uint64_t cache_hits;
    cse_pep_pending *current; /* the request being handled (cse_pep_begin); NULL: blocking */
    cse_pep_pending *asking;  /* requests with questions outstanding (doubly linked) */
    size_t outstanding;       /* questions outstanding, all requests together */
};

/* One remote question of a parked request: sent once, answered once. */
#define Q_ASKED 1
/* Bounds: questions of one request (a discovery asks one per resource found) and
 * questions on the wire at once; beyond them a question is a Deny at once. */
#define PENDING_QUESTIONS_MAX 1024
#define OUTSTANDING_MAX 8192

/* Decisions in one DecisionBatchRequest: the questions of a pass are sent together when
 * the pass ends (cse_pep_end), in messages of at most BATCH_MAX. */
#define BATCH_MAX 64

typedef struct {
    uint8_t key[CMN_SHA256_LEN]; /* SHA-256 of the question (envelope, request_id 0) */
    uint64_t request_id;         /* of the message that carried it (a batch: shared) */
    uint8_t *queued;             /* a DecisionRequest packed, not sent yet (end of pass) */
    size_t queued_len;
    size_t index;        /* its place in the batch that carried it */
    int64_t deadline_ms; /* monotonic */
    int rc;              /* Q_ASKED while outstanding, then 0 or a CMN_E* */
    uint8_t *answer;     /* rc 0: the packed answer (owned, wiped when freed) */
    size_t answer_len;
} question;

struct cse_pep_pending {
    cse_pep_pending *prev, *next; /* in pep->asking while outstanding > 0 */
    cse_pep *pep;                 /* set by its first question */
    question *q;
    size_t n, cap;
    size_t outstanding;
    bool listed;
};

static void pending_unlist(cse_pep_pending *pp);

/* ---- facts: which policies decide (docs/access-control.md, "Who decides what") --- */

/* ---- policies cached (issue 12 item 2) ----------------------------------------------
 * The rule sets of ACPs as read from the store, by (ri, pv or pvs): valid while the
 * store's write count is what it was when they were read (any write, an ACP's update or
 * deletion among them, empties the cache; so does a failed batch commit,
 * cse_pep_policy_cache_flush). And rule sets parsed, by their text: the same text is the
 * same policy, so that cache needs no invalidation. */
#define PRIVS_SLOTS 64
#define PARSED_SLOTS 32

typedef struct {
    char *ri;
    bool self;
    char *privs; /* compact JSON, NULL: none (dangling or no such rule set) */
} privs_entry;

static struct {
    const cmn_store *st;
    uint64_t writes;
    privs_entry e[PRIVS_SLOTS];
} privs_cache;

static struct {
    char *text;
    json_t *parsed;
} parsed_cache[PARSED_SLOTS];

static uint64_t policy_cache_hits;

uint64_t cse_pep_policy_cache_hits(void)
{
    return policy_cache_hits;
}

void cse_pep_policy_cache_flush(void)
{
    for (size_t i = 0; i < PRIVS_SLOTS; i++) {
        free(privs_cache.e[i].ri);
        free(privs_cache.e[i].privs);
    }
    memset(&privs_cache, 0, sizeof(privs_cache));
}

static size_t slot_of(const char *s, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */

    for (; *s != '\0'; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h % n;
}

static char *acp_privs_read(cmn_store *st, const char *ri, bool self);

/* The rule set "pv" or "pvs" of one <accessControlPolicy>, compact JSON; NULL when ri
 * is not an ACP (dangling) or names no such rule set. */
static char *acp_privs(cmn_store *st, const char *ri, bool self)
{
    privs_entry *e = &privs_cache.e[slot_of(ri, PRIVS_SLOTS)];
    uint64_t writes = cmn_store_write_count(st);
    char *s;

    if (privs_cache.st != st || privs_cache.writes != writes) {
        cse_pep_policy_cache_flush();
        privs_cache.st = st;
        privs_cache.writes = writes;
    }
    if (e->ri != NULL && e->self == self && strcmp(e->ri, ri) == 0) {
        policy_cache_hits++;
        return e->privs != NULL ? strdup(e->privs) : NULL;
    }
    s = acp_privs_read(st, ri, self);
    free(e->ri);
    free(e->privs);
    e->ri = strdup(ri);
    e->self = self;
    e->privs = s != NULL && e->ri != NULL ? strdup(s) : NULL;
    if (s != NULL && e->privs == NULL) { /* out of memory: not cached */
        free(e->ri);
        e->ri = NULL;
    }
    return s;
}

/* A rule set's text parsed (a new reference: json_decref), from the cache when the
 * same text was parsed before. */
static json_t *privs_parsed(const char *text)
{
    size_t i = slot_of(text, PARSED_SLOTS);
    json_t *j;

    if (parsed_cache[i].text != NULL && strcmp(parsed_cache[i].text, text) == 0) {
        policy_cache_hits++;
        return json_incref(parsed_cache[i].parsed);
    }
    if ((j = json_loads(text, 0, NULL)) == NULL)
        return NULL;
    free(parsed_cache[i].text);
    json_decref(parsed_cache[i].parsed);
    parsed_cache[i].text = strdup(text);
    parsed_cache[i].parsed = parsed_cache[i].text != NULL ? json_incref(j) : NULL;
    return j;
}

static char *acp_privs_read(cmn_store *st, const char *ri, bool self)
{
    Tep__Resource *acp = NULL;
    json_t *a = NULL;
    char *s = NULL;

    if (cse_res_get_by_ri(st, ri, &acp) != 0)
        return NULL;
    if (acp->ty == CMN_TY_ACP)
        a = json_loads(acp->json, 0, NULL);
    if (a != NULL && json_object_get(a, self ? "pvs" : "pv") != NULL)
        s = json_dumps(json_object_get(a, self ? "pvs" : "pv"), JSON_COMPACT);
    json_decref(a);
    cse_res_free(acp);
    return s;
}

static int push_privs(Tep__DecisionRequest *rq, char *privs)
{
    char **grown = realloc(rq->acp_json, (rq->n_acp_json + 1) * sizeof(char *));

    if (grown == NULL) {
        free(privs);
        return CMN_ENOMEM;
    }
    rq->acp_json = grown;
    rq->acp_json[rq->n_acp_json++] = privs;
    return 0;
}

/* The rule sets of the ACPs ids[0..n) name ("pvs" when self); a dangling entry (policy
 * deleted since) contributes nothing. */
static int privs_of_ids(cmn_store *st, char *const *ids, size_t n, bool self,
                        Tep__DecisionRequest *rq)
{
    int rc;

    for (size_t i = 0; i < n; i++) {
        char *pv = acp_privs(st, ids[i], self);
        if (pv != NULL && (rc = push_privs(rq, pv)) != 0)
            return rc;
    }
    return 0;
}

/* The custodian (Release 4, TS-0001 9.6.1.3), when the resource has one: malloc'd. */
static char *custodian_of(const Tep__Resource *r)
{
    /* the stored text names every key: without "cstn" there is nothing to parse */
    json_t *a = r->json != NULL && strstr(r->json, "\"cstn\"") != NULL
                    ? json_loads(r->json, 0, NULL)
                    : NULL;
    const char *cstn = json_string_value(json_object_get(a, "cstn"));
    char *out = cstn != NULL && cstn[0] != '\0' ? strdup(cstn) : NULL;

    json_decref(a);
    return out;
}

/* The default access policy (TS-0001 9.6.1.3.2): the custodian when the resource has one
 * (it takes the creator's place), the originator of the creation, or the AE-ID of the
 * closest ancestor AE when none was kept. */
static int creator_of(cmn_store *st, const Tep__Resource *r, Tep__DecisionRequest *rq)
{
    char owner[256];
    int rc;

    free(rq->creator);
    rq->creator = custodian_of(r);
    if (rq->creator != NULL)
        return 0;
    if (r->creator != NULL && r->creator[0] != '\0') {
        rq->creator = strdup(r->creator);
    } else {
        rc = cse_res_owner_ae(st, r->path, owner, sizeof(owner));
        if (rc != 0)
            return rc;
        rq->creator = strdup(owner);
    }
    return rq->creator != NULL ? 0 : CMN_ENOMEM;
}

/* TS-0001 9.6.1.3.2: contentInstance (9.6.7) and accessControlPolicy (9.6.2) have no
 * accessControlPolicyIDs attribute. */
static bool has_acpi(uint32_t ty)
{
    return ty != CMN_TY_CIN && ty != CMN_TY_ACP;
}

/* A rule set that permits nothing: the decision is Deny but for the admin. */
#define NO_RULES "{\"acr\":[]}"

static int facts_privs(cmn_store *st, const Tep__Resource *r, Tep__DecisionRequest *rq, int depth)
{
    Tep__Resource *parent = NULL;
    json_t *a;
    int rc;

    if (r->ty == CMN_TY_ACP) { /* its own selfPrivileges (TS-0001 9.6.2, TS-0004 7.3.3.15) */
        char *s;

        a = json_loads(r->json, 0, NULL);
        s = json_is_object(json_object_get(a, "pvs"))
                ? json_dumps(json_object_get(a, "pvs"), JSON_COMPACT)
                : strdup(NO_RULES);
        json_decref(a);
        return s != NULL ? push_privs(rq, s) : CMN_ENOMEM;
    }
    if (!has_acpi(r->ty)) { /* the parent's policies govern it (TS-0001 9.6.7) */
        if (depth > 4 || r->parent_path == NULL || r->parent_path[0] == '\0' ||
            cse_res_get(st, r->parent_path, &parent) != 0) {
            char *s = strdup(NO_RULES);
            return s != NULL ? push_privs(rq, s) : CMN_ENOMEM;
        }
        rc = facts_privs(st, parent, rq, depth + 1);
        cse_res_free(parent);
        return rc;
    }
    if ((rc = privs_of_ids(st, r->acpi, r->n_acpi, false, rq)) != 0)
        return rc;
    return rq->n_acp_json == 0 ? creator_of(st, r, rq) : 0;
}

/* <group>/fopt (TS-0001 9.6.14, 10.2.7.6-10): the "pv" of membersAccessControlPolicyIDs;
 * without macp the group's own policies. A macp of which nothing resolves permits no
 * one. */
static int facts_fanout(cmn_store *st, const Tep__Resource *grp, Tep__DecisionRequest *rq)
{
    json_t *a = json_loads(grp->json, 0, NULL);
    json_t *macp = json_object_get(a, "macp");
    json_t *e;
    size_t i;
    int rc = 0;

    if (json_array_size(macp) == 0) {
        json_decref(a);
        return facts_privs(st, grp, rq, 0);
    }
    json_array_foreach(macp, i, e) {
        char *pv = json_is_string(e) ? acp_privs(st, json_string_value(e), false) : NULL;
        if (pv != NULL && (rc = push_privs(rq, pv)) != 0)
            break;
    }
    json_decref(a);
    if (rc == 0 && rq->n_acp_json == 0) {
        char *s = strdup(NO_RULES);
        rc = s != NULL ? push_privs(rq, s) : CMN_ENOMEM;
    }
    return rc;
}

/* ---- groups in acor ----------------------------------------------------------------
 * An acor entry may name a <group> whose members are AEs (TS-0004 7.3.3.15 table
 * 7.3.3.15-1); the evaluator compares such entries literally with rq->group_ids, and this
 * is where they are found: each entry of the rule sets that resolves to a live <group> of
 * this CSE with the originator's <AE> among its direct members (nested groups are not
 * followed). Bounded: the members of at most GROUP_ENTRIES_MAX groups are read per
 * decision (a group past them does not match: Deny, never a permit). */
#define GROUP_ENTRIES_MAX 8

/* A resource ID in any form to a uri path cse_res_resolve takes. */
static int id_to_path(cmn_store *st, const char *cse_id, const char *id, char *ret)
{
    char uri[CSE_PATH_MAX + 2];

    if (strncmp(id, "//", 2) == 0)
        snprintf(uri, sizeof(uri), "_%s", id + 1);
    else if (id[0] == '/')
        snprintf(uri, sizeof(uri), "~%s", id);
    else
        snprintf(uri, sizeof(uri), "%s", id);
    return cse_res_resolve(st, cse_id, uri, ret);
}

static bool group_has(cmn_store *st, const char *cse_id, const Tep__Resource *grp,
                      const char *ae_path)
{
    json_t *a = json_loads(grp->json, 0, NULL);
    json_t *e;
    size_t i;
    bool found = false;

    json_array_foreach(json_object_get(a, "mid"), i, e) {
        char path[CSE_PATH_MAX];
        if (json_is_string(e) && id_to_path(st, cse_id, json_string_value(e), path) == 0 &&
            strcmp(path, ae_path) == 0) {
            found = true;
            break;
        }
    }
    json_decref(a);
    return found;
}

static int add_group_id(Tep__DecisionRequest *rq, const char *entry)
{
    char **grown;

    for (size_t i = 0; i < rq->n_group_ids; i++) {
        if (strcmp(rq->group_ids[i], entry) == 0)
            return 0;
    }
    grown = realloc(rq->group_ids, (rq->n_group_ids + 1) * sizeof(char *));
    if (grown == NULL)
        return CMN_ENOMEM;
    rq->group_ids = grown;
    if ((rq->group_ids[rq->n_group_ids] = strdup(entry)) == NULL)
        return CMN_ENOMEM;
    rq->n_group_ids++;
    return 0;
}

/* One acor entry: a group holding the originator's AE (at ae_path)? *budget counts the
 * entries looked up. */
static int group_entry(cmn_store *st, Tep__DecisionRequest *rq, const char *entry,
                       const char *ae_path, int *budget)
{
    Tep__Resource *grp = NULL;
    char path[CSE_PATH_MAX];
    int rc = 0;

    if (strcmp(entry, "all") == 0 || strchr(entry, '*') != NULL || *budget <= 0 ||
        id_to_path(st, rq->cse_id, entry, path) != 0)
        return 0;
    if (cse_res_get(st, path, &grp) != 0)
        return 0;
    if (grp->ty == CMN_TY_GRP && !cse_res_expired(grp, rq->now) && (*budget)-- > 0 &&
        group_has(st, rq->cse_id, grp, ae_path))
        rc = add_group_id(rq, entry);
    cse_res_free(grp);
    return rc;
}

static int facts_groups(cmn_store *st, Tep__DecisionRequest *rq)
{
    Tep__Resource *ae = NULL;
    char ae_path[CSE_PATH_MAX];
    int budget = GROUP_ENTRIES_MAX, rc = 0;

    if (rq->originator == NULL || rq->originator[0] == '\0' || rq->cse_id == NULL ||
        rq->cse_id[0] == '\0' || id_to_path(st, rq->cse_id, rq->originator, ae_path) != 0)
        return 0; /* no AE of this CSE: no group of this CSE holds it */
    if (cse_res_get(st, ae_path, &ae) != 0 || ae->ty != CMN_TY_AE) {
        cse_res_free(ae);
        return 0;
    }
    cse_res_free(ae);
    for (size_t k = 0; rc == 0 && k < rq->n_acp_json; k++) {
        json_t *pv = json_loads(rq->acp_json[k], 0, NULL), *acr, *e;
        size_t i, j;
        json_array_foreach(json_object_get(pv, "acr"), i, acr) {
            json_array_foreach(json_object_get(acr, "acor"), j, e) {
                if (rc == 0 && json_is_string(e))
                    rc = group_entry(st, rq, json_string_value(e), ae_path, &budget);
            }
        }
        json_decref(pv);
    }
    return rc;
}

static int facts_scope(cmn_store *st, const Tep__Resource *target, cse_pep_scope scope,
                       Tep__DecisionRequest *rq)
{
    int rc;

    switch (scope) {
    case CSE_PEP_ACPI: /* TS-0001 9.6.1.3.2: Update in the selfPrivileges of the current ACPs */
        if (!has_acpi(target->ty))
            return CMN_EINVAL;
        if ((rc = privs_of_ids(st, target->acpi, target->n_acpi, true, rq)) != 0)
            return rc;
        return rq->n_acp_json == 0 ? creator_of(st, target, rq) : 0;
    case CSE_PEP_FANOUT:
        return facts_fanout(st, target, rq);
    default:
        return facts_privs(st, target, rq, 0);
    }
}

int cse_pep_facts(cmn_store *st, const Tep__Resource *target, cse_pep_scope scope,
                  Tep__DecisionRequest *rq)
{
    int rc;

    rq->n_acp_json = 0;
    rq->acp_json = NULL;
    rq->creator = NULL;
    rq->n_group_ids = 0;
    rq->group_ids = NULL;
    if ((rc = facts_scope(st, target, scope, rq)) != 0)
        return rc;
    return facts_groups(st, rq);
}

void cse_pep_facts_free(Tep__DecisionRequest *rq)
{
    for (size_t i = 0; i < rq->n_acp_json; i++)
        free(rq->acp_json[i]);
    free(rq->acp_json);
    rq->acp_json = NULL;
    rq->n_acp_json = 0;
    free(rq->creator);
    rq->creator = NULL;
    for (size_t i = 0; i < rq->n_group_ids; i++)
        free(rq->group_ids[i]);
    free(rq->group_ids);
    rq->group_ids = NULL;
    rq->n_group_ids = 0;
}

/* ---- local rule set ---------------------------------------------------------------- */

static void deny(cse_decision *ret, const char *rule)
{
    ret->permit = false;
    ret->rsc = CMN_RSC_ORIGINATOR_HAS_NO_PRIVILEGE;
    snprintf(ret->rule, sizeof(ret->rule), "%s", rule);
}

static void permit(cse_decision *ret, const char *rule)
{
    ret->permit = true;
    ret->rsc = 0;
    snprintf(ret->rule, sizeof(ret->rule), "%s", rule);
}

static void evaluate_acps(const Tep__DecisionRequest *rq, char *const *acp_json, size_t n_acp,
                          cse_decision *ret)
{
    json_t **privs = calloc(n_acp ? n_acp : 1, sizeof(json_t *));
    cmn_acp_request a = {0};
    cmn_acp_result res = {0};
    size_t i;

    deny(ret, "indeterminate");
    if (privs == NULL)
        return;
    for (i = 0; i < n_acp; i++) {
        privs[i] = privs_parsed(acp_json[i]); /* the evaluator only reads them */
        if (privs[i] == NULL)
            goto out; /* unparsable policy: Deny */
    }
    a.originator = rq->originator;
    a.op = rq->op;
    a.target_ty = rq->target_ty;
    a.new_ty = rq->new_ty;
    a.rq_authn = rq->rq_authn;
    a.peer_ip = rq->peer_ip != NULL && rq->peer_ip[0] != '\0' ? rq->peer_ip : NULL;
    a.role_ids = (const char *const *)rq->role_ids;
    a.n_roles = rq->n_role_ids;
    a.now = rq->now;
    a.cse_id = rq->cse_id;
    a.sp_id = rq->sp_id;
    a.group_ids = (const char *const *)rq->group_ids;
    a.n_groups = rq->n_group_ids;
    a.target_spty = rq->target_spty != NULL && rq->target_spty[0] != '\0' ? rq->target_spty : NULL;
    if (cmn_acp_evaluate(&a, privs, n_acp, &res) != 0)
        goto out;
    if (res.permit)
        permit(ret, res.rule);
    else
        deny(ret, res.rule[0] != '\0' ? res.rule : "acp");
out:
    for (size_t j = 0; j < i; j++)
        json_decref(privs[j]);
    free(privs);
}

/* Dynamic authorization after a Deny (TS-0003 7.3), as tep-authz does it but without a
 * revocation list: DAS-granted privileges, then each token's. */
static void evaluate_dynamic(const Tep__DecisionRequest *rq, cse_decision *ret)
{
    cse_decision d;

    if (rq->n_dynamic_acp_json > 0) {
        evaluate_acps(rq, rq->dynamic_acp_json, rq->n_dynamic_acp_json, &d);
        if (d.permit) {
            permit(ret, "");
            snprintf(ret->rule, sizeof(ret->rule), "das.%.56s", d.rule);
            return;
        }
    }
    for (size_t i = 0; i < rq->n_token_acp_json; i++) {
        evaluate_acps(rq, &rq->token_acp_json[i], 1, &d);
        if (d.permit) {
            permit(ret, "");
            snprintf(ret->rule, sizeof(ret->rule), "token[%u].%.40s", (unsigned)(i % 1000), d.rule);
            return;
        }
    }
}

void cse_pep_evaluate_local(const Tep__DecisionRequest *rq, cse_decision *ret)
{
    cse_pep_evaluate_static(rq, ret);
    if (!ret->permit && !rq->is_admin)
        evaluate_dynamic(rq, ret);
}

void cse_pep_evaluate_static(const Tep__DecisionRequest *rq, cse_decision *ret)
{
    if (rq->is_admin) {
        permit(ret, "admin");
    } else if (rq->n_acp_json > 0) {
        evaluate_acps(rq, rq->acp_json, rq->n_acp_json, ret);
    } else if (cmn_acp_same_originator(rq->creator, rq->originator, rq->cse_id, rq->sp_id)) {
        permit(ret, "creator");
    } else {
        deny(ret, "no_acp_not_creator");
    }
}

/* ---- construction ------------------------------------------------------------------ */

int cse_pep_new_local(cse_pep **ret)
{
    *ret = calloc(1, sizeof(**ret));
    return *ret != NULL ? 0 : CMN_ENOMEM;
}

int cse_pep_new_remote(cmn_bus *bus, const char *endpoint, int deadline_ms, const char *sender,
                       cse_pep **ret)
{
    cse_pep *p = calloc(1, sizeof(*p));
    int rc = CMN_ENOMEM;

    *ret = NULL;
    if (p == NULL)
        return rc;
    p->remote = true;
    p->bus = bus;
    p->deadline_ms = deadline_ms;
    p->endpoint = strdup(endpoint);
    p->sender = strdup(sender);
    p->spread = strchr(endpoint, ',') != NULL;
    if (p->endpoint == NULL || p->sender == NULL)
        goto fail;
    rc = cmn_bus_open(bus, CMN_BUS_DEALER, endpoint, &p->dealer);
    if (rc != 0)
        goto fail;
    *ret = p;
    return 0;
fail:
    cse_pep_free(p);
    return rc;
}

void cse_pep_free(cse_pep *p)
{
    if (p == NULL)
        return;
    while (p->asking != NULL) /* their questions die with the socket */
        pending_unlist(p->asking);
    cmn_bus_close(p->dealer);
    free(p->endpoint);
    free(p->sender);
    free(p);
}

/* ---- remote ------------------------------------------------------------------------ */

/* ---- the pending-decision table -------------------------------------------------------
 * Every question sent without waiting belongs to one cse_pep_pending (one parked
 * request); the pending is listed in pep->asking while some of its questions are
 * outstanding. Answers are matched by request_id; a question past its deadline fails. */

int cse_pep_pending_new(cse_pep_pending **ret)
{
    *ret = calloc(1, sizeof(**ret));
    return *ret != NULL ? 0 : CMN_ENOMEM;
}

static void pending_unlist(cse_pep_pending *pp)
{
    if (!pp->listed)
        return;
    if (pp->prev != NULL)
        pp->prev->next = pp->next;
    else
        pp->pep->asking = pp->next;
    if (pp->next != NULL)
        pp->next->prev = pp->prev;
    pp->prev = pp->next = NULL;
    pp->listed = false;
}

static void pending_list(cse_pep *p, cse_pep_pending *pp)
{
    if (pp->listed)
        return;
    pp->pep = p;
    pp->prev = NULL;
    pp->next = p->asking;
    if (p->asking != NULL)
        p->asking->prev = pp;
    p->asking = pp;
    pp->listed = true;
}

/* A question ends (answered or failed): rc 0 with the packed answer, or an error. */
static void question_end(cse_pep_pending *pp, question *q, int rc, uint8_t *answer, size_t len)
{
    q->rc = rc;
    q->answer = answer;
    q->answer_len = len;
    pp->outstanding--;
    pp->pep->outstanding--;
    if (pp->outstanding == 0)
        pending_unlist(pp);
}

void cse_pep_pending_free(cse_pep_pending *pp)
{
    if (pp == NULL)
        return;
    if (pp->listed) { /* withdrawn: an answer arriving later is dropped */
        pp->pep->outstanding -= pp->outstanding;
        if (pp->pep->current == pp)
            pp->pep->current = NULL;
        pending_unlist(pp);
    }
    for (size_t i = 0; i < pp->n; i++) {
        if (pp->q[i].answer != NULL)
            cmn_free_secret(pp->q[i].answer, pp->q[i].answer_len); /* tokens may travel */
        free(pp->q[i].queued);
    }
    free(pp->q);
    free(pp);
}

bool cse_pep_pending_answered(const cse_pep_pending *pp)
{
    return pp->outstanding == 0;
}

size_t cse_pep_outstanding(const cse_pep *p)
{
    return p->outstanding;
}

void cse_pep_begin(cse_pep *p, cse_pep_pending *pp)
{
    p->current = pp;
}

static void send_queued(cse_pep *p, cse_pep_pending *pp);

cse_pep_pending *cse_pep_end(cse_pep *p)
{
    cse_pep_pending *pp = p->current;

    if (pp != NULL)
        send_queued(p, pp);
    p->current = NULL;
    return pp;
}

bool cse_pep_waiting(const cse_pep *p)
{
    return p->current != NULL && p->current->outstanding > 0;
}

static question *find_question(cse_pep_pending *pp, const uint8_t key[CMN_SHA256_LEN])
{
    for (size_t i = 0; i < pp->n; i++) {
        if (memcmp(pp->q[i].key, key, CMN_SHA256_LEN) == 0)
            return &pp->q[i];
    }
    return NULL;
}

static question *add_question(cse_pep_pending *pp, const uint8_t key[CMN_SHA256_LEN])
{
    if (pp->n == pp->cap) {
        size_t cap = pp->cap ? pp->cap * 2 : 4;
        question *q = realloc(pp->q, cap * sizeof(*q));
        if (q == NULL)
            return NULL;
        pp->q = q;
        pp->cap = cap;
    }
    memset(&pp->q[pp->n], 0, sizeof(pp->q[0]));
    memcpy(pp->q[pp->n].key, key, CMN_SHA256_LEN);
    return &pp->q[pp->n++];
}

/* The question's identity: the whole envelope but its request_id. The request's time
 * is part of it: a parked request keeps the time of its arrival across passes. */
static int question_key(const Tep__Envelope *env, uint8_t key[CMN_SHA256_LEN])
{
    Tep__Envelope e = *env;

    e.request_id = 0;
    return cmn_bus_msg_sha256(&e.base, key);
}

static void fail_outstanding(cse_pep *p, int rc)
{
    while (p->asking != NULL) {
        cse_pep_pending *pp = p->asking;
        for (size_t i = 0; i < pp->n && pp->listed; i++) {
            if (pp->q[i].rc == Q_ASKED)
                question_end(pp, &pp->q[i], rc, NULL, 0);
        }
    }
}

/* Lazy Pirate: after a lost or late answer the DEALER may still receive it later;
 * a fresh socket makes sure a stale reply is never taken for a new question. The
 * questions still outstanding on the old socket fail with it (CMN_EAGAIN: the PDP
 * counts as down for one deadline, see cse_pep_ask). */
static void pdp_lost(cse_pep *p, int64_t now)
{
    /* Replicas: when another one answered within the deadline, only the lost questions
     * failed (Deny); the DEALER (ZMQ_IMMEDIATE) already dropped a dead replica's
     * connection, so the next questions go to those alive. Late answers are dropped by
     * request_id. When none answered for a deadline, all count as down, as one PDP. */
    if (p->spread && p->answered_ms != 0 && now - p->answered_ms < p->deadline_ms) {
        CMN_WARN(SUB, "event=pdp_replica_lost endpoint=\"%s\" outstanding=%zu", p->endpoint,
                 p->outstanding);
        return;
    }
    cmn_bus_close(p->dealer);
    p->dealer = NULL;
    if (cmn_bus_open(p->bus, CMN_BUS_DEALER, p->endpoint, &p->dealer) != 0)
        CMN_ERR(SUB, "event=decide_reconnect_failed endpoint=%s", p->endpoint);
    p->pdp_down_until = now + p->deadline_ms;
    fail_outstanding(p, CMN_EAGAIN);
}

/* The answer of q, packed as an Envelope with a DecisionResponse (what a single question
 * gets), from the batch answer env; a missing one fails q. */
static void deliver_one_of_batch(cse_pep_pending *pp, question *q, const Tep__Envelope *env)
{
    const Tep__DecisionBatchResponse *b = env->decide_batch_resp;
    Tep__Envelope one = TEP__ENVELOPE__INIT;
    uint8_t *buf = NULL;
    size_t len = 0;

    if (b == NULL || q->index >= b->n_decisions || b->decisions[q->index] == NULL) {
        question_end(pp, q, CMN_EPROTO, NULL, 0);
        return;
    }
    one.version = env->version;
    one.request_id = env->request_id;
    one.sender = env->sender;
    one.body_case = TEP__ENVELOPE__BODY_DECIDE_RESP;
    one.decide_resp = b->decisions[q->index];
    len = tep__envelope__get_packed_size(&one);
    if ((buf = malloc(len ? len : 1)) != NULL)
        tep__envelope__pack(&one, buf);
    question_end(pp, q, buf != NULL ? 0 : CMN_ENOMEM, buf, buf != NULL ? len : 0);
}

/* An answer from the DEALER: to the question with its request_id (a batch answer: to
 * every question it carried), else dropped (late or stale). env is consumed. */
static void deliver(cse_pep *p, Tep__Envelope *env)
{
    size_t len = tep__envelope__get_packed_size(env);
    bool batch = env->body_case == TEP__ENVELOPE__BODY_DECIDE_BATCH_RESP;

    for (cse_pep_pending *pp = p->asking; pp != NULL; pp = pp->next) {
        bool found = false;
        for (size_t i = 0; i < pp->n; i++) {
            question *q = &pp->q[i];
            uint8_t *buf;
            if (q->rc != Q_ASKED || q->queued != NULL || q->request_id != env->request_id)
                continue;
            found = true;
            if (batch) {
                deliver_one_of_batch(pp, q, env);
                continue;
            }
            if ((buf = malloc(len ? len : 1)) != NULL)
                tep__envelope__pack(env, buf);
            question_end(pp, q, buf != NULL ? 0 : CMN_ENOMEM, buf, buf != NULL ? len : 0);
            break;
        }
        if (found) {
            p->pdp_down_until = 0;
            p->answered_ms = cmn_mono_ms();
            cmn_bus_env_free(env);
            return;
        }
    }
    CMN_DEBUG(SUB, "event=late_answer_dropped request_id=%llu",
              (unsigned long long)env->request_id);
    cmn_bus_env_free(env);
}

/* Past its deadline a question fails (CMN_ETIMEOUT); then the PDP counts as lost. */
static void expire(cse_pep *p, int64_t now)
{
    bool lost = false;

    for (cse_pep_pending *pp = p->asking, *next; pp != NULL; pp = next) {
        next = pp->next;
        for (size_t i = 0; i < pp->n && pp->listed; i++) {
            if (pp->q[i].rc == Q_ASKED && pp->q[i].deadline_ms <= now) {
                question_end(pp, &pp->q[i], CMN_ETIMEOUT, NULL, 0);
                lost = true;
            }
        }
    }
    if (lost)
        pdp_lost(p, now);
}

int cse_pep_fd(cse_pep *p)
{
    return p->remote && p->dealer != NULL ? cmn_bus_fd(p->dealer) : -1;
}

void cse_pep_process(cse_pep *p, int64_t now_ms)
{
    Tep__Envelope *env = NULL;
    int rc;

    if (!p->remote)
        return;
    while (p->dealer != NULL && (rc = cmn_bus_recv(p->dealer, NULL, NULL, &env)) != CMN_EAGAIN) {
        if (rc == 0)
            deliver(p, env);
        else if (rc != CMN_ECORRUPT)
            break;
        env = NULL;
    }
    expire(p, now_ms);
}

int cse_pep_next_ms(const cse_pep *p, int64_t now_ms)
{
    int64_t first = -1;

    for (const cse_pep_pending *pp = p->asking; pp != NULL; pp = pp->next) {
        for (size_t i = 0; i < pp->n; i++) {
            if (pp->q[i].rc == Q_ASKED && (first < 0 || pp->q[i].deadline_ms < first))
                first = pp->q[i].deadline_ms;
        }
    }
    if (first < 0)
        return -1;
    return first <= now_ms ? 0 : (int)(first - now_ms);
}

/* ---- asking ------------------------------------------------------------------------ */

/* Blocking: waits for the answer to request_id until the deadline. Only where a request
 * is not parked (see cse_pep_begin); other answers that arrive meanwhile go to their
 * parked requests. */
static int await_answer(cse_pep *p, uint64_t request_id, Tep__Envelope__BodyCase want,
                        Tep__Envelope **ret)
{
    int64_t end = cmn_mono_ms() + p->deadline_ms;
    Tep__Envelope *env = NULL;
    int rc;

    for (;;) {
        int64_t left = end - cmn_mono_ms();
        if (left <= 0)
            return CMN_ETIMEOUT;
        rc = cmn_bus_recv_wait(p->dealer, (int)left, NULL, NULL, &env);
        if (rc == CMN_ECORRUPT)
            continue;
        if (rc != 0)
            return rc;
        if (env->request_id == request_id && env->body_case == want)
            break;
        deliver(p, env);
        env = NULL;
    }
    *ret = env;
    return 0;
}

/* env gets sender and a fresh request_id, its body kept; then it is sent. */
static int send_question(cse_pep *p, Tep__Envelope *env)
{
    Tep__Envelope body = *env; /* env_init clears the oneof: put it back */

    cmn_bus_env_init(env, p->sender, 0);
    env->body_case = body.body_case;
    env->decide_req = body.decide_req; /* the oneof's pointer, whatever its case */
    return p->dealer != NULL ? cmn_bus_send(p->dealer, NULL, 0, env) : CMN_ESTATE;
}

static int ask_blocking(cse_pep *p, Tep__Envelope *env, Tep__Envelope__BodyCase want,
                        Tep__Envelope **ret)
{
    int rc = send_question(p, env);

    if (rc == 0)
        rc = await_answer(p, env->request_id, want, ret);
    if (rc != 0) {
        pdp_lost(p, cmn_mono_ms());
    } else {
        p->pdp_down_until = 0;
        p->answered_ms = cmn_mono_ms();
    }
    return rc;
}

static int answer_of(const question *q, Tep__Envelope__BodyCase want, Tep__Envelope **ret)
{
    if (q->rc != 0)
        return q->rc;
    *ret = tep__envelope__unpack(NULL, q->answer_len, q->answer);
    if (*ret != NULL && (*ret)->body_case == want)
        return 0;
    cmn_bus_env_free(*ret);
    *ret = NULL;
    return CMN_EPROTO;
}

/* Parked: the answer given before, or the question sent now without waiting
 * (*ret_parked: the request's result is provisional). */
static int ask_parked(cse_pep *p, cse_pep_pending *pp, Tep__Envelope *env,
                      Tep__Envelope__BodyCase want, Tep__Envelope **ret, bool *ret_parked)
{
    uint8_t key[CMN_SHA256_LEN];
    int64_t now = cmn_mono_ms();
    question *q;
    int rc;

    if ((rc = question_key(env, key)) != 0)
        return rc;
    if ((q = find_question(pp, key)) != NULL && q->rc != Q_ASKED)
        return answer_of(q, want, ret);
    if (q != NULL) {
        *ret_parked = true;
        return CMN_EAGAIN; /* asked earlier in this pass */
    }
    if (p->pdp_down_until > now)
        return CMN_EAGAIN; /* an earlier answer was lost: Deny at once (pdp_unavailable) */
    if (p->outstanding >= OUTSTANDING_MAX || pp->n >= PENDING_QUESTIONS_MAX ||
        (pp->listed && pp->pep != p) || (q = add_question(pp, key)) == NULL)
        return CMN_ERANGE;
    if (env->body_case == TEP__ENVELOPE__BODY_DECIDE_REQ && env->decide_req != NULL) {
        /* sent with the other questions of this pass when it ends (send_queued) */
        q->queued_len = tep__decision_request__get_packed_size(env->decide_req);
        if ((q->queued = malloc(q->queued_len ? q->queued_len : 1)) == NULL) {
            pp->n--;
            return CMN_ENOMEM;
        }
        tep__decision_request__pack(env->decide_req, q->queued);
    } else if ((rc = send_question(p, env)) != 0) {
        pp->n--;
        pdp_lost(p, now);
        return rc;
    }
    *ret_parked = true;
    q->request_id = env->request_id;
    q->deadline_ms = now + p->deadline_ms;
    q->rc = Q_ASKED;
    pp->outstanding++;
    p->outstanding++;
    pending_list(p, pp);
    return CMN_EAGAIN;
}

/* One message for the queued questions qs[0..n): a DecisionRequest alone, or a
 * DecisionBatchRequest. A send that fails loses the PDP (every question outstanding
 * fails: Deny, pdp_unavailable). */
static void send_batch(cse_pep *p, question **qs, size_t n)
{
    Tep__DecisionRequest *rq[BATCH_MAX] = {0};
    Tep__DecisionBatchRequest b = TEP__DECISION_BATCH_REQUEST__INIT;
    Tep__Envelope env = TEP__ENVELOPE__INIT;
    int rc = 0;

    for (size_t i = 0; i < n; i++) {
        rq[i] = tep__decision_request__unpack(NULL, qs[i]->queued_len, qs[i]->queued);
        if (rq[i] == NULL)
            rc = CMN_ENOMEM;
        free(qs[i]->queued);
        qs[i]->queued = NULL;
        qs[i]->index = i;
    }
    if (rc == 0 && n == 1) {
        env.body_case = TEP__ENVELOPE__BODY_DECIDE_REQ;
        env.decide_req = rq[0];
    } else if (rc == 0) {
        b.n_decisions = n;
        b.decisions = rq;
        env.body_case = TEP__ENVELOPE__BODY_DECIDE_BATCH_REQ;
        env.decide_batch_req = &b;
    }
    if (rc == 0)
        rc = send_question(p, &env);
    for (size_t i = 0; i < n; i++) {
        qs[i]->request_id = env.request_id;
        tep__decision_request__free_unpacked(rq[i], NULL);
    }
    if (rc == 0)
        return;
    CMN_WARN(SUB, "event=decide_send_failed decisions=%zu err=%s", n, cmn_strerror(rc));
    pdp_lost(p, cmn_mono_ms());
}

/* The questions pp queued in its pass, sent in as few messages as BATCH_MAX allows. */
static void send_queued(cse_pep *p, cse_pep_pending *pp)
{
    question *qs[BATCH_MAX];
    size_t n = 0;

    for (size_t i = 0; i < pp->n; i++) {
        if (pp->q[i].rc != Q_ASKED || pp->q[i].queued == NULL)
            continue;
        qs[n++] = &pp->q[i];
        if (n == BATCH_MAX) {
            send_batch(p, qs, n);
            n = 0;
        }
    }
    if (n > 0)
        send_batch(p, qs, n);
}

static int ask(cse_pep *p, Tep__Envelope *env, Tep__Envelope__BodyCase want, Tep__Envelope **ret,
               bool *ret_parked)
{
    *ret = NULL;
    *ret_parked = false;
    if (!p->remote)
        return CMN_ESTATE;
    if (p->current != NULL)
        return ask_parked(p, p->current, env, want, ret, ret_parked);
    if (p->pdp_down_until > cmn_mono_ms())
        return CMN_EAGAIN;
    return ask_blocking(p, env, want, ret);
}

int cse_pep_ask(cse_pep *p, Tep__Envelope *env, Tep__Envelope__BodyCase want, Tep__Envelope **ret)
{
    bool parked;

    return ask(p, env, want, ret, &parked);
}

/* ---- decision cache ------------------------------------------------------------------ */

/* false for what must not be cached: dynamic privileges (tokens can be revoked, DAS
 * grants expire) and time-window contexts (actw: the answer changes with the clock). */
static bool cacheable(const Tep__DecisionRequest *rq)
{
    if (rq->n_token_acp_json > 0 || rq->n_dynamic_acp_json > 0)
        return false;
    for (size_t i = 0; i < rq->n_acp_json; i++)
        if (strstr(rq->acp_json[i], "\"actw\"") != NULL)
            return false;
    return true;
}

/* The request but its time and its target's path: the rule set reads neither (actw,
 * the one rule that reads the clock, is not cached), while what it reads of the target,
 * its type, specialization, policies and creator, is in the key. So the instances of a
 * container (`la` after each new one) share one entry. */
static bool cache_key(const Tep__DecisionRequest *rq, uint8_t key[CMN_SHA256_LEN])
{
    Tep__DecisionRequest copy = *rq;

    copy.now = 0;
    copy.target = (char *)"";
    return cmn_bus_msg_sha256(&copy.base, key) == 0;
}

static cache_entry *cache_set(cse_pep *p, const uint8_t key[CMN_SHA256_LEN])
{
    return &p->cache[(((size_t)key[0] << 8 | key[1]) % CACHE_SETS) * CACHE_WAYS];
}

static cache_entry *cache_find(cse_pep *p, const uint8_t key[CMN_SHA256_LEN], int64_t now)
{
    cache_entry *set = cache_set(p, key);

    for (size_t i = 0; i < CACHE_WAYS; i++) {
        if (set[i].until_ms > now && memcmp(set[i].key, key, CMN_SHA256_LEN) == 0)
            return &set[i];
    }
    return NULL;
}

/* Into the way holding the same key, else the one that expires first (empty ways: 0). */
static void cache_put(cse_pep *p, const uint8_t key[CMN_SHA256_LEN], const cse_decision *d)
{
    cache_entry *set = cache_set(p, key), *e = &set[0];

    for (size_t i = 0; i < CACHE_WAYS; i++) {
        if (memcmp(set[i].key, key, CMN_SHA256_LEN) == 0) {
            e = &set[i];
            break;
        }
        if (set[i].until_ms < e->until_ms)
            e = &set[i];
    }
    memcpy(e->key, key, CMN_SHA256_LEN);
    e->until_ms = cmn_mono_ms() + p->cache_ms;
    e->permit = d->permit;
    snprintf(e->rule, sizeof(e->rule), "%s", d->rule);
}

void cse_pep_set_cache(cse_pep *p, int cache_ms)
{
    p->cache_ms = cache_ms > 0 ? cache_ms : 0;
    cse_pep_cache_clear(p);
}

void cse_pep_cache_clear(cse_pep *p)
{
    memset(p->cache, 0, sizeof(p->cache));
}

uint64_t cse_pep_cache_hits(const cse_pep *p)
{
    return p->cache_hits;
}

static void decide_remote(cse_pep *p, const Tep__DecisionRequest *rq, cse_decision *ret)
{
    Tep__Envelope env = TEP__ENVELOPE__INIT;
    Tep__Envelope *in = NULL;
    int rc;

    bool parked;

    env.body_case = TEP__ENVELOPE__BODY_DECIDE_REQ;
    env.decide_req = (Tep__DecisionRequest *)rq;
    rc = ask(p, &env, TEP__ENVELOPE__BODY_DECIDE_RESP, &in, &parked);
    if (parked) { /* asked without waiting: the request is handled again when answered */
        deny(ret, CSE_PEP_RULE_PENDING);
        return;
    }
    if (rc != 0) {
        CMN_WARN(SUB, "event=decision_timeout originator=%s target=%s deadline_ms=%d err=%s",
                 rq->originator, rq->target, p->deadline_ms, cmn_strerror(rc));
        deny(ret, rc == CMN_EAGAIN ? "pdp_unavailable" : "decision_timeout");
        return;
    }
    if (in->decide_resp->permit)
        permit(ret, in->decide_resp->rule);
    else
        deny(ret, in->decide_resp->rule);
    if (!ret->permit && in->decide_resp->rsc == CMN_RSC_TARGET_NOT_REACHABLE)
        ret->rsc = CMN_RSC_TARGET_NOT_REACHABLE; /* the PDP is busy for this originator */
    cmn_bus_env_free(in);
}

/* A decision of the PDP, from the cache when an identical question (policies included)
 * was answered less than cache_ms ago. Only answers of the PDP are cached, never a
 * timeout. */
static void decide_cached(cse_pep *p, const Tep__DecisionRequest *rq, cse_decision *ret)
{
    uint8_t key[CMN_SHA256_LEN];
    bool keyed = p->cache_ms > 0 && cacheable(rq) && cache_key(rq, key);
    cache_entry *e = keyed ? cache_find(p, key, cmn_mono_ms()) : NULL;

    if (e != NULL) {
        if (e->permit)
            permit(ret, e->rule);
        else
            deny(ret, e->rule);
        p->cache_hits++;
        return;
    }
    decide_remote(p, rq, ret);
    if (keyed && strcmp(ret->rule, "decision_timeout") != 0 &&
        strcmp(ret->rule, "pdp_unavailable") != 0 && strcmp(ret->rule, CSE_PEP_RULE_PENDING) != 0 &&
        ret->rsc != CMN_RSC_TARGET_NOT_REACHABLE)
        cache_put(p, key, ret);
}

void cse_pep_decide(cse_pep *p, const Tep__DecisionRequest *rq, cse_decision *ret)
{
    deny(ret, "indeterminate");
    if (rq->is_admin) /* the rule set permits the authenticated admin: no round trip */
        cse_pep_evaluate_static(rq, ret);
    else if (p->remote)
        decide_cached(p, rq, ret);
    else
        cse_pep_evaluate_local(rq, ret);
}

bool cse_pep_is_remote(const cse_pep *p)
{
    return p->remote;
}
