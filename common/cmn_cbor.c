/* oneM2M CBOR (TS-0004 8.5, RFC 8949) <-> JSON values; see cmn_cbor.h. */
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_cbor.h"
#include "cmn_err.h"

enum { MT_UINT, MT_NINT, MT_BYTES, MT_TEXT, MT_ARRAY, MT_MAP, MT_TAG, MT_SIMPLE };
enum {
    AI_INDEFINITE = 31,
    SV_FALSE = 20,
    SV_TRUE = 21,
    SV_NULL = 22,
    AI_F16 = 25,
    AI_F32 = 26,
    AI_F64 = 27
};
#define BREAK 0xff

/* ---- decoding ---------------------------------------------------------------------- */

typedef struct {
    const uint8_t *p;
    size_t left;
} reader;

typedef struct {
    unsigned major;
    unsigned ai;  /* additional information (low 5 bits) */
    uint64_t arg; /* value, length or simple value; 0 when indefinite */
} head;

static int read_be(reader *r, size_t n, uint64_t *ret)
{
    uint64_t v = 0;

    if (r->left < n)
        return CMN_EINVAL;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | r->p[i];
    r->p += n;
    r->left -= n;
    *ret = v;
    return 0;
}

static int read_head(reader *r, head *h)
{
    if (r->left == 0)
        return CMN_EINVAL;
    h->major = r->p[0] >> 5;
    h->ai = r->p[0] & 0x1f;
    r->p++;
    r->left--;
    h->arg = h->ai;
    if (h->ai < 24)
        return 0;
    if (h->ai <= 27)
        return read_be(r, (size_t)1 << (h->ai - 24), &h->arg);
    if (h->ai < AI_INDEFINITE)
        return CMN_EINVAL; /* 28..30 are reserved */
    h->arg = 0;
    /* indefinite length: strings, arrays and maps; the break (major 7) ends them */
    return h->major >= MT_BYTES && h->major <= MT_MAP ? 0 : CMN_EINVAL;
}

static bool at_break(const reader *r)
{
    return r->left > 0 && r->p[0] == BREAK;
}

/* RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        uint8_t c = s[i];
        size_t k = c < 0x80                 ? 0
                   : c >= 0xc2 && c <= 0xdf ? 1
                   : c >= 0xe0 && c <= 0xef ? 2
                   : c >= 0xf0 && c <= 0xf4 ? 3
                                            : 4;
        if (k == 4 || n - i <= k)
            return false; /* not a lead byte, or the sequence is cut short */
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
        }
        if ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] > 0x9f) ||
            (c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] > 0x8f))
            return false;
        i += k + 1;
    }
    return true;
}

/* The chunks of an indefinite-length string (RFC 8949 3.2.3), up to its break: their
 * total length, or, with buf, their bytes copied there. Chunks are definite strings of
 * the same major type. */
static int string_chunks(reader *r, unsigned major, uint8_t *buf, size_t *ret_n)
{
    head c;
    int rc;

    *ret_n = 0;
    while (!at_break(r)) {
        if ((rc = read_head(r, &c)) != 0)
            return rc;
        if (c.major != major || c.ai == AI_INDEFINITE || c.arg > r->left)
            return CMN_EINVAL;
        if (buf != NULL)
            memcpy(buf + *ret_n, r->p, (size_t)c.arg);
        *ret_n += (size_t)c.arg;
        r->p += c.arg;
        r->left -= (size_t)c.arg;
    }
    if (r->left == 0)
        return CMN_EINVAL; /* no break */
    r->p++;
    r->left--;
    return 0;
}

/* A string item (major 2 or 3) whose head is h: *ret_s points into the input, or into
 * *ret_own (malloc'd, the exact size) for an indefinite one made of chunks. */
static int read_string(reader *r, const head *h, const uint8_t **ret_s, size_t *ret_n,
                       uint8_t **ret_own)
{
    reader again = *r;
    uint8_t *buf;
    int rc;

    *ret_own = NULL;
    *ret_n = 0;
    if (h->ai != AI_INDEFINITE) {
        if (h->arg > r->left)
            return CMN_EINVAL;
        *ret_s = r->p;
        *ret_n = (size_t)h->arg;
        r->p += *ret_n;
        r->left -= *ret_n;
        return 0;
    }
    /* measure, then copy: one allocation of the joined length */
    if ((rc = string_chunks(&again, h->major, NULL, ret_n)) != 0)
        return rc;
    if ((buf = malloc(*ret_n + 1)) == NULL)
        return CMN_ENOMEM;
    string_chunks(r, h->major, buf, ret_n);
    *ret_s = buf;
    *ret_own = buf;
    return 0;
}

