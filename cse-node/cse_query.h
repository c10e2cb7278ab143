/* The request parameters a oneM2M CoAP client carries in Uri-Query (TS-0008 6.2.2.3,
 * short names of TS-0004 8.2.2): result content (rcn), desired identifier result type
 * (drt) and the filter criteria (TS-0004 7.3.3.17.17: fu, ty, lbl, cra/crb, ms/us,
 * sts/stb, lim, lvl, ofst). Socket- and store-free. */
#ifndef TEP_CSE_QUERY_H
#define TEP_CSE_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CSE_QUERY_MAX_TY 8
#define CSE_QUERY_NO_TIME INT64_MIN
#define CSE_QUERY_MAX_LBL 8

/* Result content (TS-0004 6.3.4.2.11) */
enum {
    CSE_RCN_NOTHING = 0,
    CSE_RCN_ATTRS = 1,
    CSE_RCN_HIER_ADDR = 2,
    CSE_RCN_HIER_ADDR_ATTRS = 3,
    CSE_RCN_ATTRS_CHILDREN = 4,
    CSE_RCN_ATTRS_CHILD_REFS = 5,
    CSE_RCN_CHILD_REFS = 6,
    CSE_RCN_ORIGINAL = 7,
    CSE_RCN_CHILDREN = 8
};

typedef struct {
    int rcn; /* -1 when absent */
    int drt; /* 1 structured (default), 2 unstructured */
    int fu;  /* 1 discovery, 2 conditional retrieval (default) */
    unsigned ty[CSE_QUERY_MAX_TY];
    size_t n_ty;
    char lbl[CSE_QUERY_MAX_LBL][128];
    size_t n_lbl;
    int64_t cra, crb, ms, us; /* Unix seconds, CSE_QUERY_NO_TIME when absent */
    int64_t sts, stb;         /* stateTag smaller / bigger, -1 when absent */
    long lim, lvl;            /* -1 when absent */
    long ofst;                /* -1 when absent; 1 = start at the first (TS-0004 7.3.3.17.15) */
    bool has_fc;              /* any filter criterion other than fu was given */
} cse_query;

/* Parses "k=v&k=v" (NULL or "" is fine: defaults). Repeated ty/lbl add values; values
 * may also be '+'-separated lists. Unknown parameters are ignored. Returns 0 or
 * CMN_EINVAL with the offending name in ret_reason. */
int cse_query_parse(const char *q, cse_query *ret, char *ret_reason, size_t rlen);

#endif