static int decode_string(reader *r, const head *h, json_t **ret)
{
    const uint8_t *s;
    uint8_t *own;
    size_t n;
    int rc = read_string(r, h, &s, &n, &own);

    if (rc != 0)
        return rc;
    if (!utf8_valid(s, n))
        rc = CMN_EPROTO;
    else if ((*ret = json_stringn_nocheck((const char *)s, n)) == NULL)
        rc = CMN_ENOMEM;
    free(own);
    return rc;
}

static int decode_item(reader *r, unsigned depth, json_t **ret);

/* Each element takes at least one byte: a count beyond the bytes left is a lie. */
static bool count_fits(const reader *r, const head *h, size_t per_item)
{
    return h->ai == AI_INDEFINITE || h->arg <= r->left / per_item;
}

/* true when the container is complete (its count reached, or its break consumed) */
static bool container_done(reader *r, const head *h, uint64_t i)
{
    if (h->ai != AI_INDEFINITE)
        return i == h->arg;
    if (!at_break(r))
        return false;
    r->p++;
    r->left--;
    return true;
}

static int decode_array(reader *r, const head *h, unsigned depth, json_t **ret)
{
    json_t *a, *v;
    int rc = 0;

    if (!count_fits(r, h, 1))
        return CMN_EINVAL;
    if ((a = json_array()) == NULL)
        return CMN_ENOMEM;
    for (uint64_t i = 0; !container_done(r, h, i); i++) {
        if ((rc = decode_item(r, depth + 1, &v)) != 0)
            break;
        if (json_array_append_new(a, v) != 0) {
            rc = CMN_ENOMEM;
            break;
        }
    }
    if (rc != 0)
        json_decref(a);
    else
        *ret = a;
    return rc;
}

/* A map key: a text or byte string holding UTF-8 without NUL (a C string for jansson),
 * malloc'd into *ret. */
static int decode_key(reader *r, char **ret)
{
    head h;
    const uint8_t *s;
    uint8_t *own;
    size_t n;
    int rc;

    *ret = NULL;
    if ((rc = read_head(r, &h)) != 0)
        return rc;
    if (h.major != MT_TEXT && h.major != MT_BYTES)
        return CMN_EPROTO;
    if ((rc = read_string(r, &h, &s, &n, &own)) != 0)
        return rc;
    if (!utf8_valid(s, n) || memchr(s, '\0', n) != NULL)
        rc = CMN_EPROTO;
    else if ((*ret = malloc(n + 1)) == NULL)
        rc = CMN_ENOMEM;
    else {
        memcpy(*ret, s, n);
        (*ret)[n] = '\0';
    }
    free(own);
    return rc;
}

static int decode_member(reader *r, unsigned depth, json_t *obj)
{
    char *key;
    json_t *v = NULL;
    int rc = decode_key(r, &key);

    if (rc == 0 && json_object_get(obj, key) != NULL)
        rc = CMN_EPROTO; /* duplicate member name */
    if (rc == 0 && (rc = decode_item(r, depth + 1, &v)) == 0 &&
        json_object_set_new_nocheck(obj, key, v) != 0)
        rc = CMN_ENOMEM;
    free(key);
    return rc;
}

static int decode_map(reader *r, const head *h, unsigned depth, json_t **ret)
{
    json_t *m;
    int rc = 0;

    if (!count_fits(r, h, 2))
        return CMN_EINVAL;
    if ((m = json_object()) == NULL)
        return CMN_ENOMEM;
    for (uint64_t i = 0; !container_done(r, h, i); i++) {
        if ((rc = decode_member(r, depth, m)) != 0)
            break;
    }
    if (rc != 0)
        json_decref(m);
    else
        *ret = m;
    return rc;
}

static double half_to_double(uint16_t bits)
{
    unsigned exp = (bits >> 10) & 0x1f, mant = bits & 0x3ff;
    double v = exp == 0    ? ldexp(mant, -24)
               : exp != 31 ? ldexp(mant + 1024, (int)exp - 25)
               : mant == 0 ? INFINITY
                           : NAN;

    return bits & 0x8000 ? -v : v;
}

static int decode_float(const head *h, json_t **ret)
{
    double d;

    if (h->ai == AI_F16) {
        d = half_to_double((uint16_t)h->arg);
    } else if (h->ai == AI_F32) {
        uint32_t b32 = (uint32_t)h->arg;
        float f;

        memcpy(&f, &b32, sizeof(f));
        d = f;
    } else {
        memcpy(&d, &h->arg, sizeof(d));
    }
    if (!isfinite(d))
        return CMN_EPROTO; /* JSON has no NaN or infinity */
    return (*ret = json_real(d)) != NULL ? 0 : CMN_ENOMEM;
}

static int decode_simple(const head *h, json_t **ret)
{
    if (h->ai >= AI_F16)
        return decode_float(h, ret);
    if (h->ai == 24 && h->arg < 32)
        return CMN_EINVAL; /* RFC 8949 3.3: not well-formed */
    switch (h->arg) {
    case SV_FALSE:
        *ret = json_false();
        return 0;
    case SV_TRUE:
        *ret = json_true();
        return 0;
    case SV_NULL:
        *ret = json_null();
        return 0;
    default:
        return CMN_EPROTO; /* undefined and unassigned simple values */
    }
}

static int decode_int(const head *h, json_t **ret)
{
    if (h->arg > (uint64_t)INT64_MAX)
        return CMN_EPROTO;
    /* major 1 is -1 - arg: never below INT64_MIN since arg <= INT64_MAX */
    *ret = json_integer(h->major == MT_UINT ? (json_int_t)h->arg : -1 - (json_int_t)h->arg);
    return *ret != NULL ? 0 : CMN_ENOMEM;
}

static int decode_item(reader *r, unsigned depth, json_t **ret)
{
    head h;
    int rc = read_head(r, &h);

    if (rc != 0)
        return rc;
    switch (h.major) {
    case MT_UINT:
    case MT_NINT:
        return decode_int(&h, ret);
    case MT_BYTES:
    case MT_TEXT:
        return decode_string(r, &h, ret);
    case MT_SIMPLE:
        return decode_simple(&h, ret);
    default:
        break;
    }
    if (depth >= CMN_CBOR_MAX_DEPTH)
        return CMN_ERANGE;
    if (h.major == MT_ARRAY)
        return decode_array(r, &h, depth, ret);
    if (h.major == MT_MAP)
        return decode_map(r, &h, depth, ret);
    /* a tag: bignums and decimal fractions (2..5) have no JSON form; others are skipped */
    if (h.arg >= 2 && h.arg <= 5)
        return CMN_EPROTO;
    return decode_item(r, depth + 1, ret);
}

int cmn_cbor_decode(const uint8_t *buf, size_t len, json_t **ret)
{
    reader r = {buf, len};
    json_t *v = NULL;
    int rc;

    *ret = NULL;
    if (buf == NULL && len != 0)
        return CMN_EINVAL;
    rc = decode_item(&r, 0, &v);
    if (rc == 0 && r.left != 0)
        rc = CMN_EINVAL; /* one item, nothing after it */
    if (rc != 0) {
        json_decref(v);
        return rc;
    }
    *ret = v;
    return 0;
}

/* ---- encoding ---------------------------------------------------------------------- */

typedef struct {
    uint8_t *b;
    size_t len, cap;
    int err;
} writer;

static void put(writer *w, const void *p, size_t n)
{
    if (w->err != 0)
        return;
    if (n > w->cap - w->len) {
        size_t cap = w->cap != 0 ? w->cap : 64;
        uint8_t *nb;

        while (n > cap - w->len) {
            if (cap > SIZE_MAX / 2) {
                w->err = CMN_ENOMEM;
                return;
            }
            cap *= 2;
        }
        nb = realloc(w->b, cap);

        if (nb == NULL) {
            w->err = CMN_ENOMEM;
            return;
        }
        w->b = nb;
        w->cap = cap;
    }
    memcpy(w->b + w->len, p, n);
    w->len += n;
}

/* Shortest-form head (RFC 8949 4.2.1). */
static void put_head(writer *w, unsigned major, uint64_t arg)
{
    uint8_t h[9];
    size_t n = arg < 24 ? 0 : arg <= 0xff ? 1 : arg <= 0xffff ? 2 : arg <= 0xffffffffu ? 4 : 8;

    h[0] = (uint8_t)(major << 5 | (n == 0 ? arg : n == 1 ? 24 : n == 2 ? 25 : n == 4 ? 26 : 27));
    for (size_t i = 0; i < n; i++)
        h[1 + i] = (uint8_t)(arg >> (8 * (n - 1 - i)));
    put(w, h, n + 1);
}

static void put_real(writer *w, double d)
{
    float f;
    uint8_t h[9];
    uint64_t bits;
    size_t n;

    if (fabs(d) <= FLT_MAX && (double)(f = (float)d) == d) {
        uint32_t b32;

        memcpy(&b32, &f, sizeof(b32));
        bits = b32;
        n = 4;
        h[0] = (uint8_t)(MT_SIMPLE << 5 | AI_F32);
    } else {
        memcpy(&bits, &d, sizeof(bits));
        n = 8;
        h[0] = (uint8_t)(MT_SIMPLE << 5 | AI_F64);
    }
    for (size_t i = 0; i < n; i++)
        h[1 + i] = (uint8_t)(bits >> (8 * (n - 1 - i)));
    put(w, h, n + 1);
}

static void put_text(writer *w, const char *s, size_t n)
{
    put_head(w, MT_TEXT, n);
    put(w, s, n);
}

static void encode_value(writer *w, const json_t *v, unsigned depth);

static void encode_container(writer *w, const json_t *v, unsigned depth)
{
    const char *key;
    json_t *m;
    size_t i;

    if (depth >= CMN_CBOR_MAX_DEPTH) {
        w->err = w->err != 0 ? w->err : CMN_ERANGE;
        return;
    }
    if (json_is_array(v)) {
        put_head(w, MT_ARRAY, json_array_size(v));
        json_array_foreach(v, i, m)
            encode_value(w, m, depth + 1);
        return;
    }
    put_head(w, MT_MAP, json_object_size(v));
    json_object_foreach((json_t *)v, key, m) {
        put_text(w, key, strlen(key));
        encode_value(w, m, depth + 1);
    }
}

static void encode_value(writer *w, const json_t *v, unsigned depth)
{
    json_int_t n;

    switch (json_typeof(v)) {
    case JSON_OBJECT:
    case JSON_ARRAY:
        encode_container(w, v, depth);
        break;
    case JSON_STRING:
        put_text(w, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        n = json_integer_value(v);
        if (n >= 0)
            put_head(w, MT_UINT, (uint64_t)n);
        else
            put_head(w, MT_NINT, (uint64_t)(-(n + 1)));
        break;
    case JSON_REAL:
        put_real(w, json_real_value(v));
        break;
    case JSON_TRUE:
        put_head(w, MT_SIMPLE, SV_TRUE);
        break;
    case JSON_FALSE:
        put_head(w, MT_SIMPLE, SV_FALSE);
        break;
    default:
        put_head(w, MT_SIMPLE, SV_NULL);
        break;
    }
}

int cmn_cbor_encode(const json_t *v, uint8_t **ret, size_t *ret_len)
{
    writer w = {0};

    *ret = NULL;
    *ret_len = 0;
    if (v == NULL)
        return CMN_EINVAL;
    encode_value(&w, v, 0);
    if (w.err != 0) {
        free(w.b);
        return w.err;
    }
    *ret = w.b;
    *ret_len = w.len;
    return 0;
}

/* ---- text conveniences ------------------------------------------------------------- */

int cmn_cbor_to_json_text(const uint8_t *buf, size_t len, char **ret)
{
    json_t *v;
    int rc = cmn_cbor_decode(buf, len, &v);

    *ret = NULL;
    if (rc != 0)
        return rc;
    *ret = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(v);
    return *ret != NULL ? 0 : CMN_ENOMEM;
}

int cmn_cbor_from_json_text(const char *text, size_t len, uint8_t **ret, size_t *ret_len)
{
    json_error_t jerr;
    json_t *v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    int rc;

    *ret = NULL;
    *ret_len = 0;
    if (v == NULL)
        return CMN_EINVAL;
    rc = cmn_cbor_encode(v, ret, ret_len);
    json_decref(v);
    return rc;
}
